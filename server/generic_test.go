package server_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/servertest"
)

// gen drives the generic package endpoints of one registry.
type gen struct {
	e *servertest.Env
	t *testing.T
}

func (g gen) url(project, rest string) string {
	return "/api/v4/projects/" + project + "/packages/generic/" + rest
}

func (g gen) put(headers map[string]string, project, rest string, body []byte) (int, string) {
	g.t.Helper()
	status, b, _ := g.e.Do(g.t, "PUT", g.url(project, rest), bytes.NewReader(body), headers)
	return status, string(b)
}

func (g gen) get(headers map[string]string, project, rest string) (int, string, http.Header) {
	g.t.Helper()
	status, b, h := g.e.Do(g.t, "GET", g.url(project, rest), nil, headers)
	return status, string(b), h
}

func tok(t string) map[string]string {
	if t == "" {
		return nil
	}
	return map[string]string{"PRIVATE-TOKEN": t}
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// newAcmeTools starts a registry where alice owns the private project
// acme/tools, and returns it, her token, a generic client and the project id.
func newAcmeTools(t *testing.T) (*servertest.Env, string, gen, int) {
	t.Helper()
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	id := e.CreateProject(t, alice, "acme", "tools", "PRIVATE")
	return e, alice, gen{e, t}, id
}

// wipePackages removes every package, file, blob and object, so a test can
// go on from an empty store.
func wipePackages(t *testing.T, e *servertest.Env) {
	t.Helper()
	ctx := t.Context()
	e.Server.DB.PackageFile.Delete().ExecX(ctx)
	e.Server.DB.Pkg.Delete().ExecX(ctx)
	e.Server.DB.Blob.Delete().ExecX(ctx)
	if err := e.Server.Blobs.Walk(ctx, registry.ObjectPrefix, func(i blob.Info) error { return e.Server.Blobs.Delete(ctx, i.Key) }); err != nil {
		t.Fatal(err)
	}
}

func TestGenericUploadDownloadRoundTrip(t *testing.T) {
	e, alice, g, id := newAcmeTools(t)
	body := []byte("hello, generic world\n")

	status, resp := g.put(tok(alice), "acme%2Ftools", "my_pkg/1.0.0/file.txt", body)
	if status != 201 || resp != `{"message":"201 Created"}`+"\n" {
		t.Fatalf("upload: %d %q", status, resp)
	}
	status, resp = g.put(tok(alice), fmt.Sprint(id), "my_pkg/1.0.0/dir/sub/nested.bin?select=package_file", body)
	var pf map[string]any
	if status != 200 || json.Unmarshal([]byte(resp), &pf) != nil {
		t.Fatalf("select=package_file: %d %s", status, resp)
	}
	for _, k := range []string{"id", "package_id", "created_at", "updated_at", "size", "file_store", "file_md5", "file_sha1",
		"file_name", "file", "file_sha256", "verification_retry_at", "verified_at", "verification_failure",
		"verification_retry_count", "verification_checksum", "verification_state", "verification_started_at"} {
		if _, ok := pf[k]; !ok {
			t.Errorf("package_file JSON lacks %q", k)
		}
	}
	if pf["file_name"] != "dir/sub/nested.bin" || pf["file_sha256"] != sha(body) || pf["file_md5"] != nil || pf["file_sha1"] != nil ||
		pf["size"] != float64(len(body)) || pf["verification_failure"] != nil {
		t.Fatalf("package_file JSON: %s", resp)
	}

	status, got, h := g.get(tok(alice), "acme%2Ftools", "my_pkg/1.0.0/file.txt")
	if status != 200 || got != string(body) {
		t.Fatalf("download: %d %q", status, got)
	}
	want := map[string]string{
		"Content-Type":        "application/octet-stream",
		"Content-Length":      fmt.Sprint(len(body)),
		"Content-Disposition": `attachment; filename="file.txt"; filename*=UTF-8''file.txt`,
		"X-Checksum-Sha256":   sha(body),
		"Etag":                `"` + sha(body) + `"`,
	}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	if _, err := http.ParseTime(h.Get("Last-Modified")); err != nil {
		t.Errorf("Last-Modified %q: %v", h.Get("Last-Modified"), err)
	}
	status, got, _ = g.get(tok(alice), "acme%2Ftools", "my_pkg/1.0.0/dir/sub/nested.bin")
	if status != 200 || got != string(body) {
		t.Fatalf("nested download: %d %q", status, got)
	}
	// Identical content is stored once.
	if s := e.StoredState(t); s != "packages=1 files=2 blobs=1 objects=1" {
		t.Fatalf("after two identical uploads: %s", s)
	}
	// The version listing (beyond GitLab).
	status, got, _ = g.get(tok(alice), "acme%2Ftools", "my_pkg/1.0.0/")
	if status != 200 || !strings.Contains(got, `"file_name":"dir/sub/nested.bin"`) || !strings.Contains(got, `"file_name":"file.txt"`) ||
		!strings.Contains(got, `/api/v4/projects/acme%2Ftools/packages/generic/my_pkg/1.0.0/file.txt`) {
		t.Fatalf("version listing: %d %s", status, got)
	}
	for _, missing := range []string{"my_pkg/1.0.0/nope.txt", "my_pkg/9.9.9/file.txt", "other/1.0.0/file.txt"} {
		if status, got, _ := g.get(tok(alice), "acme%2Ftools", missing); status != 404 || got != `{"message":"404 Not found"}`+"\n" {
			t.Errorf("%s: %d %q", missing, status, got)
		}
	}
	// HEAD answers the headers without the body.
	status, got2, h2 := e.Do(t, "HEAD", g.url("acme%2Ftools", "my_pkg/1.0.0/file.txt"), nil, tok(alice))
	if status != 200 || len(got2) != 0 || h2.Get("Content-Length") != fmt.Sprint(len(body)) {
		t.Fatalf("HEAD: %d %q %v", status, got2, h2)
	}
}

func TestGenericRangeAndConditionalRequests(t *testing.T) {
	e, alice, g, _ := newAcmeTools(t)
	body := []byte("0123456789abcdefghij")
	if status, resp := g.put(tok(alice), "acme%2Ftools", "p/1/f.bin", body); status != 201 {
		t.Fatalf("upload: %d %s", status, resp)
	}
	path := g.url("acme%2Ftools", "p/1/f.bin")
	h := func(kv ...string) map[string]string {
		m := map[string]string{"PRIVATE-TOKEN": alice}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	status, got, hdr := e.Do(t, "GET", path, nil, h("Range", "bytes=2-5"))
	if status != 206 || string(got) != "2345" || hdr.Get("Content-Range") != "bytes 2-5/20" {
		t.Fatalf("range: %d %q %q", status, got, hdr.Get("Content-Range"))
	}
	status, got, _ = e.Do(t, "GET", path, nil, h("Range", "bytes=-3"))
	if status != 206 || string(got) != "hij" {
		t.Fatalf("suffix range: %d %q", status, got)
	}
	status, _, _ = e.Do(t, "GET", path, nil, h("Range", "bytes=50-60"))
	if status != 416 {
		t.Fatalf("unsatisfiable range: %d", status)
	}
	etag := `"` + sha(body) + `"`
	status, got, _ = e.Do(t, "GET", path, nil, h("If-None-Match", etag))
	if status != 304 || len(got) != 0 {
		t.Fatalf("If-None-Match: %d", status)
	}
	status, _, _ = e.Do(t, "GET", path, nil, h("If-None-Match", `"other"`))
	if status != 200 {
		t.Fatalf("If-None-Match mismatch: %d", status)
	}
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	status, _, _ = e.Do(t, "GET", path, nil, h("If-Modified-Since", future))
	if status != 304 {
		t.Fatalf("If-Modified-Since: %d", status)
	}
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	status, _, _ = e.Do(t, "GET", path, nil, h("If-Modified-Since", past))
	if status != 200 {
		t.Fatalf("If-Modified-Since in the past: %d", status)
	}
}

func TestGenericAuthTable(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "pub", "PUBLIC")
	e.CreateProject(t, alice, "pub", "proj", "PUBLIC")
	e.CreateGroup(t, alice, "", "priv", "PRIVATE")
	e.CreateProject(t, alice, "priv", "proj", "PRIVATE")
	e.CreateProject(t, alice, "priv", "other", "PRIVATE")
	outsider := e.CreateUser(t, "outsider")
	guest := e.CreateUser(t, "guest")
	dev := e.CreateUser(t, "dev")
	e.AddMember(t, alice, "priv", "guest", "GUEST")
	e.AddMember(t, alice, "priv", "dev", "DEVELOPER")
	e.AddMember(t, alice, "pub", "guest", "GUEST")
	devRead := e.CreateToken(t, servertest.RootToken, "dev", "READ_API")
	g := gen{e, t}
	for _, p := range []string{"pub%2Fproj", "priv%2Fproj", "priv%2Fother"} {
		if status, resp := g.put(tok(alice), p, "seed/1.0/seed.txt", []byte("seed")); status != 201 {
			t.Fatalf("seed %s: %d %s", p, status, resp)
		}
	}
	token := func(q, field string) string {
		var out map[string]struct{ Token string }
		e.MustGraphQL(t, alice, q, nil).Decode(t, &out)
		return out[field].Token
	}
	deployRead := token(`mutation { createDeployToken(input: {fullPath: "priv/proj", name: "r", scopes: [READ_PACKAGE_REGISTRY]}) { token errors } }`, "createDeployToken")
	deployWrite := token(`mutation { createDeployToken(input: {fullPath: "priv/proj", name: "w", scopes: [WRITE_PACKAGE_REGISTRY]}) { token errors } }`, "createDeployToken")
	var job struct{ CreateJobToken struct{ Token string } }
	e.MustGraphQL(t, dev, `mutation { createJobToken(input: {projectPath: "priv/proj"}) { token errors } }`, nil).Decode(t, &job)
	jobTok := job.CreateJobToken.Token
	basic := func(user, pw string) map[string]string {
		return map[string]string{"Authorization": servertest.BasicAuth(user, pw)}
	}

	cases := []struct {
		name     string
		headers  map[string]string
		project  string
		get, put int
	}{
		{"public, anonymous", nil, "pub%2Fproj", 200, 401},
		{"public, non-member", tok(outsider), "pub%2Fproj", 200, 403},
		{"public, guest", tok(guest), "pub%2Fproj", 200, 403},
		{"private, anonymous", nil, "priv%2Fproj", 401, 401},
		{"private, non-member", tok(outsider), "priv%2Fproj", 404, 404},
		{"private, guest", tok(guest), "priv%2Fproj", 200, 403},
		{"private, developer", tok(dev), "priv%2Fproj", 200, 201},
		{"private, developer via Basic", basic("dev", dev), "priv%2Fproj", 200, 201},
		{"private, developer via Bearer", map[string]string{"Authorization": "Bearer " + dev}, "priv%2Fproj", 200, 201},
		{"invalid token", tok("glpat-invalid-000000000000"), "priv%2Fproj", 401, 401},
		{"invalid token on a public project", tok("glpat-invalid-000000000000"), "pub%2Fproj", 401, 401},
		{"read_api scope", tok(devRead), "priv%2Fproj", 200, 403},
		{"deploy token, read", map[string]string{"Deploy-Token": deployRead}, "priv%2Fproj", 200, 403},
		{"deploy token, write", map[string]string{"Deploy-Token": deployWrite}, "priv%2Fproj", 403, 201},
		{"deploy token via Basic", basic("gitlab+deploy-token-1", deployRead), "priv%2Fproj", 200, 403},
		{"deploy token, other project", map[string]string{"Deploy-Token": deployRead}, "priv%2Fother", 404, 404},
		{"job token header", map[string]string{"JOB-TOKEN": jobTok}, "priv%2Fproj", 200, 201},
		{"job token via Basic gitlab-ci-token", basic("gitlab-ci-token", jobTok), "priv%2Fproj", 200, 201},
		{"job token, other project", map[string]string{"JOB-TOKEN": jobTok}, "priv%2Fother", 404, 404},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body, hdr := g.get(c.headers, c.project, "seed/1.0/seed.txt")
			if status != c.get {
				t.Errorf("GET: %d %s, want %d", status, body, c.get)
			}
			if status == 401 && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), `Basic realm="`) {
				t.Errorf("401 without a Basic challenge: %v", hdr)
			}
			if status == 200 && body != "seed" {
				t.Errorf("GET body %q", body)
			}
			status, body = g.put(c.headers, c.project, fmt.Sprintf("auth/1.0/f%d.txt", i), []byte("x"))
			if status != c.put {
				t.Errorf("PUT: %d %s, want %d", status, body, c.put)
			}
		})
	}
	t.Run("packages disabled", func(t *testing.T) {
		e.MustGraphQL(t, alice, `mutation { updateProject(input: {fullPath: "priv/other", packagesEnabled: false}) { errors } }`, nil)
		status, body := g.put(tok(alice), "priv%2Fother", "x/1/x.txt", []byte("x"))
		if status != 403 || !strings.Contains(body, "package registry is disabled") {
			t.Fatalf("upload with packages disabled: %d %s", status, body)
		}
	})
}

func TestGenericValidationStoresNothing(t *testing.T) {
	e, alice, g, _ := newAcmeTools(t)
	before := e.StoredState(t)
	long := strings.Repeat("a", 256)
	cases := []struct{ rest, want string }{
		{"bad%20name!/1.0/f.txt", `{"error":"package_name is invalid"}`},
		{"a%2Fb/1.0/f.txt", `{"error":"package_name is invalid"}`},
		{long + "/1.0/f.txt", `package_name is invalid`},
		{"pkg/1..0/f.txt", `{"error":"package_version is invalid"}`},
		{"pkg/1.0%2Fx/f.txt", `{"error":"package_version is invalid"}`},
		{"pkg/-%20bad/f.txt", `{"error":"package_version is invalid"}`},
		{"pkg/" + long + "/f.txt", `package_version is invalid`},
		{"pkg/1.0/~f.txt", `{"error":"file_name is invalid"}`},
		{"pkg/1.0/f.txt@", `{"error":"file_name is invalid"}`},
		{"pkg/1.0/f%20x.txt", `{"error":"file_name is invalid"}`},
		{"pkg/1.0/" + strings.Repeat("d/", 520) + "f", `file_name is invalid`},
		{"pkg/1.0/../f.txt", `path is invalid`},
		{"pkg/1.0/%2e%2e%2ff.txt", `path is invalid`},
		{"pkg/1.0/%2E%2E/f.txt", `path is invalid`},
		{"pkg/1.0/dir/%252e%252e/f.txt", `path is invalid`},
		{"pkg/1.0/dir//f.txt", `path is invalid`},
		{"pkg/1.0/f.txt?status=public", `{"error":"status does not have a valid value"}`},
		{"pkg/1.0/f.txt?select=everything", `{"error":"select does not have a valid value"}`},
	}
	var bad []servertest.BadRequest
	for _, c := range cases {
		bad = append(bad, servertest.BadRequest{Name: c.rest[:min(len(c.rest), 40)], Method: "PUT", Path: g.url("acme%2Ftools", c.rest),
			Body: []byte("data"), Header: tok(alice), Status: 400, Message: c.want})
	}
	e.RefusesAndStoresNothing(t, bad)
	t.Run("checksum mismatch", func(t *testing.T) {
		start := e.StoredState(t)
		body := []byte("checked content")
		m := md5.Sum([]byte("other"))
		wrong := sha([]byte("other"))
		for name, h := range map[string]map[string]string{
			"X-Checksum-SHA256": {"X-Checksum-SHA256": wrong},
			"Content-MD5":       {"Content-MD5": base64.StdEncoding.EncodeToString(m[:])},
			"Digest":            {"Digest": "sha-256=" + base64.StdEncoding.EncodeToString(must(hex.DecodeString(wrong)))},
			"malformed":         {"X-Checksum-SHA256": "xyz"},
		} {
			h["PRIVATE-TOKEN"] = alice
			status, resp := g.put(h, "acme%2Ftools", "sum/1.0/f.txt", body)
			if status != 400 || !strings.Contains(resp, "SHA") && !strings.Contains(resp, "MD5") {
				t.Errorf("%s: %d %s", name, status, resp)
			}
		}
		// Checked here, before the matching upload below (which is wiped):
		// a mismatched body leaves no row and no object behind.
		if after := e.StoredState(t); after != start {
			t.Fatalf("a checksum mismatch stored something: %s -> %s", start, after)
		}
		if status, _, _ := g.get(tok(alice), "acme%2Ftools", "sum/1.0/f.txt"); status != 404 {
			t.Fatalf("a file that failed its checksum downloads: %d", status)
		}
		good := md5.Sum(body)
		status, resp := g.put(map[string]string{"PRIVATE-TOKEN": alice, "X-Checksum-SHA256": sha(body),
			"Content-MD5": base64.StdEncoding.EncodeToString(good[:])}, "acme%2Ftools", "sum/1.0/f.txt", body)
		if status != 201 {
			t.Fatalf("matching checksums: %d %s", status, resp)
		}
		wipePackages(t, e)
	})
	if after := e.StoredState(t); after != before {
		t.Fatalf("bad input stored something: %s -> %s", before, after)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestGenericDuplicateRules(t *testing.T) {
	e, alice, g, _ := newAcmeTools(t)
	cases := []struct {
		allowed   bool
		regex     string
		name, ver string
		second    int
	}{
		{true, "", "a", "1.0", 201},
		{false, "", "b", "1.0", 400},
		{true, "c.*", "c-lib", "1.0", 400}, // allowed, but the name matches: refused
		{true, "c.*", "d-lib", "1.0", 201}, // allowed, no match
		{true, ".*-SNAPSHOT", "e", "2.0-SNAPSHOT", 400},
		{false, ".*-SNAPSHOT", "f", "2.0-SNAPSHOT", 201}, // not allowed, but the version matches: accepted
		{false, ".*-SNAPSHOT", "g", "2.0", 400},
		{false, "lib", "h-lib", "1.0", 400}, // the regex must match the whole name
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("allowed=%v regex=%q %s/%s", c.allowed, c.regex, c.name, c.ver), func(t *testing.T) {
			e.SetDuplicates(t, alice, "acme", "GENERIC", c.allowed, c.regex)
			rest := fmt.Sprintf("%s/%s/file.txt", c.name, c.ver)
			if status, resp := g.put(tok(alice), "acme%2Ftools", rest, []byte(fmt.Sprint("first ", i))); status != 201 {
				t.Fatalf("first upload: %d %s", status, resp)
			}
			status, resp := g.put(tok(alice), "acme%2Ftools", rest, []byte(fmt.Sprint("second ", i)))
			if status != c.second {
				t.Fatalf("second upload: %d %s, want %d", status, resp, c.second)
			}
			if status == 400 && resp != `{"message":"400 Bad request - Duplicate package is not allowed"}`+"\n" {
				t.Fatalf("duplicate message %q", resp)
			}
			_, got, _ := g.get(tok(alice), "acme%2Ftools", rest)
			want := fmt.Sprint("first ", i)
			if status == 201 {
				want = fmt.Sprint("second ", i) // the newest file wins
			}
			if got != want {
				t.Fatalf("download gives %q, want %q", got, want)
			}
		})
	}
	t.Run("settings are validated and owner-only", func(t *testing.T) {
		r := e.GraphQL(t, alice, `mutation { updateNamespacePackageSettings(input: {namespacePath: "acme", genericDuplicateExceptionRegex: "(unclosed"}) { packageSettings { genericDuplicateExceptionRegex } errors } }`, nil)
		if errs := payloadErrors(t, r, "updateNamespacePackageSettings"); len(errs) != 1 || !strings.Contains(errs[0], "not a valid regular expression") {
			t.Fatalf("bad regex: %v", errs)
		}
		r = e.GraphQL(t, alice, `mutation($r: String) { updateNamespacePackageSettings(input: {namespacePath: "acme", genericDuplicateExceptionRegex: $r}) { errors } }`,
			map[string]any{"r": strings.Repeat("a", 256)})
		if errs := payloadErrors(t, r, "updateNamespacePackageSettings"); len(errs) != 1 || !strings.Contains(errs[0], "too long") {
			t.Fatalf("long regex: %v", errs)
		}
		r = e.MustGraphQL(t, alice, `{ namespace(fullPath: "acme") { packageSettings { genericDuplicatesAllowed genericDuplicateExceptionRegex pypiDuplicatesAllowed npmDuplicatesAllowed mavenDuplicatesAllowed } } }`, nil)
		if string(r.Data) != `{"namespace":{"packageSettings":{"genericDuplicatesAllowed":false,"genericDuplicateExceptionRegex":"lib","pypiDuplicatesAllowed":false,"npmDuplicatesAllowed":false,"mavenDuplicatesAllowed":true}}}` {
			t.Fatalf("settings after rejected changes: %s", r.Data)
		}
		bob := e.CreateUser(t, "bob")
		e.AddMember(t, alice, "acme", "bob", "MAINTAINER")
		r = e.GraphQL(t, bob, `mutation { updateNamespacePackageSettings(input: {namespacePath: "acme", genericDuplicatesAllowed: true}) { errors } }`, nil)
		if r.Code() != "FORBIDDEN" {
			t.Fatalf("maintainer changing settings: %+v", r.Errors)
		}
	})
}

func TestGenericConcurrency(t *testing.T) {
	e, alice, g, _ := newAcmeTools(t)
	run := func(n int, rest func(i int) string, body func(i int) []byte) map[int]int {
		var mu sync.Mutex
		codes := map[int]int{}
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, resp := g.put(tok(alice), "acme%2Ftools", rest(i), body(i))
				if status >= 500 {
					t.Errorf("upload %d: %d %s", i, status, resp)
				}
				mu.Lock()
				codes[status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		return codes
	}
	t.Run("many files into a brand-new version: one package", func(t *testing.T) {
		codes := run(24, func(i int) string { return fmt.Sprintf("fresh/1.0.0/file-%d.bin", i) },
			func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 1000+i) })
		if codes[201] != 24 {
			t.Fatalf("status codes %v", codes)
		}
		n, _ := e.Server.DB.Pkg.Query().Count(t.Context())
		files, _ := e.Server.DB.PackageFile.Query().Count(t.Context())
		if n != 1 || files != 24 {
			t.Fatalf("%d packages, %d files", n, files)
		}
	})
	t.Run("identical uploads with duplicates disallowed: exactly one wins", func(t *testing.T) {
		e.SetDuplicates(t, alice, "acme", "GENERIC", false, "")
		codes := run(50, func(int) string { return "race/2.0.0/same.bin" }, func(int) []byte { return []byte("same bytes") })
		if codes[201] != 1 || codes[400] != 49 {
			t.Fatalf("status codes %v", codes)
		}
		files, _ := e.Server.DB.PackageFile.Query().Where().Count(t.Context())
		if files != 25 {
			t.Fatalf("%d file rows, want 24 + 1", files)
		}
	})
}

func TestGenericHiddenPackages(t *testing.T) {
	e, alice, g, id := newAcmeTools(t)
	g.put(tok(alice), "acme%2Ftools", "visible/1.0/v.txt", []byte("v"))
	if status, resp := g.put(tok(alice), "acme%2Ftools", "secret/1.0/s.txt?status=hidden", []byte("s")); status != 201 {
		t.Fatalf("hidden upload: %d %s", status, resp)
	}
	if status, got, _ := g.get(tok(alice), "acme%2Ftools", "secret/1.0/s.txt"); status != 200 || got != "s" {
		t.Fatalf("hidden download: %d %q", status, got)
	}
	names := func(path string) string {
		status, b, _ := e.Do(t, "GET", path, nil, tok(alice))
		var pkgs []struct{ Name, Status string }
		if status != 200 || json.Unmarshal(b, &pkgs) != nil {
			t.Fatalf("%s: %d %s", path, status, b)
		}
		var out []string
		for _, p := range pkgs {
			out = append(out, p.Name+":"+p.Status)
		}
		return strings.Join(out, ",")
	}
	if got := names(fmt.Sprintf("/api/v4/projects/%d/packages", id)); got != "visible:default" {
		t.Fatalf("project listing: %s", got)
	}
	if got := names(fmt.Sprintf("/api/v4/projects/%d/packages?status=hidden", id)); got != "secret:hidden" {
		t.Fatalf("project listing of hidden: %s", got)
	}
	if got := names("/api/v4/groups/acme/packages"); got != "visible:default" {
		t.Fatalf("group listing: %s", got)
	}
	q := `query($s: PackageStatus) { project(fullPath: "acme/tools") { packages(status: $s) { count nodes { name status } } }
		group(fullPath: "acme") { packages(status: $s) { nodes { name } } } }`
	if r := e.MustGraphQL(t, alice, q, nil); string(r.Data) != `{"project":{"packages":{"count":1,"nodes":[{"name":"visible","status":"DEFAULT"}]}},"group":{"packages":{"nodes":[{"name":"visible"}]}}}` {
		t.Fatalf("GraphQL listing: %s", r.Data)
	}
	if r := e.MustGraphQL(t, alice, q, map[string]any{"s": "HIDDEN"}); string(r.Data) != `{"project":{"packages":{"count":1,"nodes":[{"name":"secret","status":"HIDDEN"}]}},"group":{"packages":{"nodes":[{"name":"secret"}]}}}` {
		t.Fatalf("GraphQL hidden listing: %s", r.Data)
	}
	// Uploading with status=default switches the package back.
	g.put(tok(alice), "acme%2Ftools", "secret/1.0/s2.txt?status=default", []byte("s2"))
	if got := names(fmt.Sprintf("/api/v4/projects/%d/packages?order_by=name", id)); got != "secret:default,visible:default" {
		t.Fatalf("after switching status: %s", got)
	}
}

func TestGenericSizeLimit(t *testing.T) {
	cfg := servertest.NewConfig(t)
	cfg.MaxFileSize = 1 << 20
	e := servertest.NewWithConfig(t, cfg)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	e.CreateProject(t, alice, "acme", "tools", "PRIVATE")
	g := gen{e, t}
	before := e.StoredState(t)
	if status, resp := g.put(tok(alice), "acme%2Ftools", "big/1/at-limit.bin", make([]byte, 1<<20)); status != 201 {
		t.Fatalf("file at the limit: %d %s", status, resp)
	}
	wipePackages(t, e)

	// Announced too large: refused before the body is read.
	status, resp := g.put(tok(alice), "acme%2Ftools", "big/1/over.bin", make([]byte, 1<<20+1))
	if status != 413 || !strings.Contains(resp, "limit") {
		t.Fatalf("Content-Length over the limit: %d %s", status, resp)
	}
	// Chunked (no Content-Length): stopped while streaming.
	req, _ := http.NewRequest("PUT", e.URL+g.url("acme%2Ftools", "big/1/chunked.bin"), io.MultiReader(bytes.NewReader(make([]byte, 3<<20))))
	req.Header.Set("PRIVATE-TOKEN", alice)
	req.ContentLength = -1
	r, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 413 {
		t.Fatalf("chunked over the limit: %d %s", r.StatusCode, b)
	}
	if after := e.StoredState(t); after != before {
		t.Fatalf("oversize uploads stored something: %s -> %s", before, after)
	}
}

func TestGenericInterruptedUploadLeavesNothing(t *testing.T) {
	e, alice, _, _ := newAcmeTools(t)
	before := e.StoredState(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT /api/v4/projects/acme%%2Ftools/packages/generic/cut/1.0/f.bin HTTP/1.1\r\nHost: x\r\nPRIVATE-TOKEN: %s\r\nContent-Length: 1048576\r\n\r\n", alice)
	conn.Write(make([]byte, 100_000))
	time.Sleep(200 * time.Millisecond)
	conn.Close()
	// The server notices the cut and cleans up; poll briefly.
	deadline := time.Now().Add(5 * time.Second)
	for e.StoredState(t) != before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if after := e.StoredState(t); after != before {
		t.Fatalf("interrupted upload left %s (before: %s)", after, before)
	}
	status, _, _ := gen{e, t}.get(tok(alice), "acme%2Ftools", "cut/1.0/f.bin")
	if status != 404 {
		t.Fatalf("interrupted file downloadable: %d", status)
	}
}

func TestGenericDeleteAndSweep(t *testing.T) {
	e, alice, g, id := newAcmeTools(t)
	g.put(tok(alice), "acme%2Ftools", "a/1.0/shared.txt", []byte("shared"))
	g.put(tok(alice), "acme%2Ftools", "b/1.0/shared.txt", []byte("shared"))
	g.put(tok(alice), "acme%2Ftools", "a/1.0/only.txt", []byte("only in a"))
	pkgs := e.Server.DB.Pkg.Query().AllX(t.Context())
	var aID int
	for _, p := range pkgs {
		if p.Name == "a" {
			aID = p.ID
		}
	}
	// A developer may not delete; a maintainer may.
	dev := e.CreateUser(t, "dev")
	e.AddMember(t, alice, "acme", "dev", "DEVELOPER")
	if status, _, _ := e.Do(t, "DELETE", fmt.Sprintf("/api/v4/projects/%d/packages/%d", id, aID), nil, tok(dev)); status != 403 {
		t.Fatalf("developer delete: %d", status)
	}
	if status, b, _ := e.Do(t, "DELETE", fmt.Sprintf("/api/v4/projects/%d/packages/%d", id, aID), nil, tok(alice)); status != 204 {
		t.Fatalf("delete: %d %s", status, b)
	}
	if status, _, _ := g.get(tok(alice), "acme%2Ftools", "a/1.0/only.txt"); status != 404 {
		t.Fatalf("deleted file still downloads: %d", status)
	}
	if status, got, _ := g.get(tok(alice), "acme%2Ftools", "b/1.0/shared.txt"); status != 200 || got != "shared" {
		t.Fatalf("file sharing a blob with a deleted one: %d %q", status, got)
	}
	// Before the grace period nothing is swept; after it, only the blob
	// no file uses.
	st, err := e.Server.Sweeper.RunOnce(t.Context())
	if err != nil || st.OrphanedBlobs != 0 {
		t.Fatalf("sweep within grace: %+v %v", st, err)
	}
	e.Clock.Advance(e.Config.GCGrace + time.Minute)
	st, err = e.Server.Sweeper.RunOnce(t.Context())
	if err != nil || st.OrphanedBlobs != 1 {
		t.Fatalf("sweep after grace: %+v %v", st, err)
	}
	if s := e.StoredState(t); s != "packages=1 files=1 blobs=1 objects=1" {
		t.Fatalf("after sweep: %s", s)
	}
	if status, got, _ := g.get(tok(alice), "acme%2Ftools", "b/1.0/shared.txt"); status != 200 || got != "shared" {
		t.Fatalf("shared blob lost: %d %q", status, got)
	}
}

func TestUploadsToRemoteAndVirtualAreRefused(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	e.CreateRemoteProject(t, alice, "acme", "mirror", "GENERIC", "http://127.0.0.1:1/x")
	e.CreateVirtualProject(t, alice, "acme", "all", "GENERIC")
	for _, p := range []string{"acme%2Fmirror", "acme%2Fall"} {
		status, resp := gen{e, t}.put(tok(alice), p, "x/1.0/x.txt", []byte("x"))
		if status != 405 || !strings.Contains(resp, "read-only") {
			t.Fatalf("%s: %d %s", p, status, resp)
		}
	}
}
