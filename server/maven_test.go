package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/registry/enum"
	"github.com/pkgreg/registry/server/servertest"
)

// The Maven tests drive Debian's mvn (servertest.NewMaven: offline, on the
// plugins Debian packages) and replay Gradle's requests with curl, against
// GitLab's Maven layout: /api/v4/projects/:id/packages/maven/<group path>/
// <artifactId>/<version>/<file>.

// mavenRepoID is the repository id the poms and settings.xml share.
const mavenRepoID = "registry"

// mavenLibs is a registry with the private project acme/libs owned by
// alice.
type mavenLibs struct {
	e     *servertest.Env
	alice string
	id    int
	ref   string
	url   string
}

func newMavenLibs(t testing.TB) *mavenLibs {
	t.Helper()
	e := servertest.New(t)
	m := &mavenLibs{e: e, alice: e.CreateUser(t, "alice")}
	e.CreateGroup(t, m.alice, "", "acme", "PRIVATE")
	m.id = e.CreateProject(t, m.alice, "acme", "libs", "PRIVATE")
	m.ref = strconv.Itoa(m.id)
	m.url = e.MavenURL(m.ref)
	return m
}

// path is the API path of a repository path in acme/libs.
func (m *mavenLibs) path(repoPath string) string {
	return "/api/v4/projects/" + m.ref + "/packages/maven/" + repoPath
}

// get reads a repository path of acme/libs as alice; anything but a 200
// fails the test.
func (m *mavenLibs) get(t *testing.T, repoPath string) ([]byte, http.Header) {
	t.Helper()
	status, b, h := m.e.Do(t, "GET", m.path(repoPath), nil, tok(m.alice))
	if status != 200 {
		t.Fatalf("GET %s: %d %.300s", repoPath, status, b)
	}
	return b, h
}

// metadata reads and decodes a maven-metadata.xml of acme/libs, and checks
// that its .sha1 sidecar is the digest of what was served.
func (m *mavenLibs) metadata(t *testing.T, dir string) *servertest.MavenMetadata {
	t.Helper()
	b, _ := m.get(t, dir+"/maven-metadata.xml")
	sum, _ := m.get(t, dir+"/maven-metadata.xml.sha1")
	if got, want := strings.TrimSpace(string(sum)), hexSum(sha1.New(), b); got != want {
		t.Errorf("%s/maven-metadata.xml.sha1 is %q, the served file's is %s", dir, got, want)
	}
	return servertest.ParseMavenMetadata(t, b)
}

// dbVersions lists the Maven packages of a project in the database: name
// -> version -> file names.
func dbVersions(t *testing.T, e *servertest.Env, projectID int) map[string]map[string][]string {
	t.Helper()
	pkgs, err := e.Server.DB.Pkg.Query().Where(pkg.ProjectID(projectID), pkg.PackageTypeEQ(enum.Maven)).
		WithFiles().All(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string][]string{}
	for _, p := range pkgs {
		if out[p.Name] == nil {
			out[p.Name] = map[string][]string{}
		}
		files := []string{}
		for _, f := range p.Edges.Files {
			files = append(files, f.FileName)
		}
		slices.Sort(files)
		out[p.Name][p.Version] = files
	}
	return out
}

func hexSum(h hash.Hash, b []byte) string {
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// TestMavenDeployAndResolve: mvn deploys three releases (Private-Token
// header) and a SNAPSHOT twice (Basic) into a private project; the
// artifact and SNAPSHOT maven-metadata.xml list what the database holds;
// a consumer resolves the SNAPSHOT (then its second build with -U) and a
// version range; anonymous reads get the Basic challenge and anonymous mvn
// fails on it.
func TestMavenDeployAndResolve(t *testing.T) {
	m := newMavenLibs(t)
	e := m.e
	// Deploys: releases with the Private-Token header (GitLab's documented
	// settings.xml), SNAPSHOTs with Basic, which mvn sends only after a 401
	// challenge on its first GET.
	header := servertest.NewMaven(t, servertest.MavenServer{ID: mavenRepoID, Header: "Private-Token", Token: m.alice})
	basic := servertest.NewMaven(t, servertest.MavenServer{ID: mavenRepoID, Username: "alice", Password: m.alice})
	deploy := mavenRepo(m.url)

	lib := servertest.MavenProject{GroupID: "com.example", ArtifactID: "hello", Deploy: deploy}
	dir := t.TempDir()
	jars := map[string][]byte{}
	for _, v := range []string{"1.0.0", "1.5.0", "2.0.0"} {
		lib.Version = v
		servertest.RewriteMavenProject(t, dir, lib)
		header.Must(dir, "deploy")
		jars[v] = servertest.BuiltJar(t, dir, lib)
	}
	for v, jar := range jars {
		got, h := m.get(t, servertest.MavenPath("com.example", "hello", v, "hello-"+v+".jar"))
		if !bytes.Equal(got, jar) {
			t.Fatalf("hello-%s.jar: the registry serves %d bytes, mvn deployed %d", v, len(got), len(jar))
		}
		if h.Get("X-Checksum-Sha1") != hexSum(sha1.New(), jar) || h.Get("X-Checksum-Sha256") != hexSum(sha256.New(), jar) ||
			h.Get("X-Checksum-MD5") != hexSum(md5.New(), jar) {
			t.Errorf("hello-%s.jar checksum headers: sha1 %q sha256 %q md5 %q", v, h.Get("X-Checksum-Sha1"), h.Get("X-Checksum-Sha256"), h.Get("X-Checksum-MD5"))
		}
	}

	// The private project challenges anonymous reads, existing or not, with
	// Basic: mvn sends Basic credentials only after a 401 with
	// WWW-Authenticate (a 403 or a 404 would end the build).
	for _, p := range []string{
		servertest.MavenPath("com.example", "hello", "1.0.0", "hello-1.0.0.jar"),
		"com/example/hello/maven-metadata.xml",
		"com/example/hello/2.1-SNAPSHOT/maven-metadata.xml",
		"com/example/nothing/1.0/nothing-1.0.pom",
	} {
		status, b, h := e.Do(t, "GET", m.path(p), nil, nil)
		if status != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("anonymous GET %s: %d, WWW-Authenticate %q, %.200s", p, status, h.Get("WWW-Authenticate"), b)
		}
	}

	// A SNAPSHOT deployed twice, with Basic: two timestamped builds.
	lib.Version = "2.1-SNAPSHOT"
	lib.Marker = "build 1"
	servertest.RewriteMavenProject(t, dir, lib)
	basic.Must(dir, "deploy")
	snap1 := servertest.BuiltJar(t, dir, lib)

	// A consumer of the SNAPSHOT, with Basic, from a fresh local repository.
	consumer := servertest.NewMaven(t, servertest.MavenServer{ID: mavenRepoID, Username: "alice", Password: m.alice})
	snapConsumer := servertest.WriteMavenProject(t, mavenConsumer(m.url, servertest.MavenDependency{GroupID: "com.example", ArtifactID: "hello", Version: "2.1-SNAPSHOT"}))
	consumer.Must(snapConsumer, "dependency:resolve")
	const snapLocal = "com/example/hello/2.1-SNAPSHOT/hello-2.1-SNAPSHOT.jar"
	if !bytes.Equal(consumer.LocalFile(snapLocal), snap1) {
		t.Fatal("the consumer resolved another jar than the first SNAPSHOT build")
	}

	lib.Marker = "build 2"
	servertest.RewriteMavenProject(t, dir, lib)
	basic.Must(dir, "deploy")
	snap2 := servertest.BuiltJar(t, dir, lib)
	if bytes.Equal(snap1, snap2) {
		t.Fatal("the two SNAPSHOT builds have the same bytes")
	}

	// The metadata is what the database has.
	db := dbVersions(t, e, m.id)
	if len(db) != 1 {
		t.Fatalf("Maven packages in the database: %v", db)
	}
	var builds [][]string // timestamp, build number of each jar in the database
	jarName := regexp.MustCompile(`^hello-2\.1-(\d{8}\.\d{6})-(\d+)\.jar$`)
	for _, files := range db {
		for _, f := range files["2.1-SNAPSHOT"] {
			if s := jarName.FindStringSubmatch(f); s != nil {
				builds = append(builds, s[1:])
			}
		}
	}
	slices.SortFunc(builds, func(a, b []string) int { return strings.Compare(a[1], b[1]) })
	if len(builds) != 2 || builds[0][1] != "1" || builds[1][1] != "2" {
		t.Fatalf("timestamped SNAPSHOT jars in the database: %v (files %v)", builds, db)
	}
	art := m.metadata(t, "com/example/hello")
	var dbVers []string
	for _, files := range db {
		for v := range files {
			dbVers = append(dbVers, v)
		}
	}
	wantVers := []string{"1.0.0", "1.5.0", "2.0.0", "2.1-SNAPSHOT"}
	if slices.Sort(dbVers); !slices.Equal(dbVers, wantVers) {
		t.Fatalf("versions in the database: %v", dbVers)
	}
	if art.GroupID != "com.example" || art.ArtifactID != "hello" || !slices.Equal(art.Versioning.Versions, wantVers) ||
		art.Versioning.Release != "2.0.0" || art.Versioning.Latest != "2.1-SNAPSHOT" || !regexp.MustCompile(`^\d{14}$`).MatchString(art.Versioning.LastUpdated) {
		t.Errorf("artifact maven-metadata.xml: %+v", art)
	}
	snap := m.metadata(t, "com/example/hello/2.1-SNAPSHOT")
	value := "2.1-" + builds[1][0] + "-2"
	if snap.Version != "2.1-SNAPSHOT" || snap.Versioning.Snapshot.BuildNumber != 2 || snap.Versioning.Snapshot.Timestamp != builds[1][0] ||
		snap.SnapshotValue("jar", "") != value || snap.SnapshotValue("pom", "") != value {
		t.Errorf("SNAPSHOT maven-metadata.xml: %+v, want build 2 at %s", snap, builds[1][0])
	}

	// -U: the consumer picks up the second build.
	consumer.Must(snapConsumer, "dependency:resolve", "-U")
	if !bytes.Equal(consumer.LocalFile(snapLocal), snap2) {
		t.Fatal("after -U, the consumer still has another jar than the second SNAPSHOT build")
	}

	// A version range resolves through the artifact's metadata: the highest
	// release below 2.0.
	rangeConsumer := servertest.WriteMavenProject(t, mavenConsumer(m.url, servertest.MavenDependency{GroupID: "com.example", ArtifactID: "hello", Version: "[1.0,2.0)"}))
	consumer.FreshLocalRepo()
	consumer.Must(rangeConsumer, "dependency:resolve")
	if !bytes.Equal(consumer.LocalFile("com/example/hello/1.5.0/hello-1.5.0.jar"), jars["1.5.0"]) {
		t.Fatal("[1.0,2.0) did not resolve to the deployed 1.5.0")
	}
	if _, err := os.Stat(filepath.Join(consumer.LocalRepo, "com/example/hello/2.0.0")); err == nil {
		t.Error("[1.0,2.0) downloaded 2.0.0")
	}

	// Without credentials, mvn cannot read the private project. (A range
	// would fail as "No versions available": Maven Resolver reports a
	// metadata it could not read as none.)
	anonymous := servertest.NewMaven(t)
	fixed := servertest.WriteMavenProject(t, mavenConsumer(m.url, servertest.MavenDependency{GroupID: "com.example", ArtifactID: "hello", Version: "1.0.0"}))
	if out := anonymous.MustFail(fixed, "dependency:resolve"); !strings.Contains(out, "401") {
		t.Errorf("anonymous mvn failed without naming the 401:\n%s", out)
	}
}

// TestMavenRedeployRefused: with duplicates off, a second deploy of a
// release fails in mvn and leaves the stored files as they were; SNAPSHOTs
// still deploy, each build under a new timestamped name (with a Job-Token
// and a Deploy-Token header).
func TestMavenRedeployRefused(t *testing.T) {
	m := newMavenLibs(t)
	e := m.e
	e.SetDuplicates(t, m.alice, "acme", "MAVEN", false)
	mvn := servertest.NewMaven(t, servertest.MavenServer{ID: mavenRepoID, Header: "Private-Token", Token: m.alice})
	lib := servertest.MavenProject{GroupID: "com.example", ArtifactID: "fixed", Version: "1.0.0", Deploy: mavenRepo(m.url), Marker: "first"}
	dir := servertest.WriteMavenProject(t, lib)
	mvn.Must(dir, "deploy")
	first := servertest.BuiltJar(t, dir, lib)
	jarPath := servertest.MavenPath("com.example", "fixed", "1.0.0", "fixed-1.0.0.jar")
	pomBefore, _ := m.get(t, servertest.MavenPath("com.example", "fixed", "1.0.0", "fixed-1.0.0.pom"))
	before := e.StoredState(t)

	lib.Marker = "second"
	servertest.RewriteMavenProject(t, dir, lib)
	out := mvn.MustFail(dir, "deploy")
	t.Logf("the refused redeploy:\n%s", out)
	if !regexp.MustCompile(`\b(400|403|409)\b`).MatchString(out) {
		t.Errorf("the refused redeploy does not name a 400, 403 or 409:\n%s", out)
	}
	if after := e.StoredState(t); after != before {
		t.Errorf("the refused redeploy changed the store: %s -> %s", before, after)
	}
	if got, _ := m.get(t, jarPath); !bytes.Equal(got, first) {
		t.Error("the refused redeploy replaced the stored jar")
	}
	if got, _ := m.get(t, servertest.MavenPath("com.example", "fixed", "1.0.0", "fixed-1.0.0.pom")); !bytes.Equal(got, pomBefore) {
		t.Error("the refused redeploy replaced the stored pom")
	}

	// The SNAPSHOTs deploy with GitLab's other two token headers: a CI job
	// token, then a deploy token.
	deployToken, _ := cgDeployToken(t, e, m.alice, "acme/libs", "READ_PACKAGE_REGISTRY", "WRITE_PACKAGE_REGISTRY")
	lib.Version = "1.1-SNAPSHOT"
	for i, sv := range []servertest.MavenServer{
		{ID: mavenRepoID, Header: "Job-Token", Token: cgJobToken(t, e, m.alice, "acme/libs")},
		{ID: mavenRepoID, Header: "Deploy-Token", Token: deployToken},
	} {
		lib.Marker = fmt.Sprint("snapshot ", i)
		servertest.RewriteMavenProject(t, dir, lib)
		servertest.NewMaven(t, sv).Must(dir, "deploy")
	}
	if snap := m.metadata(t, "com/example/fixed/1.1-SNAPSHOT"); snap.Versioning.Snapshot.BuildNumber != 2 {
		t.Errorf("SNAPSHOT metadata with duplicates off: %+v", snap)
	}
}

// mavenRepo is the pom repository for a registry Maven URL.
func mavenRepo(url string) servertest.MavenRepository {
	return servertest.MavenRepository{ID: mavenRepoID, URL: url}
}

// mavenConsumer is a pom-packaged project that only resolves deps from url.
func mavenConsumer(url string, deps ...servertest.MavenDependency) servertest.MavenProject {
	return servertest.MavenProject{GroupID: "com.example.consumer", ArtifactID: "app", Version: "1", Packaging: "pom",
		Repositories: []servertest.MavenRepository{mavenRepo(url)}, Dependencies: deps}
}

// curlResp is one answer curl received.
type curlResp struct {
	status int
	body   []byte
	header http.Header
}

// requireCurl skips without curl, except under CI=true.
func requireCurl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl is required in CI (.ci/run installs it)")
		}
		t.Skip("curl is not installed")
	}
}

// curlDo sends one request with curl (a body, when given, from a file, as
// a client uploads one) and returns the last response; a curl failure
// fails the test.
func curlDo(t testing.TB, method, url string, body []byte, headers map[string]string) curlResp {
	t.Helper()
	r, err := curlTry(t.TempDir(), method, url, body, headers)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// curlTry is curlDo for other goroutines than the test's: it returns
// curl's failure. dir holds the request's and response's files.
func curlTry(dir, method, url string, body []byte, headers map[string]string) (curlResp, error) {
	args := []string{"-sS", "--noproxy", "*", "-o", filepath.Join(dir, "body"), "-D", filepath.Join(dir, "headers"), "-w", "%{http_code}"}
	if method == "HEAD" {
		args = append(args, "-I")
	} else {
		args = append(args, "-X", method)
	}
	for k, v := range headers {
		args = append(args, "-H", k+": "+v)
	}
	if body != nil {
		f := filepath.Join(dir, "upload")
		if err := os.WriteFile(f, body, 0o600); err != nil {
			return curlResp{}, err
		}
		args = append(args, "-H", "Content-Type: application/octet-stream", "--data-binary", "@"+f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "curl", append(args, url)...).Output()
	if err != nil {
		return curlResp{}, fmt.Errorf("curl %s %s: %v %s", method, url, err, out)
	}
	status, err := strconv.Atoi(string(out))
	if err != nil {
		return curlResp{}, fmt.Errorf("curl %s %s: status %q", method, url, out)
	}
	r := curlResp{status: status, header: http.Header{}}
	r.body, _ = os.ReadFile(filepath.Join(dir, "body"))
	raw, _ := os.ReadFile(filepath.Join(dir, "headers"))
	// The last header block (after any 100 Continue).
	blocks := strings.Split(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n\n")
	for i := len(blocks) - 1; i >= 0; i-- {
		if strings.HasPrefix(blocks[i], "HTTP/") {
			tp := textproto.NewReader(bufio.NewReader(strings.NewReader(blocks[i] + "\n\n")))
			_, _ = tp.ReadLine()
			h, _ := tp.ReadMIMEHeader()
			r.header = http.Header(h)
			break
		}
	}
	return r, nil
}

// mavenSidecars are the checksum files Gradle (and Maven Resolver) upload
// after each file, and their digests.
var mavenSidecars = []struct {
	ext  string
	hash func() hash.Hash
}{{".md5", md5.New}, {".sha1", sha1.New}, {".sha256", sha256.New}, {".sha512", sha512.New}}

// TestMavenGradleRequestSequence replays what Gradle's maven-publish sends
// (Debian's gradle is too old to be the client): a GET of the artifact's
// metadata, then each of jar, pom and Gradle module metadata followed by
// its .md5, .sha1, .sha256 and .sha512, then the metadata and its
// sidecars; then what a Gradle build reads back. A sidecar that does not
// match the stored file is refused and changes nothing.
func TestMavenGradleRequestSequence(t *testing.T) {
	requireCurl(t)
	m := newMavenLibs(t)
	e := m.e
	auth := map[string]string{"Private-Token": m.alice, "User-Agent": "Gradle/8.5 (Linux;6.1;amd64) (Eclipse Adoptium;17.0.9;17.0.9+9)"}
	dir := "org/example/gradle-lib"
	put := func(repoPath string, body []byte) {
		t.Helper()
		if r := curlDo(t, "PUT", m.url+"/"+repoPath, body, auth); r.status < 200 || r.status > 299 {
			t.Fatalf("PUT %s: %d %.300s", repoPath, r.status, r.body)
		}
	}
	if r := curlDo(t, "GET", m.url+"/"+dir+"/maven-metadata.xml", nil, auth); r.status != 404 {
		t.Fatalf("metadata of an artifact never published: %d %.200s", r.status, r.body)
	}
	files := map[string][]byte{
		"gradle-lib-1.0.jar":    jarBytes(t, "gradle-lib"),
		"gradle-lib-1.0.pom":    []byte(`<?xml version="1.0" encoding="UTF-8"?><project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>org.example</groupId><artifactId>gradle-lib</artifactId><version>1.0</version></project>`),
		"gradle-lib-1.0.module": []byte(`{"formatVersion":"1.1","component":{"group":"org.example","module":"gradle-lib","version":"1.0"},"variants":[]}`),
	}
	for _, name := range []string{"gradle-lib-1.0.jar", "gradle-lib-1.0.pom", "gradle-lib-1.0.module"} {
		body := files[name]
		put(dir+"/1.0/"+name, body)
		for _, s := range mavenSidecars {
			put(dir+"/1.0/"+name+s.ext, []byte(hexSum(s.hash(), body)))
		}
	}
	meta := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<metadata><groupId>org.example</groupId><artifactId>gradle-lib</artifactId><versioning><latest>1.0</latest><release>1.0</release><versions><version>1.0</version></versions><lastUpdated>20240101000000</lastUpdated></versioning></metadata>
`)
	put(dir+"/maven-metadata.xml", meta)
	for _, s := range mavenSidecars {
		put(dir+"/maven-metadata.xml"+s.ext, []byte(hexSum(s.hash(), meta)))
	}

	// Reads: each file with its checksum headers; each sidecar computed.
	for name, body := range files {
		url := m.url + "/" + dir + "/1.0/" + name
		for _, method := range []string{"GET", "HEAD"} {
			r := curlDo(t, method, url, nil, auth)
			if r.status != 200 || (method == "GET" && !bytes.Equal(r.body, body)) {
				t.Fatalf("%s %s: %d, %d bytes", method, name, r.status, len(r.body))
			}
			if r.header.Get("X-Checksum-Sha1") != hexSum(sha1.New(), body) || r.header.Get("X-Checksum-MD5") != hexSum(md5.New(), body) ||
				r.header.Get("X-Checksum-Sha256") != hexSum(sha256.New(), body) {
				t.Errorf("%s %s checksum headers: %v", method, name, r.header)
			}
		}
		for _, s := range mavenSidecars {
			r := curlDo(t, "GET", url+s.ext, nil, auth)
			if r.status != 200 || strings.TrimSpace(string(r.body)) != hexSum(s.hash(), body) {
				t.Errorf("GET %s%s: %d %q", name, s.ext, r.status, r.body)
			}
		}
	}
	if md := m.metadata(t, dir); !slices.Equal(md.Versioning.Versions, []string{"1.0"}) || md.Versioning.Release != "1.0" {
		t.Errorf("metadata after the Gradle publish: %+v", md)
	}

	// Sidecar mismatches: refused with a message, nothing stored, the
	// served sidecar still the stored file's.
	jar2 := jarBytes(t, "gradle-lib 1.1")
	put(dir+"/1.1/gradle-lib-1.1.jar", jar2)
	before := e.StoredState(t)
	for _, s := range mavenSidecars {
		wrong := hexSum(s.hash(), []byte("other bytes"))
		r := curlDo(t, "PUT", m.url+"/"+dir+"/1.1/gradle-lib-1.1.jar"+s.ext, []byte(wrong), auth)
		if (r.status != 400 && r.status != 409) || len(bytes.TrimSpace(r.body)) == 0 {
			t.Errorf("mismatched %s: %d %q", s.ext, r.status, r.body)
		}
		if after := e.StoredState(t); after != before {
			t.Errorf("mismatched %s changed the store: %s -> %s", s.ext, before, after)
		}
		if r := curlDo(t, "GET", m.url+"/"+dir+"/1.1/gradle-lib-1.1.jar"+s.ext, nil, auth); r.status != 200 || strings.TrimSpace(string(r.body)) != hexSum(s.hash(), jar2) {
			t.Errorf("GET %s after the mismatch: %d %q", s.ext, r.status, r.body)
		}
	}
	// A sidecar for a file that was never uploaded has nothing to match.
	if r := curlDo(t, "PUT", m.url+"/"+dir+"/1.1/gradle-lib-1.1-sources.jar.sha1", []byte(hexSum(sha1.New(), jar2)), auth); r.status < 400 || r.status > 499 {
		t.Errorf("sidecar without its file: %d %q", r.status, r.body)
	}
	if after := e.StoredState(t); after != before {
		t.Errorf("a sidecar without its file changed the store: %s -> %s", before, after)
	}
}

// jarBytes is a small zip (a jar) whose bytes depend on marker.
func jarBytes(t *testing.T, marker string) []byte {
	t.Helper()
	// A stored (uncompressed) zip with one entry is enough: the registry
	// never opens jars.
	return append([]byte("PK\x03\x04"), []byte("registry test jar "+marker)...)
}

// TestMavenConcurrentDeploys: 20 clients deploy 20 versions of one artifact
// at once, each (as mvn does) reading the artifact's metadata and putting
// back a copy that lists only what it saw plus its own version; every
// version ends up in the metadata, in Maven's order. Then, with duplicates
// off, 10 clients deploy one release file at once: exactly one wins.
func TestMavenConcurrentDeploys(t *testing.T) {
	requireCurl(t)
	m := newMavenLibs(t)
	auth := map[string]string{"Private-Token": m.alice}
	dir := "com/example/busy"
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan string, n*4)
	for i := range n {
		wg.Add(1)
		tmp := t.TempDir()
		go func() {
			defer wg.Done()
			v := fmt.Sprintf("1.0.%d", i)
			base := m.url + "/" + dir + "/" + v + "/busy-" + v
			pom := []byte(`<project><modelVersion>4.0.0</modelVersion><groupId>com.example</groupId><artifactId>busy</artifactId><version>` + v + `</version></project>`)
			jar := jarBytes(t, v)
			for _, f := range []struct {
				url  string
				body []byte
			}{{base + ".pom", pom}, {base + ".pom.sha1", []byte(hexSum(sha1.New(), pom))}, {base + ".jar", jar}, {base + ".jar.sha1", []byte(hexSum(sha1.New(), jar))}} {
				if r, err := curlTry(tmp, "PUT", f.url, f.body, auth); err != nil || r.status < 200 || r.status > 299 {
					errs <- fmt.Sprintf("PUT %s: %v %d %s", f.url, err, r.status, r.body)
					return
				}
			}
			r, err := curlTry(tmp, "GET", m.url+"/"+dir+"/maven-metadata.xml", nil, auth)
			if err != nil {
				errs <- err.Error()
				return
			}
			seen := []string{}
			if r.status == 200 {
				var md servertest.MavenMetadata
				if err := xml.Unmarshal(r.body, &md); err != nil {
					errs <- fmt.Sprintf("metadata while deploying %s: %v", v, err)
					return
				}
				seen = md.Versioning.Versions
			}
			var vs strings.Builder
			for _, s := range append(seen, v) {
				vs.WriteString("<version>" + s + "</version>")
			}
			meta := []byte(`<?xml version="1.0" encoding="UTF-8"?><metadata><groupId>com.example</groupId><artifactId>busy</artifactId><versioning><latest>` + v +
				`</latest><release>` + v + `</release><versions>` + vs.String() + `</versions><lastUpdated>20240101000000</lastUpdated></versioning></metadata>`)
			if r, err := curlTry(tmp, "PUT", m.url+"/"+dir+"/maven-metadata.xml", meta, auth); err != nil || r.status < 200 || r.status > 299 {
				errs <- fmt.Sprintf("PUT metadata of %s: %v %d %s", v, err, r.status, r.body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("1.0.%d", i))
	}
	md := m.metadata(t, dir)
	if !slices.Equal(md.Versioning.Versions, want) || md.Versioning.Latest != "1.0.19" || md.Versioning.Release != "1.0.19" {
		t.Errorf("metadata after %d concurrent deploys: versions %v, latest %q, release %q; want %v, 1.0.19", n,
			md.Versioning.Versions, md.Versioning.Latest, md.Versioning.Release, want)
	}

	// One release file, 10 deploys at once, duplicates off: one winner.
	m.e.SetDuplicates(t, m.alice, "acme", "MAVEN", false)
	const racers = 10
	statuses := make([]int, racers)
	errs2 := make(chan string, racers)
	bodies := make([][]byte, racers)
	for i := range racers {
		wg.Add(1)
		tmp := t.TempDir()
		bodies[i] = jarBytes(t, fmt.Sprint("racer ", i))
		go func() {
			defer wg.Done()
			r, err := curlTry(tmp, "PUT", m.url+"/com/example/race/1.0/race-1.0.jar", bodies[i], auth)
			if err != nil {
				errs2 <- err.Error()
			}
			statuses[i] = r.status
		}()
	}
	wg.Wait()
	close(errs2)
	for err := range errs2 {
		t.Error(err)
	}
	winner := -1
	for i, s := range statuses {
		switch {
		case s >= 200 && s <= 299:
			if winner >= 0 {
				t.Errorf("two concurrent deploys of race-1.0.jar succeeded: %v", statuses)
			}
			winner = i
		case s != 400 && s != 403 && s != 409:
			t.Errorf("a refused concurrent deploy answered %d: %v", s, statuses)
		}
	}
	if winner < 0 {
		t.Fatalf("no concurrent deploy of race-1.0.jar succeeded: %v", statuses)
	}
	if got, _ := m.get(t, "com/example/race/1.0/race-1.0.jar"); !bytes.Equal(got, bodies[winner]) {
		t.Error("race-1.0.jar is not the winner's bytes")
	}
}

// mavenSeed stores groupId:artifactId:version (a pom with deps, a jar, and
// their .sha1) in a project over HTTP, as a deploy does, and returns the
// jar's bytes. Deps are "groupId:artifactId:version".
func mavenSeed(t testing.TB, e *servertest.Env, token, projectRef, groupID, artifactID, version string, deps ...string) []byte {
	t.Helper()
	return mavenSeedBuild(t, e, token, projectRef, groupID, artifactID, version, version, deps...)
}

// mavenSeedBuild is mavenSeed for one build of a version: for a SNAPSHOT,
// fileVersion is the build's timestamped version ("2.1-20260101.120000-1").
func mavenSeedBuild(t testing.TB, e *servertest.Env, token, projectRef, groupID, artifactID, version, fileVersion string, deps ...string) []byte {
	t.Helper()
	var d strings.Builder
	for _, dep := range deps {
		c := strings.Split(dep, ":")
		d.WriteString("<dependency><groupId>" + c[0] + "</groupId><artifactId>" + c[1] + "</artifactId><version>" + c[2] + "</version></dependency>")
	}
	pom := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>` + groupID + `</groupId><artifactId>` +
		artifactID + `</artifactId><version>` + version + `</version><dependencies>` + d.String() + `</dependencies></project>
`)
	jar := append([]byte("PK\x03\x04"), []byte(fmt.Sprintf("registry test jar %s:%s:%s in %s", groupID, artifactID, fileVersion, e.URL))...)
	base := "/api/v4/projects/" + projectRef + "/packages/maven/" + servertest.MavenPath(groupID, artifactID, version, artifactID+"-"+fileVersion)
	for _, f := range []struct {
		path string
		body []byte
	}{{".pom", pom}, {".pom.sha1", []byte(hexSum(sha1.New(), pom))}, {".jar", jar}, {".jar.sha1", []byte(hexSum(sha1.New(), jar))}} {
		if status, b, _ := e.Do(t, "PUT", base+f.path, bytes.NewReader(f.body), tok(token)); status < 200 || status > 299 {
			t.Fatalf("PUT %s%s: %d %.300s", base, f.path, status, b)
		}
	}
	return jar
}

// mavenMirror is a registry (e) with the private STANDARD project
// acme/libs, a REMOTE project acme/maven-remote whose upstream is a second
// registry's public project pub/maven (up: the tests' "Maven Central"),
// reached through a FaultProxy (proxy), and a VIRTUAL project
// acme/maven-all over both, acme/libs first.
type mavenMirror struct {
	*mavenLibs
	up                    *servertest.Env
	proxy                 *servertest.FaultProxy
	bob, upRef, remoteRef string
	virtualRef            string
}

func newMavenMirror(t testing.TB) *mavenMirror {
	t.Helper()
	m := &mavenMirror{mavenLibs: newMavenLibs(t), up: servertest.New(t)}
	m.bob = m.up.CreateUser(t, "bob")
	m.up.CreateGroup(t, m.bob, "", "pub", "PUBLIC")
	m.upRef = strconv.Itoa(m.up.CreateProject(t, m.bob, "pub", "maven", "PUBLIC"))
	m.proxy = servertest.NewFaultProxy(t, m.up.URL)
	e := m.e
	m.remoteRef = strconv.Itoa(e.CreateRemoteProject(t, m.alice, "acme", "maven-remote", "MAVEN",
		m.proxy.URL+"/api/v4/projects/"+m.upRef+"/packages/maven"))
	m.virtualRef = strconv.Itoa(e.CreateVirtualProject(t, m.alice, "acme", "maven-all", "MAVEN",
		servertest.Upstream{ID: "local", Path: "acme/libs", Priority: 20},
		servertest.Upstream{ID: "public", Path: "acme/maven-remote", Priority: 10}))
	return m
}

// TestMavenVirtual: mvn resolves through the VIRTUAL project a private
// artifact of the STANDARD one and a public one only the remote has, with
// version ranges; the public mirror's higher version of the private
// artifact is never offered (dependency confusion).
func TestMavenVirtual(t *testing.T) {
	m := newMavenMirror(t)
	e := m.e
	private := mavenSeed(t, e, m.alice, m.ref, "com.example", "hello", "1.0.0")
	mavenSeed(t, m.up, m.bob, m.upRef, "com.example", "hello", "9.0.0") // the attack
	mavenSeed(t, m.up, m.bob, m.upRef, "org.public", "util", "1.0")
	public := mavenSeed(t, m.up, m.bob, m.upRef, "org.public", "util", "1.4")
	mavenSeed(t, m.up, m.bob, m.upRef, "org.public", "util", "2.0")

	// What mvn will read: the private artifact's metadata and files are
	// the STANDARD project's alone.
	vpath := func(p string) string { return "/api/v4/projects/" + m.virtualRef + "/packages/maven/" + p }
	status, b, _ := e.Do(t, "GET", vpath("com/example/hello/maven-metadata.xml"), nil, tok(m.alice))
	if status != 200 {
		t.Fatalf("virtual metadata of com.example:hello: %d %.300s", status, b)
	}
	if md := servertest.ParseMavenMetadata(t, b); !slices.Equal(md.Versioning.Versions, []string{"1.0.0"}) {
		t.Errorf("virtual metadata of com.example:hello merges a lower tier: %v", md.Versioning.Versions)
	}
	if status, b, _ := e.Do(t, "GET", vpath("com/example/hello/9.0.0/hello-9.0.0.jar"), nil, tok(m.alice)); status != 404 {
		t.Errorf("the public com.example:hello 9.0.0 through the virtual project: %d %.200s", status, b)
	}

	mvn := servertest.NewMaven(t, servertest.MavenServer{ID: mavenRepoID, Header: "Private-Token", Token: m.alice})
	dir := servertest.WriteMavenProject(t, mavenConsumer(e.MavenURL(m.virtualRef),
		servertest.MavenDependency{GroupID: "com.example", ArtifactID: "hello", Version: "[1.0,)"},
		servertest.MavenDependency{GroupID: "org.public", ArtifactID: "util", Version: "[1.0,2.0)"}))
	mvn.Must(dir, "dependency:resolve")
	if !bytes.Equal(mvn.LocalFile("com/example/hello/1.0.0/hello-1.0.0.jar"), private) {
		t.Error("com.example:hello resolved through the virtual project is not the private 1.0.0")
	}
	if _, err := os.Stat(filepath.Join(mvn.LocalRepo, "com/example/hello/9.0.0")); err == nil {
		t.Error("the virtual project offered the public mirror's com.example:hello 9.0.0")
	}
	if !bytes.Equal(mvn.LocalFile("org/public/util/1.4/util-1.4.jar"), public) {
		t.Error("org.public:util [1.0,2.0) through the virtual project is not the upstream's 1.4")
	}

	// Warm: a second consumer, from an empty local repository, gets the
	// same files from the remote's cache: artifacts are cached forever, so
	// the upstream sees no second request for them.
	jars, poms := m.proxy.Count(".jar"), m.proxy.Count(".pom")
	mvn.FreshLocalRepo()
	mvn.Must(dir, "dependency:resolve")
	if !bytes.Equal(mvn.LocalFile("org/public/util/1.4/util-1.4.jar"), public) {
		t.Error("the second resolve of org.public:util is not the upstream's 1.4")
	}
	if j, p := m.proxy.Count(".jar"), m.proxy.Count(".pom"); j != jars || p != poms {
		t.Errorf("the warm resolve asked the upstream again: jars %d -> %d, poms %d -> %d", jars, j, poms, p)
	}

	// A SNAPSHOT of the private project through the virtual one: a new
	// build is picked up with -U.
	build1 := mavenSeedBuild(t, e, m.alice, m.ref, "com.example", "hello", "2.1-SNAPSHOT", "2.1-20260101.120000-1")
	snapDir := servertest.WriteMavenProject(t, mavenConsumer(e.MavenURL(m.virtualRef),
		servertest.MavenDependency{GroupID: "com.example", ArtifactID: "hello", Version: "2.1-SNAPSHOT"}))
	mvn.Must(snapDir, "dependency:resolve")
	const snapLocal = "com/example/hello/2.1-SNAPSHOT/hello-2.1-SNAPSHOT.jar"
	if !bytes.Equal(mvn.LocalFile(snapLocal), build1) {
		t.Error("the SNAPSHOT through the virtual project is not build 1")
	}
	build2 := mavenSeedBuild(t, e, m.alice, m.ref, "com.example", "hello", "2.1-SNAPSHOT", "2.1-20260101.130000-2")
	mvn.Must(snapDir, "dependency:resolve", "-U")
	if !bytes.Equal(mvn.LocalFile(snapLocal), build2) {
		t.Error("after -U, the SNAPSHOT through the virtual project is not build 2")
	}
}

// TestMavenGroupEndpoint: mvn resolves artifacts of two projects of a
// group through the group's Maven endpoint.
func TestMavenGroupEndpoint(t *testing.T) {
	m := newMavenLibs(t)
	e := m.e
	toolsRef := strconv.Itoa(e.CreateProject(t, m.alice, "acme", "tools", "PRIVATE"))
	hello := mavenSeed(t, e, m.alice, m.ref, "com.example", "hello", "1.0.0")
	world := mavenSeed(t, e, m.alice, toolsRef, "com.example", "world", "2.0.0")
	status, b, h := e.Do(t, "GET", "/api/v4/groups/acme/-/packages/maven/com/example/hello/1.0.0/hello-1.0.0.jar", nil, nil)
	if status != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("anonymous GET on a private group: %d, WWW-Authenticate %q, %.200s", status, h.Get("WWW-Authenticate"), b)
	}
	basic := servertest.NewMaven(t, servertest.MavenServer{ID: mavenRepoID, Username: "alice", Password: m.alice})
	dir := servertest.WriteMavenProject(t, mavenConsumer(e.MavenGroupURL("acme"),
		servertest.MavenDependency{GroupID: "com.example", ArtifactID: "hello", Version: "[1.0,)"},
		servertest.MavenDependency{GroupID: "com.example", ArtifactID: "world", Version: "2.0.0"}))
	basic.Must(dir, "dependency:resolve")
	if !bytes.Equal(basic.LocalFile("com/example/hello/1.0.0/hello-1.0.0.jar"), hello) ||
		!bytes.Equal(basic.LocalFile("com/example/world/2.0.0/world-2.0.0.jar"), world) {
		t.Error("the group endpoint served other jars than the projects hold")
	}
}

// TestMavenPluginPrefix: a Maven plugin built and deployed with mvn runs by
// its prefix ("greet:hello"), which mvn resolves through the plugin group's
// maven-metadata.xml on the registry.
func TestMavenPluginPrefix(t *testing.T) {
	m := newMavenLibs(t)
	e := m.e
	deployer := servertest.NewMaven(t, servertest.MavenServer{ID: mavenRepoID, Header: "Private-Token", Token: m.alice})
	plugin := servertest.MavenProject{GroupID: "com.example.plugins", ArtifactID: "greet-maven-plugin", Version: "1.0.0",
		Packaging: "maven-plugin", Deploy: mavenRepo(m.url)}
	deployer.Must(servertest.WriteMavenProject(t, plugin), "deploy")
	// mvn 3.8.7 with Debian's maven-plugin-plugin 3.7.1 uploads no group
	// metadata (the same build into a file:// repository writes none
	// either); Maven 3.9 and older deploys do: send it as they do.
	const groupMeta = "com/example/plugins/maven-metadata.xml"
	if status, _, _ := e.Do(t, "GET", m.path(groupMeta), nil, tok(m.alice)); status == 404 {
		doc := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<metadata><plugins><plugin><name>greet</name><prefix>greet</prefix><artifactId>greet-maven-plugin</artifactId></plugin></plugins></metadata>
`)
		for _, f := range []struct {
			path string
			body []byte
		}{{groupMeta, doc}, {groupMeta + ".sha1", []byte(hexSum(sha1.New(), doc))}} {
			if status, b, _ := e.Do(t, "PUT", m.path(f.path), bytes.NewReader(f.body), tok(m.alice)); status < 200 || status > 299 {
				t.Fatalf("PUT %s: %d %.300s", f.path, status, b)
			}
		}
	} else {
		t.Logf("mvn deployed the plugin group's metadata (%d)", status)
	}
	md := m.metadata(t, "com/example/plugins")
	if len(md.Plugins) != 1 || md.Plugins[0].Prefix != "greet" || md.Plugins[0].ArtifactID != "greet-maven-plugin" {
		t.Fatalf("plugin group metadata: %+v", md.Plugins)
	}

	user := servertest.NewMaven(t, servertest.MavenServer{ID: mavenRepoID, Username: "alice", Password: m.alice})
	user.AddPluginGroup("com.example.plugins")
	dir := servertest.WriteMavenProject(t, servertest.MavenProject{GroupID: "com.example.consumer", ArtifactID: "app", Version: "1",
		Packaging: "pom", PluginRepositories: []servertest.MavenRepository{mavenRepo(m.url)}})
	user.Must(dir, "greet:hello")
	if b, err := os.ReadFile(filepath.Join(dir, "greeted.txt")); err != nil || !strings.HasPrefix(string(b), "com.example.plugins:greet-maven-plugin:1.0.0") {
		t.Fatalf("greet:hello did not run the deployed plugin: %q %v", b, err)
	}
}

// TestMavenRemoteProbes: mvn dependency:sources through the REMOTE project
// probes for sources jars the upstream does not have; the negative cache
// answers the second build's probes without asking the upstream, and a
// sources jar published upstream later is served once the miss expires.
func TestMavenRemoteProbes(t *testing.T) {
	m := newMavenMirror(t)
	e := m.e
	jar := mavenSeed(t, m.up, m.bob, m.upRef, "org.public", "util", "1.4")
	mvn := servertest.NewMaven(t, servertest.MavenServer{ID: mavenRepoID, Header: "Private-Token", Token: m.alice})
	dir := servertest.WriteMavenProject(t, mavenConsumer(e.MavenURL(m.remoteRef),
		servertest.MavenDependency{GroupID: "org.public", ArtifactID: "util", Version: "1.4"}))
	mvn.Must(dir, "dependency:sources")
	if !bytes.Equal(mvn.LocalFile("org/public/util/1.4/util-1.4.jar"), jar) {
		t.Fatal("org.public:util 1.4 through the remote project is not the upstream's")
	}
	probes := m.proxy.Count("-sources.jar")
	if probes == 0 {
		t.Fatal("mvn dependency:sources never asked for util-1.4-sources.jar")
	}
	mvn.FreshLocalRepo()
	mvn.Must(dir, "dependency:sources")
	if n := m.proxy.Count("-sources.jar"); n != probes {
		t.Errorf("the second build's probes reached the upstream: %d -> %d requests for the sources jar", probes, n)
	}

	// Published upstream afterwards: served once the remembered miss ends.
	sources := append([]byte("PK\x03\x04"), "util 1.4 sources"...)
	p := "/api/v4/projects/" + m.upRef + "/packages/maven/org/public/util/1.4/util-1.4-sources.jar"
	for _, f := range []struct {
		path string
		body []byte
	}{{p, sources}, {p + ".sha1", []byte(hexSum(sha1.New(), sources))}} {
		if status, b, _ := m.up.Do(t, "PUT", f.path, bytes.NewReader(f.body), tok(m.bob)); status < 200 || status > 299 {
			t.Fatalf("PUT %s upstream: %d %.300s", f.path, status, b)
		}
	}
	e.Clock.Advance(time.Hour)
	mvn.FreshLocalRepo()
	mvn.Must(dir, "dependency:sources")
	if !bytes.Equal(mvn.LocalFile("org/public/util/1.4/util-1.4-sources.jar"), sources) {
		t.Error("the sources jar published upstream later is not served")
	}
}
