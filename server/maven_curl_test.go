package server_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pkgreg/registry/server/servertest"
)

// The Maven repository driven with plain HTTP calls, as curl (or Maven's
// HTTP transport) makes them. The real mvn is driven in maven_test.go.

// mvn drives the Maven repository endpoints of one project.
type mvn struct {
	e       *servertest.Env
	t       *testing.T
	project string
	token   string
}

func (m mvn) url(path string) string {
	return "/api/v4/projects/" + m.project + "/packages/maven/" + path
}

func (m mvn) put(path string, body []byte) (int, string) {
	m.t.Helper()
	status, b, _ := m.e.Do(m.t, "PUT", m.url(path), bytes.NewReader(body), tok(m.token))
	return status, string(b)
}

func (m mvn) mustPut(path string, body []byte) {
	m.t.Helper()
	if status, b := m.put(path, body); status/100 != 2 {
		m.t.Fatalf("PUT %s: %d %s", path, status, b)
	}
}

func (m mvn) get(path string) (int, string, http.Header) {
	m.t.Helper()
	status, b, h := m.e.Do(m.t, "GET", m.url(path), nil, tok(m.token))
	return status, string(b), h
}

// deploy PUTs a file and its sha1 and md5, as mvn deploy does.
func (m mvn) deploy(path string, body []byte) {
	m.t.Helper()
	m.mustPut(path, body)
	m.mustPut(path+".sha1", []byte(sha1hex(body)))
	m.mustPut(path+".md5", []byte(md5hex(body)))
}

// metadata reads and decodes a maven-metadata.xml, checking its sidecars.
func (m mvn) metadata(dir string) mavenMetadata {
	m.t.Helper()
	status, body, h := m.get(dir + "/maven-metadata.xml")
	if status != 200 {
		m.t.Fatalf("GET %s/maven-metadata.xml: %d %s", dir, status, body)
	}
	if ct := h.Get("Content-Type"); !strings.Contains(ct, "xml") {
		m.t.Fatalf("metadata Content-Type %q", ct)
	}
	if status, sum, _ := m.get(dir + "/maven-metadata.xml.sha1"); status != 200 || sum != sha1hex([]byte(body)) {
		m.t.Fatalf("metadata .sha1: %d %q, the body's is %s", status, sum, sha1hex([]byte(body)))
	}
	return mavenMetadata{*servertest.ParseMavenMetadata(m.t, []byte(body)), body}
}

// mavenMetadata is a decoded maven-metadata.xml with its raw text.
type mavenMetadata struct {
	servertest.MavenMetadata
	raw string
}

func sha1hex(b []byte) string   { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }
func md5hex(b []byte) string    { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
func sha512hex(b []byte) string { s := sha512.Sum512(b); return hex.EncodeToString(s[:]) }

// newMavenProject starts a registry where alice owns the private Maven
// project acme/libs.
func newMavenProject(t *testing.T) (*servertest.Env, mvn) {
	t.Helper()
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	id := e.CreateProjectWith(t, alice, servertest.Project{Namespace: "acme", Path: "libs", Format: "MAVEN", Visibility: "PRIVATE"})
	return e, mvn{e: e, t: t, project: strconv.Itoa(id), token: alice}
}

func TestMavenCurlDeployAndDownload(t *testing.T) {
	e, m := newMavenProject(t)
	pom := []byte("<project><modelVersion>4.0.0</modelVersion><groupId>com.example</groupId></project>")
	jar := []byte("PK\x03\x04 not really a jar, but bytes all the same")
	m.deploy("com/example/my-app/1.0/my-app-1.0.pom", pom)
	m.deploy("com/example/my-app/1.0/my-app-1.0.jar", jar)
	// Gradle's extra sidecars and its module file.
	m.mustPut("com/example/my-app/1.0/my-app-1.0.module", []byte(`{"formatVersion":"1.1"}`))
	if status, b := m.put("com/example/my-app/1.0/my-app-1.0.jar.sha256", []byte(sha(jar))); status != http.StatusNoContent {
		t.Fatalf("matching sha256: %d %s", status, b)
	}
	if status, b := m.put("com/example/my-app/1.0/my-app-1.0.jar.sha512", []byte(sha512hex(jar))); status != http.StatusNoContent {
		t.Fatalf("matching sha512: %d %s", status, b)
	}
	// Signatures are files.
	m.mustPut("com/example/my-app/1.0/my-app-1.0.jar.asc", []byte("-----BEGIN PGP SIGNATURE-----"))

	status, body, h := m.get("com/example/my-app/1.0/my-app-1.0.jar")
	if status != 200 || body != string(jar) {
		t.Fatalf("GET jar: %d %q", status, body)
	}
	if h.Get("X-Checksum-Sha1") != sha1hex(jar) || h.Get("X-Checksum-MD5") != md5hex(jar) || h.Get("X-Checksum-Sha256") != sha(jar) ||
		h.Get("X-Checksum-Sha512") != sha512hex(jar) || h.Get("ETag") != `"`+sha(jar)+`"` {
		t.Fatalf("GET jar headers: %v", h)
	}
	for ext, want := range map[string]string{"sha1": sha1hex(jar), "md5": md5hex(jar), "sha256": sha(jar), "sha512": sha512hex(jar)} {
		if status, body, _ := m.get("com/example/my-app/1.0/my-app-1.0.jar." + ext); status != 200 || body != want {
			t.Fatalf("GET jar.%s: %d %q, want %q", ext, status, body, want)
		}
	}
	if status, body, _ := m.get("com/example/my-app/1.0/my-app-1.0.pom"); status != 200 || body != string(pom) {
		t.Fatalf("GET pom: %d %q", status, body)
	}
	if status, body, _ := m.get("com/example/my-app/1.0/my-app-1.0.jar.asc"); status != 200 || !strings.Contains(body, "PGP") {
		t.Fatalf("GET asc: %d %q", status, body)
	}
	// HEAD, Range and a revalidation, as for generic files.
	status, b, h := e.Do(t, "HEAD", m.url("com/example/my-app/1.0/my-app-1.0.jar"), nil, tok(m.token))
	if status != 200 || len(b) != 0 || h.Get("Content-Length") != strconv.Itoa(len(jar)) || h.Get("X-Checksum-Sha1") != sha1hex(jar) {
		t.Fatalf("HEAD: %d %q %v", status, b, h)
	}
	hdr := tok(m.token)
	hdr["Range"] = "bytes=0-3"
	if status, b, _ := e.Do(t, "GET", m.url("com/example/my-app/1.0/my-app-1.0.jar"), nil, hdr); status != 206 || string(b) != "PK\x03\x04" {
		t.Fatalf("Range: %d %q", status, b)
	}
	hdr = tok(m.token)
	hdr["If-None-Match"] = `"` + sha(jar) + `"`
	if status, _, _ := e.Do(t, "GET", m.url("com/example/my-app/1.0/my-app-1.0.jar"), nil, hdr); status != 304 {
		t.Fatalf("If-None-Match: %d", status)
	}
	// Basic with the token as password, as settings.xml's <server> sends it.
	basic := map[string]string{"Authorization": servertest.BasicAuth("alice", m.token)}
	if status, _, _ := e.Do(t, "GET", m.url("com/example/my-app/1.0/my-app-1.0.jar"), nil, basic); status != 200 {
		t.Fatalf("Basic: %d", status)
	}
	// One package, GitLab's coordinates; sidecars are not files.
	status, b, _ = e.Do(t, "GET", "/api/v4/projects/"+m.project+"/packages", nil, tok(m.token))
	var pkgs []struct {
		ID          int
		Name        string
		Version     string
		PackageType string `json:"package_type"`
	}
	if status != 200 || json.Unmarshal(b, &pkgs) != nil || len(pkgs) != 1 || pkgs[0].Name != "com/example/my-app" ||
		pkgs[0].Version != "1.0" || pkgs[0].PackageType != "maven" {
		t.Fatalf("packages: %d %s", status, b)
	}
	status, b, _ = e.Do(t, "GET", fmt.Sprintf("/api/v4/projects/%s/packages/%d/package_files", m.project, pkgs[0].ID), nil, tok(m.token))
	var files []struct {
		FileName string `json:"file_name"`
	}
	_ = json.Unmarshal(b, &files)
	var names []string
	for _, f := range files {
		names = append(names, f.FileName)
	}
	slices.Sort(names)
	if want := []string{"my-app-1.0.jar", "my-app-1.0.jar.asc", "my-app-1.0.module", "my-app-1.0.pom"}; !slices.Equal(names, want) {
		t.Fatalf("package files %v, want %v", names, want)
	}
	if status, _, _ := m.get("com/example/my-app/1.0/missing-1.0.jar"); status != 404 {
		t.Fatalf("a missing file: %d", status)
	}
	if status, _, _ := m.get("com/example/my-app/1.0/missing-1.0.jar.sha1"); status != 404 {
		t.Fatalf("a missing file's sha1: %d", status)
	}
	if status, _, _ := m.get("com/example/other/maven-metadata.xml"); status != 404 {
		t.Fatalf("a missing artifact's metadata: %d", status)
	}
}

func TestMavenCurlMetadataVersions(t *testing.T) {
	e, m := newMavenProject(t)
	for _, v := range []string{"1.10", "1.2", "1.9", "2.0-SNAPSHOT"} {
		file := "my-app-" + v + ".pom"
		if strings.HasSuffix(v, "SNAPSHOT") {
			file = "my-app-2.0-20261201.120000-1.pom"
		}
		m.deploy("com/example/my-app/"+v+"/"+file, []byte("<project>"+v+"</project>"))
	}
	// mvn PUTs its own metadata: accepted, not stored, and it does not
	// change what the server renders.
	before := e.StoredState(t)
	stale := `<metadata><groupId>com.example</groupId><artifactId>my-app</artifactId><versioning><latest>0.1</latest>` +
		`<versions><version>0.1</version></versions></versioning></metadata>`
	for _, p := range []string{"com/example/my-app/maven-metadata.xml", "com/example/my-app/maven-metadata.xml.sha1",
		"com/example/my-app/maven-metadata.xml.md5"} {
		if status, b := m.put(p, []byte(stale)); status != 201 {
			t.Fatalf("PUT %s: %d %s", p, status, b)
		}
	}
	if after := e.StoredState(t); after != before {
		t.Fatalf("a metadata PUT stored something: %s -> %s", before, after)
	}
	md := m.metadata("com/example/my-app")
	if md.GroupID != "com.example" || md.ArtifactID != "my-app" || !slices.Equal(md.Versioning.Versions, []string{"1.2", "1.9", "1.10", "2.0-SNAPSHOT"}) ||
		md.Versioning.Latest != "2.0-SNAPSHOT" || md.Versioning.Release != "1.10" || len(md.Versioning.LastUpdated) != 14 {
		t.Fatalf("metadata:\n%s", md.raw)
	}
	// A revalidation is a 304.
	_, body, h := m.get("com/example/my-app/maven-metadata.xml")
	hdr := tok(m.token)
	hdr["If-None-Match"] = h.Get("ETag")
	if status, _, _ := e.Do(t, "GET", m.url("com/example/my-app/maven-metadata.xml"), nil, hdr); status != 304 || body == "" {
		t.Fatalf("metadata revalidation: %d", status)
	}
	if h.Get("X-Checksum-Sha1") != sha1hex([]byte(body)) {
		t.Fatalf("metadata X-Checksum-Sha1 %q", h.Get("X-Checksum-Sha1"))
	}
}

func TestMavenCurlSnapshotMetadata(t *testing.T) {
	_, m := newMavenProject(t)
	dir := "com/example/my-app/1.0-SNAPSHOT/"
	// Two deploys of the SNAPSHOT, each with new timestamped names.
	for _, build := range []string{"20261201.120000-1", "20261201.130500-2"} {
		m.deploy(dir+"my-app-1.0-"+build+".pom", []byte("<project>"+build+"</project>"))
		m.deploy(dir+"my-app-1.0-"+build+".jar", []byte("jar "+build))
		if strings.HasSuffix(build, "-1") {
			m.deploy(dir+"my-app-1.0-"+build+"-sources.jar", []byte("sources "+build))
		}
		m.mustPut(dir+"maven-metadata.xml", []byte("<metadata/>"))
	}
	md := m.metadata("com/example/my-app/1.0-SNAPSHOT")
	v := md.Versioning
	if md.Version != "1.0-SNAPSHOT" || v.Snapshot.Timestamp != "20261201.130500" || v.Snapshot.BuildNumber != 2 || len(v.SnapshotVersions) != 3 {
		t.Fatalf("SNAPSHOT metadata:\n%s", md.raw)
	}
	got := map[string]string{}
	for _, sv := range v.SnapshotVersions {
		got[sv.Classifier+"/"+sv.Extension] = sv.Value
	}
	want := map[string]string{"/jar": "1.0-20261201.130500-2", "/pom": "1.0-20261201.130500-2", "sources/jar": "1.0-20261201.120000-1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("snapshotVersions %v, want %v", got, want)
	}
	if md := m.metadata("com/example/my-app"); !slices.Equal(md.Versioning.Versions, []string{"1.0-SNAPSHOT"}) || md.Versioning.Release != "" {
		t.Fatalf("artifact metadata:\n%s", md.raw)
	}
	if status, body, _ := m.get(dir + "my-app-1.0-20261201.130500-2.jar"); status != 200 || body != "jar 20261201.130500-2" {
		t.Fatalf("timestamped jar: %d %q", status, body)
	}
}

func TestMavenCurlPluginGroupMetadata(t *testing.T) {
	e, m := newMavenProject(t)
	m.deploy("org/example/plugins/hello-maven-plugin/1.0/hello-maven-plugin-1.0.jar", []byte("plugin jar"))
	group := func(entries string) []byte {
		return []byte(`<?xml version="1.0" encoding="UTF-8"?><metadata><plugins>` + entries + `</plugins></metadata>`)
	}
	before := e.StoredState(t)
	m.mustPut("org/example/plugins/maven-metadata.xml", group(
		`<plugin><name>Hello</name><prefix>hello</prefix><artifactId>hello-maven-plugin</artifactId></plugin>`+
			`<plugin><prefix>ghost</prefix><artifactId>not-deployed-plugin</artifactId></plugin>`))
	// A later document without the entry does not remove it.
	m.mustPut("org/example/plugins/maven-metadata.xml", group(""))
	if after := e.StoredState(t); after != before {
		t.Fatalf("group metadata stored a file: %s -> %s", before, after)
	}
	md := m.metadata("org/example/plugins")
	if len(md.Plugins) != 1 || md.Plugins[0].Prefix != "hello" || md.Plugins[0].ArtifactID != "hello-maven-plugin" || md.Plugins[0].Name != "Hello" {
		t.Fatalf("plugin group metadata:\n%s", md.raw)
	}
	// The artifact level is unchanged by it.
	if md := m.metadata("org/example/plugins/hello-maven-plugin"); !slices.Equal(md.Versioning.Versions, []string{"1.0"}) || len(md.Plugins) != 0 {
		t.Fatalf("plugin artifact metadata:\n%s", md.raw)
	}
}

func TestMavenCurlRefusesAndStoresNothing(t *testing.T) {
	e, m := newMavenProject(t)
	jar := []byte("the stored jar")
	m.deploy("com/example/my-app/1.0/my-app-1.0.jar", jar)
	wrong := sha1hex([]byte("other"))
	put := func(name, path string, body []byte, status int, says string) servertest.BadRequest {
		return servertest.BadRequest{Name: name, Method: "PUT", Path: m.url(path), Body: body, Header: tok(m.token), Status: status, Message: says}
	}
	e.RefusesAndStoresNothing(t, []servertest.BadRequest{
		put("sha1 mismatch", "com/example/my-app/1.0/my-app-1.0.jar.sha1", []byte(wrong), 400, "checksum mismatch"),
		put("md5 mismatch", "com/example/my-app/1.0/my-app-1.0.jar.md5", []byte(md5hex([]byte("other"))), 400, "checksum mismatch"),
		put("sha256 mismatch", "com/example/my-app/1.0/my-app-1.0.jar.sha256", []byte(sha([]byte("other"))), 400, "checksum mismatch"),
		put("sha512 mismatch", "com/example/my-app/1.0/my-app-1.0.jar.sha512", []byte(sha512hex([]byte("other"))), 400, "checksum mismatch"),
		put("sha1 not hex", "com/example/my-app/1.0/my-app-1.0.jar.sha1", []byte("not a digest"), 400, "40 hexadecimal"),
		put("sidecar before its file", "com/example/my-app/1.0/my-app-1.0.pom.sha1", []byte(wrong), 404, "upload the file before its checksum"),
		{Name: "header checksum mismatch", Method: "PUT", Path: m.url("com/example/my-app/1.1/my-app-1.1.jar"), Body: jar,
			Header: map[string]string{"PRIVATE-TOKEN": m.token, "X-Checksum-SHA1": wrong}, Status: 400, Message: "checksum mismatch"},
		put("traversal", "com/example/%2e%2e/my-app/1.0/x.jar", jar, 400, "'..'"),
		put("plain traversal", "com/example/../../../1.0/x.jar", jar, 400, "'..'"),
		put("dot segment", "com/./my-app/1.0/x.jar", jar, 400, "path is invalid"),
		put("empty segment", "com//my-app/1.0/x.jar", jar, 400, "empty segments"),
		put("too short", "my-app/1.0/x.jar", jar, 400, "groupId/artifactId/version/file"),
		put("bad file name", "com/example/my-app/1.0/x%20y.jar", jar, 400, "file_name is invalid"),
		put("bad version", "com/example/my-app/1..0/x.jar", jar, 400, "package_version is invalid"),
		put("bad group", "com/ex%40mple/my-app/1.0/x.jar", jar, 400, "path is invalid"),
	})
	if status, _, _ := m.get("com/example/%2e%2e/my-app/1.0/x.jar"); status != 400 {
		t.Fatalf("GET traversal: %d", status)
	}
}

func TestMavenCurlDuplicates(t *testing.T) {
	e, m := newMavenProject(t)
	m.deploy("com/example/my-app/1.0/my-app-1.0.jar", []byte("first"))
	// Allowed by default (GitLab's default): a redeploy replaces the file.
	m.deploy("com/example/my-app/1.0/my-app-1.0.jar", []byte("second"))
	if _, body, _ := m.get("com/example/my-app/1.0/my-app-1.0.jar"); body != "second" {
		t.Fatalf("redeploy: %q", body)
	}
	e.SetDuplicates(t, m.token, "acme", "MAVEN", false)
	if status, b := m.put("com/example/my-app/1.0/my-app-1.0.jar", []byte("third")); status != 400 || !strings.Contains(b, "Duplicate") {
		t.Fatalf("redeploy with duplicates off: %d %s", status, b)
	}
	// A new file of the version, and SNAPSHOTs, still deploy.
	m.deploy("com/example/my-app/1.0/my-app-1.0-sources.jar", []byte("sources"))
	m.deploy("com/example/my-app/2.0-SNAPSHOT/my-app-2.0-SNAPSHOT.jar", []byte("snap"))
	m.deploy("com/example/my-app/2.0-SNAPSHOT/my-app-2.0-SNAPSHOT.jar", []byte("snap again"))

	// Concurrent deploys of one release file: exactly one wins.
	const n = 10
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _, _ = e.Do(t, "PUT", m.url("com/example/my-app/3.0/my-app-3.0.jar"), strings.NewReader(fmt.Sprint("body ", i)), tok(m.token))
		}()
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		switch {
		case c/100 == 2:
			ok++
		case c != 400 && c != 409:
			t.Errorf("a concurrent duplicate answered %d", c)
		}
	}
	if ok != 1 {
		t.Fatalf("concurrent deploys of one release file: %d won (%v), want 1", ok, codes)
	}
}

func TestMavenCurlConcurrentVersions(t *testing.T) {
	e, m := newMavenProject(t)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := fmt.Sprintf("1.%d", i)
			path := "com/example/my-app/" + v + "/my-app-" + v + ".jar"
			if status, b, _ := e.Do(t, "PUT", m.url(path), strings.NewReader("jar "+v), tok(m.token)); status != 201 {
				errs <- fmt.Sprintf("%s: %d %s", v, status, b)
				return
			}
			// Each deploy sends its client's view of the metadata too.
			meta := `<metadata><versioning><versions><version>` + v + `</version></versions></versioning></metadata>`
			if status, b, _ := e.Do(t, "PUT", m.url("com/example/my-app/maven-metadata.xml"), strings.NewReader(meta), tok(m.token)); status != 201 {
				errs <- fmt.Sprintf("%s metadata: %d %s", v, status, b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	md := m.metadata("com/example/my-app")
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("1.%d", i))
	}
	if !slices.Equal(md.Versioning.Versions, want) || md.Versioning.Latest != "1.39" || md.Versioning.Release != "1.39" {
		t.Fatalf("after %d concurrent deploys:\n%s", n, md.raw)
	}
}

func TestMavenCurlDeleteVersionUpdatesMetadata(t *testing.T) {
	e, m := newMavenProject(t)
	for _, v := range []string{"1.0", "1.1", "1.2"} {
		m.deploy("com/example/my-app/"+v+"/my-app-"+v+".jar", []byte("jar "+v))
	}
	if md := m.metadata("com/example/my-app"); !slices.Equal(md.Versioning.Versions, []string{"1.0", "1.1", "1.2"}) {
		t.Fatalf("before: %v", md.Versioning.Versions)
	}
	status, b, _ := e.Do(t, "GET", "/api/v4/projects/"+m.project+"/packages?package_type=maven", nil, tok(m.token))
	var pkgs []struct {
		ID      int
		Version string
	}
	if status != 200 || json.Unmarshal(b, &pkgs) != nil {
		t.Fatalf("packages: %d %s", status, b)
	}
	for _, p := range pkgs {
		if p.Version == "1.2" {
			if status, b, _ := e.Do(t, "DELETE", fmt.Sprintf("/api/v4/projects/%s/packages/%d", m.project, p.ID), nil, tok(m.token)); status != 204 {
				t.Fatalf("delete: %d %s", status, b)
			}
		}
	}
	md := m.metadata("com/example/my-app")
	if !slices.Equal(md.Versioning.Versions, []string{"1.0", "1.1"}) || md.Versioning.Latest != "1.1" || md.Versioning.Release != "1.1" {
		t.Fatalf("after deleting 1.2:\n%s", md.raw)
	}
	if status, _, _ := m.get("com/example/my-app/1.2/my-app-1.2.jar"); status != 404 {
		t.Fatalf("a deleted version's file: %d", status)
	}
}

func TestMavenCurlAnonymousGetsBasicChallenge(t *testing.T) {
	e, m := newMavenProject(t)
	m.deploy("com/example/my-app/1.0/my-app-1.0.jar", []byte("private jar"))
	for _, p := range []string{"com/example/my-app/1.0/my-app-1.0.jar", "com/example/my-app/1.0/my-app-1.0.jar.sha1",
		"com/example/my-app/maven-metadata.xml", "com/example/my-app/9.9/missing-9.9.jar", "com/example/my-app/1.0/bad%20name.jar"} {
		status, body, h := e.Do(t, "GET", m.url(p), nil, nil)
		if status != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") || strings.Contains(string(body), "private jar") {
			t.Fatalf("anonymous GET %s: %d %v %s", p, status, h, body)
		}
	}
	if status, _, h := e.Do(t, "PUT", m.url("com/example/my-app/1.1/my-app-1.1.jar"), strings.NewReader("x"), nil); status != 401 ||
		!strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("anonymous PUT: %d %v", status, h)
	}
	// A signed-in stranger sees nothing either (404, as GitLab).
	bob := e.CreateUser(t, "bob")
	if status, _, _ := e.Do(t, "GET", m.url("com/example/my-app/1.0/my-app-1.0.jar"), nil, tok(bob)); status != 404 {
		t.Fatalf("stranger: %d", status)
	}
}

func TestMavenCurlOtherFormatRefused(t *testing.T) {
	e, m := newMavenProject(t)
	id := e.CreateProjectWith(t, m.token, servertest.Project{Namespace: "acme", Path: "npm-only", Format: "NPM"})
	other := mvn{e: e, t: t, project: strconv.Itoa(id), token: m.token}
	if status, b := other.put("com/example/my-app/1.0/my-app-1.0.jar", []byte("x")); status != 400 || !strings.Contains(b, "npm") {
		t.Fatalf("PUT into an npm project: %d %s", status, b)
	}
}
