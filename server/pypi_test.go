package server_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/servertest"
)

// pyDist is a Python distribution built in a test: a pure wheel whose
// module reports its version, so an install shows which one pip chose.
type pyDist struct {
	Name, Version, RequiresPython string
	Requires                      []string
}

func (d pyDist) module() string { return strings.ReplaceAll(d.Name, "-", "_") }

func (d pyDist) metadata() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: test package %s\n", d.Name, d.Version, d.Name)
	if d.RequiresPython != "" {
		fmt.Fprintf(&b, "Requires-Python: %s\n", d.RequiresPython)
	}
	for _, r := range d.Requires {
		fmt.Fprintf(&b, "Requires-Dist: %s\n", r)
	}
	return b.String() + "\n"
}

// wheel writes <module>-<version>-py3-none-any.whl into dir (PEP 427, with
// a RECORD of real hashes) and returns its path.
func (d pyDist) wheel(t *testing.T, dir string) string {
	t.Helper()
	distInfo := fmt.Sprintf("%s-%s.dist-info", d.module(), d.Version)
	files := [][2]string{
		{d.module() + "/__init__.py", fmt.Sprintf("VERSION = %q\n", d.Version)},
		{distInfo + "/METADATA", d.metadata()},
		{distInfo + "/WHEEL", "Wheel-Version: 1.0\nGenerator: registry-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
	}
	var record strings.Builder
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, _ := zw.Create(f[0])
		w.Write([]byte(f[1]))
		sum := sha256.Sum256([]byte(f[1]))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f[0], base64.RawURLEncoding.EncodeToString(sum[:]), len(f[1]))
	}
	record.WriteString(distInfo + "/RECORD,,\n")
	w, _ := zw.Create(distInfo + "/RECORD")
	w.Write([]byte(record.String()))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%s-py3-none-any.whl", d.module(), d.Version))
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sdist writes <module>-<version>.tar.gz with its PKG-INFO (PEP 625).
func (d pyDist) sdist(t *testing.T, dir string) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	root := fmt.Sprintf("%s-%s", d.module(), d.Version)
	// A setup.py sdist: pip prepares its metadata with setuptools' egg_info,
	// which needs nothing from an index.
	setup := fmt.Sprintf("from setuptools import setup\nsetup(name=%q, version=%q, packages=[%q])\n", d.Name, d.Version, d.module())
	for name, body := range map[string]string{"PKG-INFO": d.metadata(), "setup.py": setup, d.module() + "/__init__.py": fmt.Sprintf("VERSION = %q\n", d.Version)} {
		tw.WriteHeader(&tar.Header{Name: root + "/" + name, Mode: 0o644, Size: int64(len(body))})
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	path := filepath.Join(dir, root+".tar.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pythonTools finds twine and pip; CI installs them (.ci/run), elsewhere a
// test without them is skipped with the reason.
func pythonTools(t *testing.T) (twine string) {
	t.Helper()
	twine, err := exec.LookPath("twine")
	if err == nil {
		err = exec.Command("python3", "-m", "pip", "--version").Run()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("twine and pip are required in CI: %v", err)
		}
		t.Skipf("twine or pip missing (apt-get install twine python3-pip): %v", err)
	}
	return twine
}

// pyEnv is a clean environment for Python clients: no user config, no
// keyring, no cache, nothing from the public index.
func pyEnv(t *testing.T) []string {
	home := t.TempDir()
	return append(os.Environ(), "HOME="+home, "PIP_CONFIG_FILE=/dev/null", "PIP_NO_CACHE_DIR=1",
		"PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INPUT=1", "PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring",
		"PYTHONDONTWRITEBYTECODE=1")
}

func twineUpload(t *testing.T, e *servertest.Env, projectID int, token string, extra []string, files ...string) (string, error) {
	t.Helper()
	args := append([]string{"upload", "--non-interactive", "--disable-progress-bar", "--repository-url",
		fmt.Sprintf("%s/api/v4/projects/%d/packages/pypi", e.URL, projectID), "-u", "__token__", "-p", token}, extra...)
	cmd := exec.Command(pythonTools(t), append(args, files...)...)
	cmd.Env = pyEnv(t)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// pipIndex is a project's index URL with the token as Basic password, the
// way pip users configure a GitLab index.
func pipIndex(e *servertest.Env, projectID int, token string) string {
	return strings.Replace(e.URL, "http://", "http://__token__:"+token+"@", 1) +
		fmt.Sprintf("/api/v4/projects/%d/packages/pypi/simple", projectID)
}

// pipInstall installs into a fresh target directory and returns the
// installed version of each module asked for.
func pipInstall(t *testing.T, index string, pkgs ...string) (map[string]string, string, error) {
	t.Helper()
	target := t.TempDir()
	args := append([]string{"-m", "pip", "install", "--index-url", index, "--target", target, "--no-compile"}, pkgs...)
	cmd := exec.Command("python3", args...)
	cmd.Env = pyEnv(t)
	out, err := cmd.CombinedOutput()
	got := map[string]string{}
	entries, _ := os.ReadDir(target)
	for _, en := range entries {
		if b, err := os.ReadFile(filepath.Join(target, en.Name(), "__init__.py")); err == nil {
			got[en.Name()] = strings.TrimSuffix(strings.TrimPrefix(string(b), `VERSION = "`), "\"\n")
		}
	}
	return got, string(out), err
}

// createPyPIProject creates a PyPI project: mode STANDARD, REMOTE (over
// remote) or VIRTUAL, all private, or PUBLIC for a public STANDARD one.
func createPyPIProject(t testing.TB, e *servertest.Env, token, ns, path, mode, remote string) int {
	t.Helper()
	vis := "PRIVATE"
	if mode == "PUBLIC" { // a public STANDARD project
		mode, vis = "STANDARD", "PUBLIC"
	}
	return e.CreateProjectWith(t, token, servertest.Project{Namespace: ns, Path: path, Mode: mode, Format: "PYPI", Visibility: vis, RemoteURL: remote})
}

func TestPyPIWithTwineAndPip(t *testing.T) {
	pythonTools(t)
	dir := t.TempDir()

	// The public index: a second registry on loopback, behind a proxy that
	// counts requests and can fail on purpose.
	up := servertest.New(t)
	owner := up.CreateUser(t, "owner")
	up.CreateGroup(t, owner, "", "pub", "PUBLIC")
	pubID := createPyPIProject(t, up, owner, "pub", "index", "PUBLIC", "")
	malicious := pyDist{Name: "acme-utils", Version: "9.9"}
	lite := pyDist{Name: "requests-lite", Version: "2.1", RequiresPython: ">=3.8"}
	if out, err := twineUpload(t, up, pubID, owner, nil, malicious.wheel(t, dir), lite.wheel(t, dir)); err != nil {
		t.Fatalf("twine upload to the public index: %v\n%s", err, out)
	}
	proxy := servertest.NewFaultProxy(t, up.URL)

	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	privID := createPyPIProject(t, e, alice, "acme", "private", "STANDARD", "")
	remoteID := createPyPIProject(t, e, alice, "acme", "pypi-remote", "REMOTE",
		fmt.Sprintf("%s/api/v4/projects/%d/packages/pypi/simple", proxy.URL, pubID))
	virtID := createPyPIProject(t, e, alice, "acme", "all", "VIRTUAL", "")
	e.SetUpstreams(t, alice, "acme/all",
		servertest.Upstream{ID: "a-public", Path: "acme/pypi-remote", Priority: 10},
		servertest.Upstream{ID: "private", Path: "acme/private", Priority: 10},
	)

	ours := pyDist{Name: "acme-utils", Version: "1.0", Requires: []string{"requests-lite>=2"}, RequiresPython: ">=3.8"}
	wheel, sdist := ours.wheel(t, dir), ours.sdist(t, dir)

	t.Run("twine uploads a wheel and an sdist", func(t *testing.T) {
		if out, err := twineUpload(t, e, privID, alice, nil, wheel, sdist); err != nil {
			t.Fatalf("twine upload: %v\n%s", err, out)
		}
	})
	t.Run("duplicates refused, --skip-existing skips them", func(t *testing.T) {
		e.SetDuplicates(t, alice, "acme", "PYPI", false)
		out, err := twineUpload(t, e, privID, alice, nil, wheel)
		if err == nil || !strings.Contains(out, "400 Bad Request") {
			t.Fatalf("duplicate upload: %v\n%s", err, out)
		}
		if out, err := twineUpload(t, e, privID, alice, []string{"--skip-existing"}, wheel); err != nil || !strings.Contains(out, "Skipping") {
			t.Fatalf("twine --skip-existing: %v\n%s", err, out)
		}
	})
	t.Run("pip installs from the standard project", func(t *testing.T) {
		got, out, err := pipInstall(t, pipIndex(e, privID, alice), "--no-deps", "acme-utils")
		if err != nil || got["acme_utils"] != "1.0" {
			t.Fatalf("pip install: %v %v\n%s", err, got, out)
		}
	})
	t.Run("pip installs through the remote project, then from its cache", func(t *testing.T) {
		got, out, err := pipInstall(t, pipIndex(e, remoteID, alice), "requests-lite")
		if err != nil || got["requests_lite"] != "2.1" {
			_, page, _ := e.Do(t, "GET", fmt.Sprintf("/api/v4/projects/%d/packages/pypi/simple/requests-lite/", remoteID), nil, tok(alice))
			t.Fatalf("pip install through the remote: %v %v\n%s\npage: %s", err, got, out, page)
		}
		// The upstream advertises core metadata (PEP 658): pip reads it
		// through the remote before it downloads the wheel.
		if !strings.Contains(out, "requests_lite-2.1-py3-none-any.whl.metadata") || proxy.Count(".whl.metadata") != 1 {
			t.Fatalf("core metadata through the remote (upstream asked %d times):\n%s", proxy.Count(".whl.metadata"), out)
		}
		pages, files := proxy.Count("/simple/requests-lite/"), proxy.Count(".whl")
		proxy.Set(servertest.Fail500) // the upstream is down: the page is fresh, the file cached
		defer proxy.Set(servertest.NoFault)
		if got, out, err := pipInstall(t, pipIndex(e, remoteID, alice), "requests-lite"); err != nil || got["requests_lite"] != "2.1" {
			t.Fatalf("pip install with the upstream down: %v %v\n%s", err, got, out)
		}
		if proxy.Count("/simple/requests-lite/") != pages || proxy.Count(".whl") != files || files != 1 {
			t.Fatalf("the cache did not serve: pages %d->%d, files %d->%d", pages, proxy.Count("/simple/requests-lite/"), files, proxy.Count(".whl"))
		}
	})
	t.Run("a stale page is served while the upstream is down, unless the project says no", func(t *testing.T) {
		e.MustGraphQL(t, alice, `mutation { updateRemoteRepositoryConfig(input: {projectPath: "acme/pypi-remote", cacheTtlSeconds: 0}) { errors } }`, nil)
		proxy.Set(servertest.Fail500)
		defer proxy.Set(servertest.NoFault)
		if got, out, err := pipInstall(t, pipIndex(e, remoteID, alice), "requests-lite"); err != nil || got["requests_lite"] != "2.1" {
			t.Fatalf("serve stale: %v %v\n%s", err, got, out)
		}
		e.MustGraphQL(t, alice, `mutation { updateRemoteRepositoryConfig(input: {projectPath: "acme/pypi-remote", serveStale: false}) { errors } }`, nil)
		status, body, _ := e.Do(t, "GET", fmt.Sprintf("/api/v4/projects/%d/packages/pypi/simple/requests-lite/", remoteID), nil, tok(alice))
		if status != 502 {
			t.Fatalf("without serve-stale the page should be a 502: %d %s", status, body)
		}
		e.MustGraphQL(t, alice, `mutation { updateRemoteRepositoryConfig(input: {projectPath: "acme/pypi-remote", serveStale: true, cacheTtlSeconds: 3600}) { errors } }`, nil)
	})
	t.Run("through the virtual project: the private name wins, its dependency comes from the remote", func(t *testing.T) {
		got, out, err := pipInstall(t, pipIndex(e, virtID, alice), "acme-utils")
		if err != nil || got["acme_utils"] != "1.0" || got["requests_lite"] != "2.1" {
			t.Fatalf("pip install through the virtual project: %v %v\n%s", err, got, out)
		}
		// Even asking for the malicious version by name finds nothing.
		if got, out, err := pipInstall(t, pipIndex(e, virtID, alice), "--no-deps", "acme-utils==9.9"); err == nil {
			t.Fatalf("dependency confusion: acme-utils 9.9 installed through the virtual project: %v\n%s", got, out)
		}
		// pip download through the virtual and the remote project: the
		// files of both upstreams, as published.
		for _, project := range []int{virtID, remoteID} {
			dest := t.TempDir()
			cmd := exec.Command("python3", "-m", "pip", "download", "--only-binary", ":all:",
				"--index-url", pipIndex(e, project, alice), "--dest", dest, "requests-lite")
			if project == virtID {
				cmd.Args = append(cmd.Args, "acme-utils")
			}
			cmd.Env = pyEnv(t)
			out, err := cmd.CombinedOutput()
			got, _ := filepath.Glob(filepath.Join(dest, "*.whl"))
			want := 1
			if project == virtID {
				want = 2
			}
			if err != nil || len(got) != want {
				t.Fatalf("pip download through project %d: %v %v\n%s", project, err, got, out)
			}
		}
	})
	t.Run("pip skips a yanked release", func(t *testing.T) {
		next := pyDist{Name: "acme-utils", Version: "1.1"}
		if out, err := twineUpload(t, e, privID, alice, nil, next.wheel(t, dir)); err != nil {
			t.Fatalf("twine upload 1.1: %v\n%s", err, out)
		}
		if got, out, err := pipInstall(t, pipIndex(e, privID, alice), "--no-deps", "acme-utils"); err != nil || got["acme_utils"] != "1.1" {
			t.Fatalf("before the yank: %v %v\n%s", err, got, out)
		}
		r := e.MustGraphQL(t, alice, `mutation { yankPypiRelease(input: {projectPath: "acme/private", name: "Acme_Utils", version: "1.1", reason: "broken build"}) { errors } }`, nil)
		if errs := payloadErrors(t, r, "yankPypiRelease"); len(errs) > 0 {
			t.Fatal(errs)
		}
		if got, out, err := pipInstall(t, pipIndex(e, privID, alice), "--no-deps", "acme-utils"); err != nil || got["acme_utils"] != "1.0" {
			t.Fatalf("after the yank: %v %v\n%s", err, got, out)
		}
		// PEP 592: an exact pin still installs a yanked release, with a warning.
		if got, out, err := pipInstall(t, pipIndex(e, privID, alice), "--no-deps", "acme-utils==1.1"); err != nil || got["acme_utils"] != "1.1" ||
			!strings.Contains(out, "broken build") {
			t.Fatalf("pinned yanked release: %v %v\n%s", err, got, out)
		}
	})
	t.Run("pip download, and the sdist byte for byte", func(t *testing.T) {
		dest := t.TempDir()
		cmd := exec.Command("python3", "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
			"--index-url", pipIndex(e, privID, alice), "--dest", dest, "acme-utils==1.0")
		cmd.Env = pyEnv(t)
		out, err := cmd.CombinedOutput()
		got, rerr := os.ReadFile(filepath.Join(dest, "acme_utils-1.0-py3-none-any.whl"))
		want, _ := os.ReadFile(wheel)
		if err != nil || rerr != nil || !bytes.Equal(got, want) {
			t.Fatalf("pip download: %v %v\n%s", err, rerr, out)
		}
		// pip would build an sdist to read its metadata (that needs a build
		// backend from an index); fetch it the way pip does instead.
		_, page, _ := e.Do(t, "GET", fmt.Sprintf("/api/v4/projects/%d/packages/pypi/simple/acme-utils/", privID), nil, tok(alice))
		var href string
		for _, part := range strings.Split(string(page), `href="`)[1:] {
			if u := strings.Split(part, "#")[0]; strings.HasSuffix(u, "/acme_utils-1.0.tar.gz") {
				href = u
			}
		}
		status, body, _ := e.Do(t, "GET", strings.TrimPrefix(href, e.URL), nil, tok(alice))
		want, _ = os.ReadFile(sdist)
		if status != 200 || !bytes.Equal(body, want) {
			t.Fatalf("sdist download from %q: %d", href, status)
		}
	})
}

func TestPyPISimpleIndex(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	id := createPyPIProject(t, e, alice, "acme", "py", "STANDARD", "")
	dist := pyDist{Name: "Acme.Utils", Version: "1.0", RequiresPython: ">=3.8,<4"}
	body, ctype := pypiForm(t, map[string]string{"name": dist.Name, "version": "1.0", "requires_python": dist.RequiresPython},
		"acme_utils-1.0-py3-none-any.whl", wheelBytes(t, dist))
	if status, b, _ := e.Do(t, "POST", fmt.Sprintf("/api/v4/projects/%d/packages/pypi", id), bytes.NewReader(body),
		map[string]string{"PRIVATE-TOKEN": alice, "Content-Type": ctype}); status != 201 {
		t.Fatalf("upload: %d %s", status, b)
	}
	page := fmt.Sprintf("/api/v4/projects/%d/packages/pypi/simple/acme-utils/", id)
	pipAccept := "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"

	status, b, h := e.Do(t, "GET", page, nil, map[string]string{"PRIVATE-TOKEN": alice, "Accept": pipAccept})
	if status != 200 || h.Get("Content-Type") != "application/vnd.pypi.simple.v1+json" || h.Get("Vary") != "Accept" ||
		!strings.Contains(string(b), `"requires-python":">=3.8,<4"`) || !strings.Contains(string(b), `"core-metadata":{"sha256":`) {
		t.Fatalf("JSON page: %d %v %s", status, h, b)
	}
	status, b, h = e.Do(t, "GET", page, nil, map[string]string{"PRIVATE-TOKEN": alice, "Accept": "text/html"})
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(b), `data-requires-python="&gt;=3.8,&lt;4"`) || !strings.Contains(string(b), "#sha256=") {
		t.Fatalf("HTML page: %d %v %s", status, h, b)
	}
	req, _ := http.NewRequest("GET", e.URL+fmt.Sprintf("/api/v4/projects/%d/packages/pypi/simple/Acme_Utils/", id), nil)
	req.Header.Set("PRIVATE-TOKEN", alice)
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err := noRedirects.Do(req); err != nil || resp.StatusCode != 301 || !strings.HasSuffix(resp.Header.Get("Location"), "/simple/acme-utils/") {
		t.Fatalf("non-normalized name: %v %v", err, resp)
	}
	if status, _, _ := e.Do(t, "GET", page, nil, map[string]string{"PRIVATE-TOKEN": alice, "Accept": "application/xml"}); status != 406 {
		t.Fatalf("unacceptable Accept: %d", status)
	}
	if status, _, h := e.Do(t, "GET", page, nil, nil); status != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("anonymous on a private project: %d %v", status, h)
	}
	// The core metadata file is served beside the wheel (PEP 658).
	_, b, _ = e.Do(t, "GET", page, nil, map[string]string{"PRIVATE-TOKEN": alice, "Accept": "text/html"})
	href := strings.Split(strings.Split(string(b), `href="`)[1], "#")[0]
	status, meta, _ := e.Do(t, "GET", strings.TrimPrefix(href, e.URL)+".metadata", nil, tok(alice))
	if status != 200 || !strings.Contains(string(meta), "Name: Acme.Utils") {
		t.Fatalf("core metadata: %d %s", status, meta)
	}
	status, b, _ = e.Do(t, "GET", fmt.Sprintf("/api/v4/projects/%d/packages/pypi/simple/", id), nil, map[string]string{"PRIVATE-TOKEN": alice, "Accept": pipAccept})
	if status != 200 || !strings.Contains(string(b), `{"name":"acme-utils"}`) {
		t.Fatalf("root index: %d %s", status, b)
	}
	// Yanked files stay listed, marked (PEP 592), the reason escaped.
	e.MustGraphQL(t, alice, `mutation { yankPypiRelease(input: {projectPath: "acme/py", name: "acme-utils", version: "1.0", reason: "bad <tag>"}) { errors } }`, nil)
	_, b, _ = e.Do(t, "GET", page, nil, map[string]string{"PRIVATE-TOKEN": alice, "Accept": "text/html"})
	if !strings.Contains(string(b), `data-yanked="bad &lt;tag&gt;"`) {
		t.Fatalf("yanked in HTML: %s", b)
	}
	_, b, _ = e.Do(t, "GET", page, nil, map[string]string{"PRIVATE-TOKEN": alice, "Accept": pipAccept})
	if !strings.Contains(string(b), `"yanked":"bad <tag>"`) {
		t.Fatalf("yanked in JSON: %s", b)
	}
	r := e.GraphQL(t, alice, `mutation { yankPypiRelease(input: {projectPath: "acme/py", name: "acme-utils", version: "7.0"}) { errors } }`, nil)
	if r.Code() != "NOT_FOUND" || !strings.Contains(r.Errors[0].Message, "no PyPI release") {
		t.Fatalf("yank of a missing release: %+v", r.Errors)
	}
}

func wheelBytes(t *testing.T, d pyDist) []byte {
	b, err := os.ReadFile(d.wheel(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pypiForm builds twine's multipart form: fields first, then content.
func pypiForm(t testing.TB, fields map[string]string, fileName string, content []byte) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField(":action", "file_upload")
	mw.WriteField("protocol_version", "1")
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if fileName != "" {
		fw, _ := mw.CreateFormFile("content", fileName)
		fw.Write(content)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func TestPyPIBadUploads(t *testing.T) {
	cfg := servertest.NewConfig(t)
	cfg.MaxFileSize = 64 << 10
	e := servertest.NewWithConfig(t, cfg)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	id := createPyPIProject(t, e, alice, "acme", "py", "STANDARD", "")
	remoteID := createPyPIProject(t, e, alice, "acme", "remote", "REMOTE", "http://127.0.0.1:1/simple")
	virtID := createPyPIProject(t, e, alice, "acme", "virtual", "VIRTUAL", "")
	good := wheelBytes(t, pyDist{Name: "acme-utils", Version: "1.0"})
	sum := sha256.Sum256(good)
	cases := []struct {
		name    string
		project int
		fields  map[string]string
		file    string
		content []byte
		ctype   string
		status  int
		message string
	}{
		{"not multipart", id, nil, "", nil, "application/json", 400, "multipart/form-data"},
		{"malformed multipart", id, nil, "", []byte("--x\r\nbroken"), "multipart/form-data; boundary=x", 400, "malformed multipart"},
		{"no content", id, map[string]string{"name": "acme-utils", "version": "1.0"}, "", nil, "", 400, "content is missing"},
		{"no name", id, map[string]string{"version": "1.0"}, "acme_utils-1.0-py3-none-any.whl", good, "", 400, "name is missing"},
		{"bad version", id, map[string]string{"name": "acme-utils", "version": "one"}, "acme_utils-1.0-py3-none-any.whl", good, "", 400, "PEP 440"},
		{"file name of another project", id, map[string]string{"name": "acme-utils", "version": "1.0"}, "other-1.0-py3-none-any.whl", good, "", 400, "does not match the project name"},
		{"file name of another version", id, map[string]string{"name": "acme-utils", "version": "1.0"}, "acme_utils-2.0.tar.gz", good, "", 400, "does not match the version"},
		{"filetype of another kind", id, map[string]string{"name": "acme-utils", "version": "1.0", "filetype": "sdist"}, "acme_utils-1.0-py3-none-any.whl", good, "", 400, "filetype"},
		{"not a distribution", id, map[string]string{"name": "acme-utils", "version": "1.0"}, "acme_utils-1.0.exe", good, "", 400, "neither a wheel"},
		{"wrong sha256", id, map[string]string{"name": "acme-utils", "version": "1.0", "sha256_digest": strings.Repeat("ab", 32)}, "acme_utils-1.0-py3-none-any.whl", good, "", 400, "checksum mismatch"},
		{"wrong md5", id, map[string]string{"name": "acme-utils", "version": "1.0", "md5_digest": strings.Repeat("ab", 16)}, "acme_utils-1.0-py3-none-any.whl", good, "", 400, "checksum mismatch"},
		{"too large", id, map[string]string{"name": "acme-utils", "version": "1.0"}, "acme_utils-1.0-py3-none-any.whl", bytes.Repeat([]byte("x"), 100<<10), "", 413, "limit"},
		{"remote project", remoteID, map[string]string{"name": "acme-utils", "version": "1.0"}, "acme_utils-1.0-py3-none-any.whl", good, "", 405, "read-only"},
		{"virtual project", virtID, map[string]string{"name": "acme-utils", "version": "1.0"}, "acme_utils-1.0-py3-none-any.whl", good, "", 405, "read-only"},
	}
	var bad []servertest.BadRequest
	for _, c := range cases {
		body, ctype := c.content, c.ctype
		if ctype == "" {
			body, ctype = pypiForm(t, c.fields, c.file, c.content)
		}
		bad = append(bad, servertest.BadRequest{Name: c.name, Method: "POST", Path: fmt.Sprintf("/api/v4/projects/%d/packages/pypi", c.project),
			Body: body, Header: map[string]string{"PRIVATE-TOKEN": alice, "Content-Type": ctype}, Status: c.status, Message: c.message})
	}
	e.RefusesAndStoresNothing(t, bad)
	// The right digest is accepted.
	body, ctype := pypiForm(t, map[string]string{"name": "acme-utils", "version": "1.0", "sha256_digest": fmt.Sprintf("%x", sum)},
		"acme_utils-1.0-py3-none-any.whl", good)
	if status, b, _ := e.Do(t, "POST", fmt.Sprintf("/api/v4/projects/%d/packages/pypi", id), bytes.NewReader(body),
		map[string]string{"PRIVATE-TOKEN": alice, "Content-Type": ctype}); status != 201 {
		t.Fatalf("good upload: %d %s", status, b)
	}
}

// TestPyPIVirtualTiers checks name ownership on simple pages: upstreams of
// equal priority and kind merge (each file once), a higher tier that has
// the name hides every lower one.
func TestPyPIVirtualTiers(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	a := createPyPIProject(t, e, alice, "acme", "a", "STANDARD", "")
	b := createPyPIProject(t, e, alice, "acme", "b", "STANDARD", "")
	c := createPyPIProject(t, e, alice, "acme", "c", "STANDARD", "")
	virt := createPyPIProject(t, e, alice, "acme", "all", "VIRTUAL", "")
	upload := func(project int, version string) {
		file := "lib-" + version + ".tar.gz"
		body, ctype := pypiForm(t, map[string]string{"name": "lib", "version": version}, file, []byte(file+fmt.Sprint(project)))
		if status, out, _ := e.Do(t, "POST", fmt.Sprintf("/api/v4/projects/%d/packages/pypi", project), bytes.NewReader(body),
			map[string]string{"PRIVATE-TOKEN": alice, "Content-Type": ctype}); status != 201 {
			t.Fatalf("upload: %d %s", status, out)
		}
	}
	upload(a, "1.0")
	upload(b, "1.0") // the same file name in an equal tier: listed once
	upload(b, "2.0")
	upload(c, "9.0") // a lower tier: never listed
	set := func(pa, pb, pc int) {
		e.SetUpstreams(t, alice, "acme/all",
			servertest.Upstream{ID: "a", Path: "acme/a", Priority: pa},
			servertest.Upstream{ID: "b", Path: "acme/b", Priority: pb},
			servertest.Upstream{ID: "c", Path: "acme/c", Priority: pc},
		)
	}
	versions := func() string {
		_, b, h := e.Do(t, "GET", fmt.Sprintf("/api/v4/projects/%d/packages/pypi/simple/lib/", virt), nil,
			map[string]string{"PRIVATE-TOKEN": alice, "Accept": "application/vnd.pypi.simple.v1+json"})
		var page struct {
			Files []struct {
				Filename string `json:"filename"`
			} `json:"files"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		var names []string
		for _, f := range page.Files {
			names = append(names, f.Filename)
		}
		return strings.Join(names, " ") + " from " + h.Get("X-Registry-Upstream")
	}
	set(10, 10, 5)
	if got := versions(); got != "lib-1.0.tar.gz lib-2.0.tar.gz from acme/a, acme/b" {
		t.Fatalf("equal tiers: %s", got)
	}
	set(10, 5, 20)
	if got := versions(); got != "lib-9.0.tar.gz from acme/c" {
		t.Fatalf("highest tier: %s", got)
	}
}

// TestPyPIRemoteMisses: names the upstream does not have leave nothing in
// the database (misses are remembered in memory), and a name deleted
// upstream stops being served once its cached page expires.
func TestPyPIRemoteMisses(t *testing.T) {
	up := servertest.New(t)
	owner := up.CreateUser(t, "owner")
	up.CreateGroup(t, owner, "", "pub", "PUBLIC")
	pubID := createPyPIProject(t, up, owner, "pub", "index", "PUBLIC", "")
	body, ctype := pypiForm(t, map[string]string{"name": "gone-soon", "version": "1.0"}, "gone_soon-1.0.tar.gz", []byte("x"))
	if status, b, _ := up.Do(t, "POST", fmt.Sprintf("/api/v4/projects/%d/packages/pypi", pubID), bytes.NewReader(body),
		map[string]string{"PRIVATE-TOKEN": owner, "Content-Type": ctype}); status != 201 {
		t.Fatalf("upload: %d %s", status, b)
	}
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	remoteID := createPyPIProject(t, e, alice, "acme", "remote", "REMOTE", fmt.Sprintf("%s/api/v4/projects/%d/packages/pypi/simple", up.URL, pubID))
	page := func(name string) int {
		status, _, _ := e.Do(t, "GET", fmt.Sprintf("/api/v4/projects/%d/packages/pypi/simple/%s/", remoteID, name), nil, tok(alice))
		return status
	}
	rows := func() int { return e.Server.DB.RemoteDocument.Query().CountX(t.Context()) }
	for i := range 5 {
		if status := page(fmt.Sprintf("no-such-%d", i)); status != 404 {
			t.Fatalf("missing name: %d", status)
		}
	}
	if n := rows(); n != 0 {
		t.Fatalf("misses stored %d rows", n)
	}
	if status := page("gone-soon"); status != 200 || rows() != 1 {
		t.Fatalf("cached page: %d, %d rows", status, rows())
	}
	pk := up.Server.DB.Pkg.Query().OnlyX(t.Context())
	if status, b, _ := up.Do(t, "DELETE", fmt.Sprintf("/api/v4/projects/%d/packages/%d", pubID, pk.ID), nil, tok(owner)); status != 204 {
		t.Fatalf("upstream delete: %d %s", status, b)
	}
	if status := page("gone-soon"); status != 200 {
		t.Fatalf("within the TTL the cached page serves: %d", status)
	}
	e.Clock.Advance(25 * time.Hour)
	if status := page("gone-soon"); status != 404 || rows() != 0 {
		t.Fatalf("after the TTL, a name gone upstream: %d, %d rows", status, rows())
	}
}
