package server_test

// These tests drive the registry's Go module proxy with the real go
// command: GOPROXY points at a project, GOSUMDB is off (the modules are
// made in the test), and every go command gets a fresh GOPATH and module
// cache, so nothing can come from a previous run or from the public proxy.

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"

	"github.com/pkgreg/registry/server/servertest"
)

// goModuleZip makes a module version's zip the way the go command does
// (module/zip.CreateFromDir) from files (name -> content).
func goModuleZip(t testing.TB, modPath, version string, files map[string]string) []byte {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := modzip.CreateFromDir(&buf, module.Version{Path: modPath, Version: version}, dir); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// greetModule is a one-package module whose Hello says where it came from.
func greetModule(t testing.TB, modPath, version, says string) []byte {
	t.Helper()
	return goModuleZip(t, modPath, version, map[string]string{
		"go.mod":   "module " + modPath + "\n\ngo 1.21\n",
		"greet.go": "package greet\n\n// Hello says who made this version.\nfunc Hello() string { return " + fmt.Sprintf("%q", says) + " }\n",
	})
}

// goPath is a module's protocol path under a project's GOPROXY URL.
func goPath(projectRef, modPath, rest string) string {
	esc, err := module.EscapePath(modPath)
	if err != nil {
		panic(err)
	}
	return "/api/v4/projects/" + projectRef + "/packages/go/" + esc + "/" + rest
}

// goPublish uploads a module version's zip and returns the status and body.
func goPublish(t testing.TB, e *servertest.Env, token, projectRef, modPath, version string, zipData []byte) (int, string) {
	t.Helper()
	ev, err := module.EscapeVersion(version)
	if err != nil {
		ev = version
	}
	status, b, _ := e.Do(t, "PUT", goPath(projectRef, modPath, "@v/"+ev+".zip"), bytes.NewReader(zipData), tok(token))
	return status, string(b)
}

func mustGoPublish(t testing.TB, e *servertest.Env, token, projectRef, modPath, version string, zipData []byte) {
	t.Helper()
	if status, body := goPublish(t, e, token, projectRef, modPath, version, zipData); status != 201 {
		t.Fatalf("publish %s@%s to %s: %d %s", modPath, version, projectRef, status, body)
	}
}

// goFront is an HTTPS reverse proxy in front of a test registry. The go
// command sends credentials (from the GOPROXY URL's user info, or from
// .netrc via GOAUTH) only over HTTPS, as a production registry is served;
// the go commands of a test trust its certificate through SSL_CERT_FILE.
type goFront struct {
	url      string
	certFile string
}

func newGoFront(t *testing.T, e *servertest.Env) *goFront {
	t.Helper()
	target, _ := url.Parse(e.URL)
	srv := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target))
	t.Cleanup(srv.Close)
	certFile := filepath.Join(t.TempDir(), "front.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return &goFront{url: srv.URL, certFile: certFile}
}

// proxyURL is a project's GOPROXY URL, with HTTP Basic credentials in the
// URL's user info when token is set.
func (f *goFront) proxyURL(user, token string, projectID int) string {
	u, _ := url.Parse(f.url)
	if token != "" {
		u.User = url.UserPassword(user, token)
	}
	return fmt.Sprintf("%s/api/v4/projects/%d/packages/go", u, projectID)
}

// goCmd runs the real go command in a fresh module (example.com/app) with
// its own GOPATH and module cache.
type goCmd struct {
	t     *testing.T
	env   []string
	dir   string
	netrc string
}

var sharedGoCache = func() string {
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}()

func newGoCmd(t *testing.T, front *goFront, goproxy string, extraEnv ...string) *goCmd {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("the go command is needed: %v", err)
	}
	gopath, home, dir := t.TempDir(), t.TempDir(), t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GO") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "CGO_") &&
			!strings.HasPrefix(kv, "SSL_CERT_") && !strings.HasPrefix(kv, "NETRC=") {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+home, "GOPATH="+gopath, "GOMODCACHE="+filepath.Join(gopath, "pkg", "mod"),
		"GOPROXY="+goproxy, "GOSUMDB=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOENV=off", "GOWORK=off",
		"GO111MODULE=on", "GONOSUMDB=", "GOPRIVATE=", "GONOPROXY=", "CGO_ENABLED=0", "GOCACHE="+sharedGoCache,
		"SSL_CERT_FILE="+front.certFile, "NETRC="+filepath.Join(home, ".netrc"), "GOAUTH=netrc")
	env = append(env, extraEnv...)
	g := &goCmd{t: t, env: env, dir: dir, netrc: filepath.Join(home, ".netrc")}
	g.write("go.mod", "module example.com/app\n\ngo 1.21\n")
	// The module cache is read-only; remove it with the go command before
	// t.TempDir's cleanup (registered earlier, so it runs later) tries.
	t.Cleanup(func() { _, _ = g.run("clean", "-modcache") })
	return g
}

func (g *goCmd) write(name, content string) {
	g.t.Helper()
	if err := os.WriteFile(filepath.Join(g.dir, name), []byte(content), 0o644); err != nil {
		g.t.Fatal(err)
	}
}

func (g *goCmd) run(args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Env = g.dir, g.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (g *goCmd) must(args ...string) string {
	g.t.Helper()
	out, err := g.run(args...)
	if err != nil {
		g.t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// buildAndRun builds the app and returns what it prints.
func (g *goCmd) buildAndRun() string {
	g.t.Helper()
	bin := filepath.Join(g.dir, "app.exe")
	g.must("build", "-o", bin, ".")
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil {
		g.t.Fatalf("app: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// downloadJSON is what `go mod download -json` reports.
type downloadJSON struct {
	Path, Version, Error, Info, GoMod, Zip, Sum, GoModSum string
}

func (g *goCmd) download(modVersion string) downloadJSON {
	g.t.Helper()
	var d downloadJSON
	if err := json.Unmarshal([]byte(g.must("mod", "download", "-json", modVersion)), &d); err != nil {
		g.t.Fatal(err)
	}
	return d
}

// zipHash is the go.sum hash (h1:) of a module zip.
func zipHash(t *testing.T, zipData []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "m.zip")
	if err := os.WriteFile(p, zipData, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := dirhash.HashZip(p, dirhash.Hash1)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestGoProxyStandardWithTheGoCommand(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	id := e.CreateProject(t, alice, "acme", "gomods", "PRIVATE")
	front := newGoFront(t, e)
	// Upper case in the path: the go command asks for example.com/!acme/greet.
	const mod = "example.com/Acme/greet"
	v100 := greetModule(t, mod, "v1.0.0", "hello from v1.0.0")
	v110 := greetModule(t, mod, "v1.1.0", "hello from v1.1.0")
	mustGoPublish(t, e, alice, "acme%2Fgomods", mod, "v1.0.0", v100)
	mustGoPublish(t, e, alice, "acme%2Fgomods", mod, "v1.1.0", v110)

	t.Run("immutable versions", func(t *testing.T) {
		before := e.StoredState(t)
		if status, body := goPublish(t, e, alice, "acme%2Fgomods", mod, "v1.1.0", v110); status != 200 {
			t.Fatalf("same zip again: %d %s", status, body)
		}
		other := greetModule(t, mod, "v1.1.0", "a different v1.1.0")
		if status, body := goPublish(t, e, alice, "acme%2Fgomods", mod, "v1.1.0", other); status != 409 || !strings.Contains(body, "immutable") {
			t.Fatalf("different zip for a published version: %d %s", status, body)
		}
		// Even where the namespace allows duplicates.
		e.SetDuplicates(t, alice, "acme", "GENERIC", true, "")
		if status, _ := goPublish(t, e, alice, "acme%2Fgomods", mod, "v1.1.0", other); status != 409 {
			t.Fatalf("duplicates allowed, different zip: %d", status)
		}
		if after := e.StoredState(t); after != before {
			t.Fatalf("re-uploads stored something: %s -> %s", before, after)
		}
	})

	g := newGoCmd(t, front, front.proxyURL("alice", alice, id))
	t.Run("go list -m -versions", func(t *testing.T) {
		if out := strings.TrimSpace(g.must("list", "-m", "-versions", mod)); out != mod+" v1.0.0 v1.1.0" {
			t.Fatalf("versions: %q", out)
		}
	})
	t.Run("go mod download -json", func(t *testing.T) {
		d := g.download(mod + "@v1.0.0")
		if d.Version != "v1.0.0" || d.Error != "" || d.Sum != zipHash(t, v100) {
			t.Fatalf("download: %+v (want sum %s)", d, zipHash(t, v100))
		}
		gomod, err := os.ReadFile(d.GoMod)
		if err != nil || string(gomod) != "module "+mod+"\n\ngo 1.21\n" {
			t.Fatalf("go.mod: %q %v", gomod, err)
		}
		info, _ := os.ReadFile(d.Info)
		var gi struct {
			Version string
			Time    time.Time
		}
		if json.Unmarshal(info, &gi) != nil || gi.Version != "v1.0.0" || gi.Time.IsZero() {
			t.Fatalf("info: %s", info)
		}
	})
	t.Run("go get @latest and go build", func(t *testing.T) {
		g.write("main.go", "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/Acme/greet\"\n)\n\nfunc main() { fmt.Println(greet.Hello()) }\n")
		if out := g.must("get", mod+"@latest"); !strings.Contains(out, "v1.1.0") {
			t.Fatalf("go get: %s", out)
		}
		if out := g.buildAndRun(); out != "hello from v1.1.0" {
			t.Fatalf("app says %q", out)
		}
	})
	t.Run("unknown modules fall through to the next GOPROXY entry", func(t *testing.T) {
		if status, _, _ := e.Do(t, "GET", goPath("acme%2Fgomods", "example.com/nope", "@v/list"), nil, tok(alice)); status != 404 {
			t.Fatalf("unknown module list: %d", status)
		}
		if status, _, _ := e.Do(t, "GET", goPath("acme%2Fgomods", mod, "@v/v9.9.9.info"), nil, tok(alice)); status != 404 {
			t.Fatalf("unknown version: %d", status)
		}
		g2 := newGoCmd(t, front, front.proxyURL("alice", alice, id)+",off")
		out, err := g2.run("mod", "download", "example.com/nope@v1.0.0")
		if err == nil || !strings.Contains(out, "GOPROXY=off") {
			t.Fatalf("fall-through to off: %v %s", err, out)
		}
	})
	t.Run("the project's URL-encoded full path instead of its id", func(t *testing.T) {
		g := newGoCmd(t, front, strings.Replace(front.proxyURL("alice", alice, id), fmt.Sprintf("/projects/%d/", id), "/projects/acme%2Fgomods/", 1))
		if out := strings.TrimSpace(g.must("list", "-m", "-versions", mod)); out != mod+" v1.0.0 v1.1.0" {
			t.Fatalf("versions: %q", out)
		}
	})
	t.Run("credentials from .netrc (GOAUTH=netrc), GOPRIVATE with GONOPROXY=none", func(t *testing.T) {
		// The default checksum database, which GOPRIVATE keeps the go
		// command from asking about example.com modules.
		g := newGoCmd(t, front, front.proxyURL("", "", id), "GOPRIVATE=example.com/*", "GONOPROXY=none", "GOSUMDB=")
		host, _ := url.Parse(front.url)
		if err := os.WriteFile(g.netrc, []byte("machine "+host.Host+" login alice password "+alice+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if out := strings.TrimSpace(g.must("list", "-m", "-versions", mod)); out != mod+" v1.0.0 v1.1.0" {
			t.Fatalf("versions: %q", out)
		}
		if d := g.download(mod + "@v1.1.0"); d.Sum != zipHash(t, v110) {
			t.Fatalf("download: %+v", d)
		}
	})
	t.Run("anonymous callers are challenged", func(t *testing.T) {
		status, _, h := e.Do(t, "GET", goPath("acme%2Fgomods", mod, "@v/list"), nil, nil)
		if status != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
			t.Fatalf("anonymous: %d %v", status, h)
		}
		out, err := newGoCmd(t, front, front.proxyURL("", "", id)).run("list", "-m", "-versions", mod)
		if err == nil || !strings.Contains(out, "401") {
			t.Fatalf("go without credentials: %v %s", err, out)
		}
	})
}

func TestGoProxyRemoteAndVirtualWithTheGoCommand(t *testing.T) {
	// The upstream: a second registry with a public project.
	up := servertest.New(t)
	owner := up.CreateUser(t, "owner")
	up.CreateGroup(t, owner, "", "up", "PUBLIC")
	pubID := up.CreateProject(t, owner, "up", "pub", "PUBLIC")
	const lib, greet = "example.com/shared/lib", "example.com/acme/greet"
	libZip := func(v string) []byte {
		return goModuleZip(t, lib, v, map[string]string{
			"go.mod": "module " + lib + "\n\ngo 1.21\n",
			"lib.go": "package lib\n\n// Version is the published version.\nconst Version = \"" + v + "\"\n",
		})
	}
	mustGoPublish(t, up, owner, "up%2Fpub", lib, "v1.0.0", libZip("v1.0.0"))
	mustGoPublish(t, up, owner, "up%2Fpub", lib, "v1.1.0", libZip("v1.1.0"))
	// The impostor: the private module's path, a higher version, in public.
	mustGoPublish(t, up, owner, "up%2Fpub", greet, "v1.9.0", greetModule(t, greet, "v1.9.0", "hello from the impostor"))
	proxy := servertest.NewFaultProxy(t, up.URL)

	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "team", "PRIVATE")
	e.CreateProject(t, alice, "team", "private", "PRIVATE")
	mustGoPublish(t, e, alice, "team%2Fprivate", greet, "v1.0.0", greetModule(t, greet, "v1.0.0", "hello from the private v1.0.0"))
	e.CreateRemoteProject(t, alice, "team", "mirror", "GOLANG", fmt.Sprintf("%s/api/v4/projects/%d/packages/go", proxy.URL, pubID))
	e.CreateVirtualProject(t, alice, "team", "all", "GOLANG")
	e.SetUpstreams(t, alice, "team/all",
		servertest.Upstream{ID: "private", Path: "team/private", Priority: 20},
		servertest.Upstream{ID: "mirror", Path: "team/mirror", Priority: 10},
	)
	mirrorID, allID := e.ProjectID(t, alice, "team/mirror"), e.ProjectID(t, alice, "team/all")
	front := newGoFront(t, e)

	t.Run("remote: list, download, get and build through the mirror", func(t *testing.T) {
		g := newGoCmd(t, front, front.proxyURL("alice", alice, mirrorID))
		if out := strings.TrimSpace(g.must("list", "-m", "-versions", lib)); out != lib+" v1.0.0 v1.1.0" {
			t.Fatalf("versions: %q", out)
		}
		if d := g.download(lib + "@v1.0.0"); d.Sum != zipHash(t, libZip("v1.0.0")) {
			t.Fatalf("download: %+v", d)
		}
		g.write("main.go", "package main\n\nimport (\n\t\"fmt\"\n\n\t\""+lib+"\"\n)\n\nfunc main() { fmt.Println(lib.Version) }\n")
		g.must("get", lib+"@latest")
		if out := g.buildAndRun(); out != "v1.1.0" {
			t.Fatalf("app says %q", out)
		}
		// .info, .mod and .zip are cached forever: a second client with an
		// empty module cache is served from the cache.
		zips := proxy.Count("/@v/v1.1.0.zip")
		g2 := newGoCmd(t, front, front.proxyURL("alice", alice, mirrorID))
		g2.download(lib + "@v1.1.0")
		if proxy.Count("/@v/v1.1.0.zip") != zips || zips != 1 || proxy.Count("/@v/v1.1.0.mod") != 1 || proxy.Count("/@v/v1.1.0.info") != 1 {
			t.Fatalf("upstream asked for the zip %d times, .mod %d, .info %d", proxy.Count("/@v/v1.1.0.zip"),
				proxy.Count("/@v/v1.1.0.mod"), proxy.Count("/@v/v1.1.0.info"))
		}
	})
	t.Run("remote: the version list is cached for the TTL", func(t *testing.T) {
		mustGoPublish(t, up, owner, "up%2Fpub", lib, "v1.2.0", libZip("v1.2.0"))
		g := newGoCmd(t, front, front.proxyURL("alice", alice, mirrorID))
		if out := strings.TrimSpace(g.must("list", "-m", "-versions", lib)); out != lib+" v1.0.0 v1.1.0" {
			t.Fatalf("within the TTL: %q", out)
		}
		e.Clock.Advance(25 * time.Hour) // the default TTL is a day
		if out := strings.TrimSpace(g.must("list", "-m", "-versions", lib)); out != lib+" v1.0.0 v1.1.0 v1.2.0" {
			t.Fatalf("after the TTL: %q", out)
		}
		zips := proxy.Count("/@v/v1.1.0.zip")
		if status, _, h := e.Do(t, "GET", goPath(strconv.Itoa(mirrorID), lib, "@v/v1.1.0.zip"), nil, tok(alice)); status != 200 || h.Get("X-Registry-Upstream") != "team/mirror" || proxy.Count("/@v/v1.1.0.zip") != zips {
			t.Fatalf("a cached zip after the TTL: %d, upstream asked again: %v", status, proxy.Count("/@v/v1.1.0.zip") != zips)
		}
	})
	t.Run("virtual: the private module wins over a higher public version", func(t *testing.T) {
		g := newGoCmd(t, front, front.proxyURL("alice", alice, allID))
		if out := strings.TrimSpace(g.must("list", "-m", "-versions", greet)); out != greet+" v1.0.0" {
			t.Fatalf("versions through the virtual project: %q", out)
		}
		g.write("main.go", "package main\n\nimport (\n\t\"fmt\"\n\n\t\""+greet+"\"\n\t\""+lib+"\"\n)\n\nfunc main() { fmt.Println(greet.Hello(), lib.Version) }\n")
		if out := g.must("get", greet+"@latest", lib+"@latest"); !strings.Contains(out, greet+" v1.0.0") || strings.Contains(out, "v1.9.0") {
			t.Fatalf("go get: %s", out)
		}
		if d := g.download(greet + "@v1.0.0"); d.Sum != zipHash(t, greetModule(t, greet, "v1.0.0", "hello from the private v1.0.0")) {
			t.Fatalf("download through the virtual project: %+v", d)
		}
		if out := g.buildAndRun(); out != "hello from the private v1.0.0 v1.2.0" {
			t.Fatalf("app says %q", out)
		}
		// @latest, which the go command asks when a list has no releases.
		for modPath, want := range map[string]string{greet: "v1.0.0", lib: "v1.2.0"} {
			status, body, _ := e.Do(t, "GET", goPath(strconv.Itoa(allID), modPath, "@latest"), nil, tok(alice))
			if status != 200 || !strings.Contains(string(body), `"Version":"`+want+`"`) {
				t.Fatalf("%s@latest through the virtual project: %d %s", modPath, status, body)
			}
		}
		// Asking for the impostor's version by name does not reach it either.
		for _, rest := range []string{"@v/v1.9.0.info", "@v/v1.9.0.mod", "@v/v1.9.0.zip"} {
			if status, _, _ := e.Do(t, "GET", goPath(strconv.Itoa(allID), greet, rest), nil, tok(alice)); status != 404 {
				t.Fatalf("%s through the virtual project: %d", rest, status)
			}
		}
		if n := proxy.Count("/example.com/acme/greet/@v/list") + proxy.Count("/example.com/acme/greet/@latest") + proxy.Count("/v1.9.0.zip"); n != 0 {
			t.Fatalf("the upstream was asked about the private module %d times", n)
		}
		status, body, h := e.Do(t, "GET", goPath(strconv.Itoa(allID), lib, "@v/v1.0.0.zip"), nil, tok(alice))
		if status != 200 || h.Get("X-Registry-Upstream") != "team/mirror" || !bytes.Equal(body, libZip("v1.0.0")) {
			t.Fatalf("lib through the virtual project: %d from %q", status, h.Get("X-Registry-Upstream"))
		}
	})
	t.Run("cached versions outlive a failing upstream", func(t *testing.T) {
		e.MustGraphQL(t, alice, `mutation { updateRemoteRepositoryConfig(input: {projectPath: "team/mirror", serveStale: false}) { errors } }`, nil)
		proxy.Set(servertest.Fail500)
		defer proxy.Set(servertest.NoFault)
		e.Clock.Advance(25 * time.Hour) // every cached list is past its TTL
		for _, project := range []int{mirrorID, allID} {
			g := newGoCmd(t, front, front.proxyURL("alice", alice, project))
			if d := g.download(lib + "@v1.1.0"); d.Sum != zipHash(t, libZip("v1.1.0")) {
				t.Fatalf("cached version from project %d: %+v", project, d)
			}
			// Not cached, and the upstream is down: 502, not a 404 that
			// would send the go command elsewhere.
			if status, _, _ := e.Do(t, "GET", goPath(strconv.Itoa(project), lib, "@v/v1.0.1.info"), nil, tok(alice)); status != 502 {
				t.Fatalf("uncached version from project %d: %d", project, status)
			}
			if status, _, _ := e.Do(t, "GET", goPath(strconv.Itoa(project), lib, "@v/list"), nil, tok(alice)); status != 502 {
				t.Fatalf("list from project %d with serveStale off: %d", project, status)
			}
		}
	})
}

// badZip builds a zip by hand (CreateFromDir would refuse these layouts).
func badZip(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGoProxyBadInputStoresNothing(t *testing.T) {
	cfg := servertest.NewConfig(t)
	cfg.MaxFileSize = 256 << 10
	e := servertest.NewWithConfig(t, cfg)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	e.CreateProject(t, alice, "acme", "gomods", "PRIVATE")
	e.CreateRemoteProject(t, alice, "acme", "mirror", "GOLANG", "http://127.0.0.1:1/go")
	e.CreateVirtualProject(t, alice, "acme", "all", "GOLANG")
	const mod = "example.com/m"
	good := greetModule(t, mod, "v1.0.0", "hi")
	noise := make([]byte, 300<<10)
	rand.NewChaCha8([32]byte{1}).Read(noise) // incompressible
	oversize := goModuleZip(t, mod, "v1.0.0", map[string]string{"go.mod": "module " + mod + "\n", "blob.txt": string(noise)})
	if len(oversize) <= int(cfg.MaxFileSize) {
		t.Fatalf("the oversize zip is only %d bytes", len(oversize))
	}
	cases := []struct {
		name, project, rawPath string
		body                   []byte
		chunked                bool
		status                 int
		says                   string
	}{
		{"module path without a dot in its first element", "acme%2Fgomods", "acme/m/@v/v1.0.0.zip", good, false, 400, "module path"},
		{"upper case in the domain", "acme%2Fgomods", "!example.com/m/@v/v1.0.0.zip", good, false, 400, "module path"},
		{"upper case not case-encoded", "acme%2Fgomods", "example.com/M/@v/v1.0.0.zip", good, false, 400, "case-encoded"},
		{"module path too long", "acme%2Fgomods", "example.com/" + strings.Repeat("a", 250) + "/@v/v1.0.0.zip", good, false, 400, "longer than 255"},
		{"version without v", "acme%2Fgomods", "example.com/m/@v/1.0.0.zip", good, false, 400, "not a semantic version"},
		{"non-canonical version", "acme%2Fgomods", "example.com/m/@v/v1.0.zip", good, false, 400, "not canonical"},
		{"major version not in the path", "acme%2Fgomods", "example.com/m/@v/v2.0.0.zip", good, false, 400, "v2"},
		{"zip made for another version", "acme%2Fgomods", "example.com/m/@v/v1.0.1.zip", good, false, 400, "prefix"},
		{"files outside the module root", "acme%2Fgomods", "example.com/m/@v/v1.0.0.zip", badZip(t, map[string]string{
			mod + "@v1.0.0/go.mod": "module " + mod + "\n", "evil/../../etc/passwd": "x"}), false, 400, "prefix"},
		{"go.mod below the root", "acme%2Fgomods", "example.com/m/@v/v1.0.0.zip", badZip(t, map[string]string{
			mod + "@v1.0.0/sub/go.mod": "module other\n"}), false, 400, "go.mod"},
		{"no go.mod", "acme%2Fgomods", "example.com/m/@v/v1.0.0.zip", badZip(t, map[string]string{
			mod + "@v1.0.0/m.go": "package m\n"}), false, 400, "no go.mod"},
		{"go.mod declares another module", "acme%2Fgomods", "example.com/m/@v/v1.0.0.zip", badZip(t, map[string]string{
			mod + "@v1.0.0/go.mod": "module example.com/other\n"}), false, 400, "declares module"},
		{"not a zip", "acme%2Fgomods", "example.com/m/@v/v1.0.0.zip", []byte("not a zip at all"), false, 400, "zip"},
		{"oversize zip", "acme%2Fgomods", "example.com/m/@v/v1.0.0.zip", oversize, false, 413, "limit"},
		{"oversize zip, chunked", "acme%2Fgomods", "example.com/m/@v/v1.0.0.zip", oversize, true, 413, "limit"},
		{"publish .mod alone", "acme%2Fgomods", "example.com/m/@v/v1.0.0.mod", []byte("module example.com/m\n"), false, 405, "derived"},
		{"upload to a REMOTE project", "acme%2Fmirror", "example.com/m/@v/v1.0.0.zip", good, false, 405, "read-only"},
		{"upload to a VIRTUAL project", "acme%2Fall", "example.com/m/@v/v1.0.0.zip", good, false, 405, "read-only"},
	}
	var bad []servertest.BadRequest
	for _, c := range cases {
		bad = append(bad, servertest.BadRequest{Name: c.name, Method: "PUT", Path: "/api/v4/projects/" + c.project + "/packages/go/" + c.rawPath,
			Body: c.body, Chunked: c.chunked, Header: tok(alice), Status: c.status, Message: c.says})
	}
	e.RefusesAndStoresNothing(t, bad)
	// The same good zip is accepted where it belongs.
	if status, body := goPublish(t, e, alice, "acme%2Fgomods", mod, "v1.0.0", good); status != 201 {
		t.Fatalf("good zip: %d %s", status, body)
	}
}

func TestGoProxyConcurrentPublishOfOneVersion(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	e.CreateProject(t, alice, "acme", "gomods", "PRIVATE")
	const mod = "example.com/race"
	try := func(zips [][]byte) map[int]int {
		statuses := make(chan int, len(zips))
		var wg sync.WaitGroup
		for _, z := range zips {
			wg.Go(func() {
				status, _ := goPublish(t, e, alice, "acme%2Fgomods", mod, "v1.0.0", z)
				statuses <- status
			})
		}
		wg.Wait()
		close(statuses)
		counts := map[int]int{}
		for s := range statuses {
			counts[s]++
		}
		return counts
	}
	// Different zips for one version: exactly one wins, the rest conflict.
	var different [][]byte
	for i := range 6 {
		different = append(different, greetModule(t, mod, "v1.0.0", fmt.Sprintf("writer %d", i)))
	}
	if counts := try(different); counts[201] != 1 || counts[409] != 5 {
		t.Fatalf("different zips: %v", counts)
	}
	if n := e.Server.DB.PackageFile.Query().CountX(t.Context()); n != 1 {
		t.Fatalf("%d files stored", n)
	}
	// The same zip again from many clients: all idempotent.
	winner := e.Server.DB.PackageFile.Query().OnlyX(t.Context())
	var same []byte
	for _, z := range different {
		if sha(z) == winner.Sha256 {
			same = z
		}
	}
	if counts := try([][]byte{same, same, same, same}); counts[200] != 4 {
		t.Fatalf("the same zip again: %v", counts)
	}
}

func TestGoProxyIncompatibleVersionWithoutGoMod(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PUBLIC")
	e.CreateProject(t, alice, "acme", "gomods", "PUBLIC")
	const mod = "example.com/legacy"
	z := goModuleZip(t, mod, "v2.0.0+incompatible", map[string]string{"legacy.go": "package legacy\n"})
	mustGoPublish(t, e, alice, "acme%2Fgomods", mod, "v2.0.0+incompatible", z)
	// A public project: no credentials needed.
	status, body, _ := e.Do(t, "GET", goPath("acme%2Fgomods", mod, "@v/v2.0.0+incompatible.mod"), nil, nil)
	if status != 200 || string(body) != "module example.com/legacy\n" {
		t.Fatalf(".mod of a pre-modules version: %d %q", status, body)
	}
	status, body, _ = e.Do(t, "GET", goPath("acme%2Fgomods", mod, "@latest"), nil, nil)
	if status != 200 || !strings.Contains(string(body), `"Version":"v2.0.0+incompatible"`) || strings.Contains(string(body), `"Time":"0001-`) {
		t.Fatalf("@latest: %d %s", status, body)
	}
}
