package server_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/servertest"
)

// createRemote creates a public REMOTE project and returns the payload's
// errors (the mutation's user-fixable problems).
func createRemote(t *testing.T, e *servertest.Env, token, ns, path, format, remote string, extra map[string]any) []string {
	t.Helper()
	vars := map[string]any{"n": ns, "p": path, "f": format, "u": remote, "user": nil, "pw": nil}
	for k, v := range extra {
		vars[k] = v
	}
	var out struct {
		CreateProject struct{ Errors []string }
	}
	r := e.GraphQL(t, token, `mutation($n: ID!, $p: String!, $f: PackageFormat, $u: String, $user: String, $pw: String) {
		createProject(input: {namespacePath: $n, path: $p, repositoryMode: REMOTE, format: $f, remoteUrl: $u, visibility: PUBLIC,
			remoteUsername: $user, remotePassword: $pw}) { errors } }`, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("createProject: %+v", r.Errors)
	}
	r.Decode(t, &out)
	return out.CreateProject.Errors
}

// countingServer is an upstream on loopback that answers body and counts
// the requests that reach it.
func countingServer(t *testing.T, host, body string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(body))
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &hits
}

func storedFiles(t *testing.T, e *servertest.Env) int {
	return e.Server.DB.PackageFile.Query().CountX(t.Context())
}

// The default configuration (no --remote-allow-cidrs) refuses remote URLs
// that name or resolve to internal addresses when they are configured, with
// a 4xx-class payload error that says why, and creates nothing.
func TestRemoteURLRefusedAtConfiguration(t *testing.T) {
	cfg := servertest.NewConfig(t)
	cfg.RemoteAllowCIDRs = ""
	e := servertest.NewWithConfig(t, cfg)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "pub", "PUBLIC")
	up, hits := countingServer(t, "127.0.0.1", "internal secret")
	port := up.URL[strings.LastIndex(up.URL, ":")+1:]

	for name, c := range map[string]struct{ url, want string }{
		"loopback":             {"http://127.0.0.1:" + port + "/g", "remoteUrl host 127.0.0.1 is a loopback address"},
		"localhost":            {"http://localhost:" + port + "/g", "remoteUrl host localhost resolves to"},
		"IPv6 loopback":        {"http://[::1]:" + port + "/g", "is a loopback address"},
		"IPv4-mapped loopback": {"http://[::ffff:127.0.0.1]:" + port + "/g", "127.0.0.1, a loopback address"},
		"unspecified":          {"http://0.0.0.0:" + port + "/g", "is an unspecified address"},
		"IPv6 unspecified":     {"http://[::]:" + port + "/g", "is an unspecified address"},
		"metadata":             {"http://169.254.169.254/latest/meta-data", "is a cloud metadata address"},
		"Alibaba metadata":     {"http://100.100.100.200/latest/meta-data", "is a cloud metadata address"},
		"NAT64 metadata":       {"http://[64:ff9b::a9fe:a9fe]/", "is a cloud metadata address"},
		"link-local":           {"http://169.254.10.1/", "is a link-local address"},
		"IPv6 link-local":      {"http://[fe80::1]/", "is a link-local address"},
		"private":              {"http://10.1.2.3/", "is a private or unique-local address"},
		"private 192.168":      {"https://192.168.0.10/", "is a private or unique-local address"},
		"unique-local":         {"http://[fd12::1]/", "is a private or unique-local address"},
		"multicast":            {"http://224.0.0.1/", "is a multicast address"},
	} {
		t.Run(name, func(t *testing.T) {
			path := strings.ToLower(strings.NewReplacer(" ", "-", "/", "-").Replace(name))
			errs := createRemote(t, e, alice, "pub", path, "GENERIC", c.url, nil)
			if len(errs) != 1 || !strings.Contains(errs[0], c.want) || !strings.Contains(errs[0], "--remote-allow-cidrs") {
				t.Fatalf("createProject with %s: errors %q, want one naming %q and the allow-list flag", c.url, errs, c.want)
			}
			r := e.MustGraphQL(t, alice, `query($p: ID!) { project(fullPath: $p) { id } }`, map[string]any{"p": "pub/" + path})
			if string(r.Data) != `{"project":null}` {
				t.Fatalf("a refused project was created: %s", r.Data)
			}
		})
	}

	// Public addresses, documentation ranges included (the public
	// registries these machines reach resolve into 203.0.113.0/24), are
	// accepted, and a name that does not resolve (yet) is left to the
	// check at dial time.
	for path, u := range map[string]string{"doc-range": "http://203.0.113.7/api/v4/projects/1/packages/generic", "unresolved": "https://upstream.invalid/generic"} {
		if errs := createRemote(t, e, alice, "pub", path, "GENERIC", u, nil); len(errs) > 0 {
			t.Fatalf("%s refused: %q", u, errs)
		}
	}
	// Changing the URL of an existing project is checked the same way and
	// changes nothing when refused.
	var upd struct {
		UpdateRemoteRepositoryConfig struct{ Errors []string }
	}
	e.GraphQL(t, alice, `mutation($u: String) { updateRemoteRepositoryConfig(input: {projectPath: "pub/doc-range", url: $u}) { errors } }`,
		map[string]any{"u": "http://localhost:" + port + "/g"}).Decode(t, &upd)
	if errs := upd.UpdateRemoteRepositoryConfig.Errors; len(errs) != 1 || !strings.Contains(errs[0], "loopback address") {
		t.Fatalf("update to localhost: %q", errs)
	}
	r := e.MustGraphQL(t, alice, `{ project(fullPath: "pub/doc-range") { remoteRepositoryConfig { url } } }`, nil)
	if !strings.Contains(string(r.Data), "203.0.113.7") {
		t.Fatalf("a refused update changed the URL: %s", r.Data)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the internal server was contacted %d times", n)
	}
}

// A REMOTE project whose upstream is loopback, configured while the
// operator allowed it, is refused at fetch time (dial time) once the
// allow-list no longer names it: a clear 502 to anonymous readers of the
// public project, no connection, nothing stored. The same read through a
// server that allows loopback succeeds, so it is the guard that refuses.
func TestRemoteFetchRefusedAtDialTime(t *testing.T) {
	cfg := servertest.NewConfig(t) // allows loopback
	allowed := servertest.NewWithConfig(t, cfg)
	cfg.RemoteAllowCIDRs = ""
	strict := servertest.NewWithConfig(t, cfg) // same database and blobs, default allow-list
	alice := allowed.CreateUser(t, "alice")
	allowed.CreateGroup(t, alice, "", "pub", "PUBLIC")
	up, hits := countingServer(t, "127.0.0.1", "internal secret")
	if errs := createRemote(t, allowed, alice, "pub", "mirror", "GENERIC", up.URL+"/g", nil); len(errs) > 0 {
		t.Fatal(errs)
	}
	// localhost resolves at dial time to a loopback address too.
	localhost := strings.Replace(up.URL, "127.0.0.1", "localhost", 1)
	if errs := createRemote(t, allowed, alice, "pub", "byname", "GENERIC", localhost+"/g", nil); len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, prj := range []string{"pub%2Fmirror", "pub%2Fbyname"} {
		status, body, _ := strict.Do(t, "GET", "/api/v4/projects/"+prj+"/packages/generic/tool/1.0/secret.txt", nil, nil)
		if status != 502 || !strings.Contains(string(body), "a loopback address") ||
			!strings.Contains(string(body), "--remote-allow-cidrs") || strings.Contains(string(body), "internal secret") {
			t.Fatalf("%s through the default guard: %d %s", prj, status, body)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the guard let %d requests through", n)
	}
	if n := storedFiles(t, strict); n != 0 {
		t.Fatalf("%d files stored", n)
	}
	if status, body, _ := allowed.Do(t, "GET", "/api/v4/projects/pub%2Fmirror/packages/generic/tool/1.0/secret.txt", nil, nil); status != 200 || string(body) != "internal secret" {
		t.Fatalf("with loopback allowed: %d %s", status, body)
	}
}

// A redirect from an allowed upstream to a refused address is refused at
// dial time: the refused host gets no request and nothing is stored.
// Upstream metadata that points files at a refused address is refused the
// same way.
func TestRemoteRedirectToRefusedAddress(t *testing.T) {
	cfg := servertest.NewConfig(t)
	cfg.RemoteAllowCIDRs = "127.0.0.1/32" // 127.0.0.2 and the rest of 127/8 stay refused
	e := servertest.NewWithConfig(t, cfg)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "pub", "PUBLIC")
	inner, innerHits := countingServer(t, "127.0.0.2", "internal secret")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/inner.txt"):
			http.Redirect(w, r, inner.URL+"/secret", http.StatusFound)
		case strings.HasSuffix(r.URL.Path, "/metadata.txt"):
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/iam/security-credentials/", http.StatusFound)
		case strings.HasSuffix(r.URL.Path, "/ok.txt"):
			w.Write([]byte("public file"))
		case strings.HasPrefix(r.URL.Path, "/simple/demo/"):
			// A PyPI page on an allowed host that links a file on a refused one.
			fmt.Fprintf(w, `<a href="%s/demo-1.0.tar.gz#sha256=%s">demo-1.0.tar.gz</a>`, inner.URL, sha([]byte("internal secret")))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(up.Close)
	if errs := createRemote(t, e, alice, "pub", "gen", "GENERIC", up.URL+"/g", nil); len(errs) > 0 {
		t.Fatal(errs)
	}
	if errs := createRemote(t, e, alice, "pub", "py", "PYPI", up.URL+"/simple", nil); len(errs) > 0 {
		t.Fatal(errs)
	}
	if status, body, _ := e.Do(t, "GET", "/api/v4/projects/pub%2Fgen/packages/generic/tool/1.0/ok.txt", nil, nil); status != 200 || string(body) != "public file" {
		t.Fatalf("allowed upstream: %d %s", status, body)
	}
	for file, want := range map[string]string{"inner.txt": "127.0.0.2 is a loopback address", "metadata.txt": "169.254.169.254 is a cloud metadata address"} {
		status, body, _ := e.Do(t, "GET", "/api/v4/projects/pub%2Fgen/packages/generic/tool/1.0/"+file, nil, nil)
		if status != 502 || !strings.Contains(string(body), want) || strings.Contains(string(body), "internal secret") {
			t.Fatalf("redirect (%s): %d %s", file, status, body)
		}
	}
	status, body, _ := e.Do(t, "GET", "/api/v4/projects/pub%2Fpy/packages/pypi/files/"+sha([]byte("internal secret"))+"/demo-1.0.tar.gz", nil, nil)
	if status != 502 || !strings.Contains(string(body), "127.0.0.2 is a loopback address") {
		t.Fatalf("PyPI file on a refused host: %d %s", status, body)
	}
	if n := innerHits.Load(); n != 0 {
		t.Fatalf("the refused host got %d requests", n)
	}
	if n := storedFiles(t, e); n != 1 {
		t.Fatalf("%d files stored, want only ok.txt", n)
	}
}

// authLog records the Authorization header of every request a server gets.
type authLog struct {
	mu   sync.Mutex
	seen map[string][]string // path -> Authorization values ("" when none)
}

func (l *authLog) record(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string][]string{}
	}
	l.seen[r.URL.Path] = append(l.seen[r.URL.Path], r.Header.Get("Authorization"))
}

func (l *authLog) get(path string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen[path]
}

// Credentials of a REMOTE project reach only its upstream's own origin:
// not a file host its index links (another port on the same address, or
// another name for the same server), and not where a redirect from the
// upstream leads.
func TestRemoteCredentialsOnlyToTheUpstream(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "pub", "PUBLIC")
	files := map[string][]byte{
		"demo-1.0.tar.gz": []byte("sdist linked on another port"),
		"demo-2.0.tar.gz": []byte("sdist linked under another host name"),
		"demo-3.0.tar.gz": []byte("sdist behind a redirect to another port"),
	}
	var indexLog, fileLog authLog
	serveFile := func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		if b, ok := files[name]; ok {
			w.Write(b)
			return
		}
		http.NotFound(w, r)
	}
	fileHost := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fileLog.record(r)
		serveFile(w, r)
	}))
	t.Cleanup(fileHost.Close)
	var index *httptest.Server
	index = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		indexLog.record(r)
		switch {
		case r.URL.Path == "/simple/demo/":
			byName := strings.Replace(index.URL, "127.0.0.1", "localhost", 1)
			fmt.Fprintf(w, `<a href="%s/files/demo-1.0.tar.gz#sha256=%s">demo-1.0.tar.gz</a>`+"\n", fileHost.URL, sha(files["demo-1.0.tar.gz"]))
			fmt.Fprintf(w, `<a href="%s/byname/demo-2.0.tar.gz#sha256=%s">demo-2.0.tar.gz</a>`+"\n", byName, sha(files["demo-2.0.tar.gz"]))
			fmt.Fprintf(w, `<a href="/redirect/demo-3.0.tar.gz#sha256=%s">demo-3.0.tar.gz</a>`+"\n", sha(files["demo-3.0.tar.gz"]))
		case strings.HasPrefix(r.URL.Path, "/redirect/"):
			http.Redirect(w, r, fileHost.URL+"/files/demo-3.0.tar.gz", http.StatusFound)
		default:
			serveFile(w, r)
		}
	}))
	t.Cleanup(index.Close)
	if errs := createRemote(t, e, alice, "pub", "py", "PYPI", index.URL+"/simple",
		map[string]any{"user": "svc", "pw": "s3cret-upstream-pw"}); len(errs) > 0 {
		t.Fatal(errs)
	}
	want := servertest.BasicAuth("svc", "s3cret-upstream-pw")
	if status, body, _ := e.Do(t, "GET", "/api/v4/projects/pub%2Fpy/packages/pypi/simple/demo/", nil, nil); status != 200 {
		t.Fatalf("simple page: %d %s", status, body)
	}
	for name, b := range files {
		status, body, _ := e.Do(t, "GET", "/api/v4/projects/pub%2Fpy/packages/pypi/files/"+sha(b)+"/"+name, nil, nil)
		if status != 200 || string(body) != string(b) {
			t.Fatalf("%s: %d %s", name, status, body)
		}
	}
	// The upstream's own origin gets the credentials: its page, and the
	// request it redirects.
	for _, path := range []string{"/simple/demo/", "/redirect/demo-3.0.tar.gz"} {
		if got := indexLog.get(path); len(got) != 1 || got[0] != want {
			t.Fatalf("upstream %s got Authorization %q, want the credentials", path, got)
		}
	}
	// Everything else gets none: another port (linked, or redirected
	// to), another host name for the same server.
	for _, c := range []struct {
		log  *authLog
		path string
	}{{&fileLog, "/files/demo-1.0.tar.gz"}, {&fileLog, "/files/demo-3.0.tar.gz"}, {&indexLog, "/byname/demo-2.0.tar.gz"}} {
		if got := c.log.get(c.path); len(got) != 1 || got[0] != "" {
			t.Fatalf("%s got Authorization %q; credentials must go to the upstream's origin only", c.path, got)
		}
	}
}

// Two REMOTE projects on one server that are each other's upstream: a
// read answers at once (well under the 30 s upstream header timeout) with
// a 502 that names the loop, and stores nothing. Files (generic) and
// metadata documents (PyPI pages) both.
func TestRemoteLoopAnswersAtOnce(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "loop", "PUBLIC")
	api := func(path, rest string) string { return e.URL + "/api/v4/projects/" + url.PathEscape(path) + rest }
	for _, p := range []struct{ path, format, upstream string }{
		{"a", "GENERIC", api("loop/b", "/packages/generic")},
		{"b", "GENERIC", api("loop/a", "/packages/generic")},
		{"pa", "PYPI", api("loop/pb", "/packages/pypi/simple")},
		{"pb", "PYPI", api("loop/pa", "/packages/pypi/simple")},
	} {
		if errs := createRemote(t, e, alice, "loop", p.path, p.format, p.upstream, nil); len(errs) > 0 {
			t.Fatal(errs)
		}
	}
	client := &http.Client{Timeout: 20 * time.Second}
	get := func(path string, hops string) (int, string, time.Duration) {
		t.Helper()
		req, _ := http.NewRequest("GET", e.URL+path, nil)
		if hops != "" {
			req.Header.Set("X-Registry-Hops", hops)
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v (after %s)", path, err, time.Since(start))
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), time.Since(start)
	}
	for _, path := range []string{
		"/api/v4/projects/loop%2Fa/packages/generic/tool/1.0/a.bin",
		"/api/v4/projects/loop%2Fpa/packages/pypi/simple/demo/",
	} {
		status, body, took := get(path, "")
		if status != 502 || !strings.Contains(body, "loop of remote repositories") || took > 5*time.Second {
			t.Fatalf("GET %s: %d %s after %s; want a prompt 502 naming the loop", path, status, body, took)
		}
		t.Logf("GET %s: %d after %s", path, status, took)
	}
	if n := storedFiles(t, e); n != 0 {
		t.Fatalf("%d files stored", n)
	}
	if n := e.Server.DB.RemoteDocument.Query().CountX(t.Context()); n != 0 {
		t.Fatalf("%d documents stored", n)
	}
	// A chain that is already long is cut off too (here: sent by a client).
	status, body, _ := get("/api/v4/projects/loop%2Fa/packages/generic/tool/1.0/a.bin", "1,2,3,4,5,6,7,8")
	if status != 508 || !strings.Contains(body, "passed through 8 remote repositories") {
		t.Fatalf("a long hop chain: %d %s", status, body)
	}
}
