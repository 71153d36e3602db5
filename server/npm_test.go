package server_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/servertest"
)

// npmCLI runs the real npm client against one registry URL, with its own
// HOME, user config and cache, so that it never reads the machine's
// configuration or reaches the public registry.
type npmCLI struct {
	t        testing.TB
	home     string
	registry string
}

// npmRegistry is a project's npm endpoint, as .npmrc names it.
func npmRegistry(e *servertest.Env, projectRef string) string {
	return e.URL + "/api/v4/projects/" + projectRef + "/packages/npm/"
}

func newNPM(t testing.TB, registry, token string) *npmCLI {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("npm is required in CI (.ci/run installs it)")
		}
		t.Skip("npm is not installed (apt-get install npm)")
	}
	home := t.TempDir()
	c := &npmCLI{t: t, home: home, registry: registry}
	rc := "registry=" + registry + "\naudit=false\nfund=false\nupdate-notifier=false\nloglevel=warn\n"
	if token != "" {
		rc += strings.TrimPrefix(registry, "http:") + ":_authToken=" + token + "\n"
	}
	if err := os.WriteFile(filepath.Join(home, ".npmrc"), []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// run runs npm in dir and returns its combined output.
func (c *npmCLI) run(dir string, args ...string) (string, error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args = append(args, "--registry", c.registry, "--userconfig", filepath.Join(c.home, ".npmrc"),
		"--cache", filepath.Join(c.home, "cache"), "--audit=false", "--fund=false", "--update-notifier=false")
	cmd := exec.CommandContext(ctx, "npm", args...)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + c.home, "PATH=" + os.Getenv("PATH"), "NO_UPDATE_NOTIFIER=1", "npm_config_prefix=" + filepath.Join(c.home, "prefix")}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// must runs npm and fails the test when it fails.
func (c *npmCLI) must(dir string, args ...string) string {
	c.t.Helper()
	out, err := c.run(dir, args...)
	if err != nil {
		c.t.Fatalf("npm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// npmPackageDir writes a package's source for npm publish.
func npmPackageDir(t testing.TB, name, version string, deps map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	pj := map[string]any{"name": name, "version": version, "main": "index.js", "description": "test package " + name}
	if deps != nil {
		pj["dependencies"] = deps
	}
	b, _ := json.MarshalIndent(pj, "", "  ")
	must0(t, os.WriteFile(filepath.Join(dir, "package.json"), b, 0o644))
	must0(t, os.WriteFile(filepath.Join(dir, "index.js"), []byte(fmt.Sprintf("module.exports = %q;\n", name+"@"+version)), 0o644))
	return dir
}

func must0(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// publish publishes name@version (with deps) through npm.
func (c *npmCLI) publish(name, version string, deps map[string]string, extra ...string) {
	c.t.Helper()
	c.must(npmPackageDir(c.t, name, version, deps), append([]string{"publish"}, extra...)...)
}

// installed installs specs into a fresh project and returns the installed
// versions by name.
func (c *npmCLI) install(specs ...string) (map[string]string, string, error) {
	c.t.Helper()
	dir := c.t.TempDir()
	must0(c.t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"app","version":"1.0.0","private":true}`), 0o644))
	out, err := c.run(dir, append([]string{"install", "--no-package-lock"}, specs...)...)
	if err != nil {
		return nil, out, err
	}
	got := map[string]string{}
	_ = filepath.Walk(filepath.Join(dir, "node_modules"), func(p string, info os.FileInfo, err error) error {
		if err != nil || info.Name() != "package.json" || strings.Count(strings.TrimPrefix(p, dir), "node_modules") != 1 {
			return nil
		}
		var pj struct{ Name, Version string }
		if b, err := os.ReadFile(p); err == nil && json.Unmarshal(b, &pj) == nil && pj.Name != "" {
			rel, _ := filepath.Rel(filepath.Join(dir, "node_modules"), filepath.Dir(p))
			if filepath.ToSlash(rel) == pj.Name {
				got[pj.Name] = pj.Version
			}
		}
		return nil
	})
	return got, out, nil
}

func (c *npmCLI) mustInstall(specs ...string) map[string]string {
	c.t.Helper()
	got, out, err := c.install(specs...)
	if err != nil {
		c.t.Fatalf("npm install %v: %v\n%s", specs, err, out)
	}
	return got
}

// npmTgz builds a package tarball the way npm pack lays it out.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// npmTgzWithBlob is an uncompressed npm tarball of packageJSON and
// package/blob.bin.
func npmTgzWithBlob(t testing.TB, packageJSON string, blob []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.NoCompression)
	tw := tar.NewWriter(zw)
	must0(t, tw.WriteHeader(&tar.Header{Name: "package/package.json", Mode: 0o644, Size: int64(len(packageJSON))}))
	_, _ = tw.Write([]byte(packageJSON))
	must0(t, tw.WriteHeader(&tar.Header{Name: "package/blob.bin", Mode: 0o644, Size: int64(len(blob))}))
	_, _ = tw.Write(blob)
	must0(t, tw.Close())
	must0(t, zw.Close())
	return buf.Bytes()
}

func npmTgz(t testing.TB, packageJSON string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []struct{ name, body string }{{"package/package.json", packageJSON}, {"package/index.js", "module.exports = 1;\n"}} {
		must0(t, tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body))}))
		_, _ = tw.Write([]byte(f.body))
	}
	must0(t, tw.Close())
	must0(t, zw.Close())
	return buf.Bytes()
}

// publishDoc is npm's publish document for name@version with tgz; mutate
// edits it before it is encoded.
func publishDoc(name, version string, tgz []byte, mutate func(doc map[string]any, manifest map[string]any, dist map[string]any)) []byte {
	s1 := sha1.Sum(tgz)
	s512 := sha512.Sum512(tgz)
	dist := map[string]any{"shasum": hex.EncodeToString(s1[:]), "integrity": "sha512-" + base64.StdEncoding.EncodeToString(s512[:]),
		"tarball": "http://x/" + name + "/-/" + name + "-" + version + ".tgz"}
	manifest := map[string]any{"name": name, "version": version, "_id": name + "@" + version, "dist": dist}
	doc := map[string]any{"_id": name, "name": name, "dist-tags": map[string]any{"latest": version},
		"versions": map[string]any{version: manifest}, "access": nil,
		"_attachments": map[string]any{name + "-" + version + ".tgz": map[string]any{
			"content_type": "application/octet-stream", "data": base64.StdEncoding.EncodeToString(tgz), "length": len(tgz)}}}
	if mutate != nil {
		mutate(doc, manifest, dist)
	}
	// versions before _attachments, as npm writes it.
	var b bytes.Buffer
	b.WriteString("{")
	first := true
	for _, k := range []string{"_id", "name", "dist-tags", "versions", "access", "_attachments"} {
		v, ok := doc[k]
		if !ok {
			continue
		}
		if !first {
			b.WriteString(",")
		}
		first = false
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(v)
		b.Write(kb)
		b.WriteString(":")
		b.Write(vb)
	}
	b.WriteString("}")
	return b.Bytes()
}

func pkgJSON(name, version string) string {
	return fmt.Sprintf(`{"name":%q,"version":%q}`, name, version)
}

// npmPath is the npm endpoint path of a project, for raw requests.
func npmPath(projectRef, rest string) string {
	return "/api/v4/projects/" + projectRef + "/packages/npm/" + rest
}

func escName(name string) string { return strings.Replace(url.PathEscape(name), "%2F", "%2f", 1) }

func TestNPMStandardPublishInstall(t *testing.T) {
	e, alice, _, id := newAcmeTools(t)
	ref := fmt.Sprint(id)
	reg := npmRegistry(e, ref)
	npm := newNPM(t, reg, alice)

	if out := npm.must(t.TempDir(), "whoami"); strings.TrimSpace(out) != "alice" {
		t.Fatalf("whoami: %q", out)
	}
	npm.must(t.TempDir(), "ping")
	npm.publish("left-pad-x", "1.0.0", nil)
	npm.publish("left-pad-x", "1.1.0", nil)
	npm.publish("@acme/util", "1.0.0", map[string]string{"left-pad-x": "^1.0.0"})

	got := npm.mustInstall("@acme/util")
	if got["@acme/util"] != "1.0.0" || got["left-pad-x"] != "1.1.0" {
		t.Fatalf("installed %v", got)
	}
	if out := strings.TrimSpace(npm.must(t.TempDir(), "view", "@acme/util", "version")); out != "1.0.0" {
		t.Fatalf("npm view: %q", out)
	}
	if out := npm.must(t.TempDir(), "view", "left-pad-x", "versions", "--json"); !strings.Contains(out, `"1.0.0"`) || !strings.Contains(out, `"1.1.0"`) {
		t.Fatalf("npm view versions: %s", out)
	}

	t.Run("project addressed by its full path", func(t *testing.T) {
		byPath := newNPM(t, npmRegistry(e, "acme%2Ftools"), alice)
		if got := byPath.mustInstall("@acme/util"); got["@acme/util"] != "1.0.0" || got["left-pad-x"] != "1.1.0" {
			t.Fatalf("installed %v", got)
		}
	})

	t.Run("packument forms", func(t *testing.T) {
		status, body, h := e.Do(t, "GET", npmPath(ref, escName("@acme/util")), nil, map[string]string{
			"PRIVATE-TOKEN": alice, "Accept": "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"})
		if status != 200 || h.Get("Content-Type") != "application/vnd.npm.install-v1+json" {
			t.Fatalf("abbreviated: %d %s %s", status, h.Get("Content-Type"), body)
		}
		var abbr struct {
			Modified string
			DistTags map[string]string `json:"dist-tags"`
			Versions map[string]struct {
				Dependencies map[string]string
				Description  string
				Dist         struct{ Tarball, Shasum, Integrity string }
			}
		}
		must0(t, json.Unmarshal(body, &abbr))
		v := abbr.Versions["1.0.0"]
		if abbr.DistTags["latest"] != "1.0.0" || v.Dependencies["left-pad-x"] != "^1.0.0" || v.Description != "" ||
			v.Dist.Tarball != reg+"@acme%2futil/-/util-1.0.0.tgz" || len(v.Dist.Shasum) != 40 || !strings.HasPrefix(v.Dist.Integrity, "sha512-") {
			t.Fatalf("abbreviated packument: %s", body)
		}
		status, body, h = e.Do(t, "GET", npmPath(ref, "left-pad-x"), nil, tok(alice))
		var full struct {
			ID       string `json:"_id"`
			Rev      string `json:"_rev"`
			Time     map[string]string
			Versions map[string]map[string]any
		}
		must0(t, json.Unmarshal(body, &full))
		if status != 200 || h.Get("Content-Type") != "application/json" || full.Time["1.1.0"] == "" || full.Time["created"] == "" ||
			full.Versions["1.0.0"]["description"] != "test package left-pad-x" {
			t.Fatalf("full packument: %d %s", status, body)
		}
		// The tarball URL is served, with the right bytes.
		tarball := full.Versions["1.1.0"]["dist"].(map[string]any)
		status, tgz, _ := e.Do(t, "GET", strings.TrimPrefix(tarball["tarball"].(string), e.URL), nil, tok(alice))
		s1 := sha1.Sum(tgz)
		if status != 200 || hex.EncodeToString(s1[:]) != tarball["shasum"] {
			t.Fatalf("tarball: %d shasum %x vs %v", status, s1, tarball["shasum"])
		}
		status, _, h = e.Do(t, "HEAD", strings.TrimPrefix(tarball["tarball"].(string), e.URL), nil, tok(alice))
		if status != 200 || h.Get("Content-Length") != fmt.Sprint(len(tgz)) {
			t.Fatalf("HEAD tarball: %d %v", status, h)
		}
		// A single version, by version or tag.
		status, body, _ = e.Do(t, "GET", npmPath(ref, "left-pad-x/latest"), nil, tok(alice))
		var one struct{ Version string }
		if status != 200 || json.Unmarshal(body, &one) != nil || one.Version != "1.1.0" {
			t.Fatalf("version manifest: %d %s", status, body)
		}
	})

	t.Run("anonymous reads of a private project are challenged", func(t *testing.T) {
		status, body, h := e.Do(t, "GET", npmPath(ref, "left-pad-x"), nil, nil)
		if status != 401 || h.Get("WWW-Authenticate") == "" || !strings.Contains(string(body), `"error"`) {
			t.Fatalf("anonymous: %d %s %v", status, body, h)
		}
		anon := newNPM(t, reg, "")
		if _, out, err := anon.install("left-pad-x"); err == nil || !strings.Contains(out, "401") {
			t.Fatalf("anonymous install: %v %s", err, out)
		}
	})

	t.Run("a published version cannot be replaced", func(t *testing.T) {
		before := e.StoredState(t)
		out, err := npm.run(npmPackageDir(t, "left-pad-x", "1.0.0", nil), "publish")
		// npm checks the packument first; the registry refuses on its own
		// too (TestNPMBadInput sends the PUT without the client's check).
		if err == nil || !strings.Contains(out, "cannot publish over the previously published versions: 1.0.0") {
			t.Fatalf("republish: %v %s", err, out)
		}
		if after := e.StoredState(t); after != before {
			t.Fatalf("stored %s -> %s", before, after)
		}
	})

	t.Run("dist-tags", func(t *testing.T) {
		npm.publish("left-pad-x", "2.0.0-beta.1", nil, "--tag", "next")
		if got := npm.mustInstall("left-pad-x"); got["left-pad-x"] != "1.1.0" {
			t.Fatalf("latest after a tagged prerelease: %v", got)
		}
		if got := npm.mustInstall("left-pad-x@next"); got["left-pad-x"] != "2.0.0-beta.1" {
			t.Fatalf("next: %v", got)
		}
		npm.must(t.TempDir(), "dist-tag", "add", "left-pad-x@1.0.0", "stable")
		out := npm.must(t.TempDir(), "dist-tag", "ls", "left-pad-x")
		for _, want := range []string{"latest: 1.1.0", "next: 2.0.0-beta.1", "stable: 1.0.0"} {
			if !strings.Contains(out, want) {
				t.Fatalf("dist-tag ls lacks %q: %s", want, out)
			}
		}
		npm.must(t.TempDir(), "dist-tag", "rm", "left-pad-x", "stable")
		if out := npm.must(t.TempDir(), "dist-tag", "ls", "left-pad-x"); strings.Contains(out, "stable") {
			t.Fatalf("dist-tag rm: %s", out)
		}
		if out, err := npm.run(t.TempDir(), "dist-tag", "add", "left-pad-x@7.7.7", "stable"); err == nil || !strings.Contains(out, "404") {
			t.Fatalf("tagging a missing version: %v %s", err, out)
		}
	})

	t.Run("deprecate", func(t *testing.T) {
		npm.must(t.TempDir(), "deprecate", "left-pad-x@1.0.0", "use 1.1")
		if out := npm.must(t.TempDir(), "view", "left-pad-x@1.0.0", "deprecated"); !strings.Contains(out, "use 1.1") {
			t.Fatalf("deprecated: %s", out)
		}
		// npm install reads the abbreviated form: it carries the message too.
		_, body, _ := e.Do(t, "GET", npmPath(ref, "left-pad-x"), nil, map[string]string{"PRIVATE-TOKEN": alice, "Accept": "application/vnd.npm.install-v1+json"})
		var abbr struct {
			Versions map[string]struct{ Deprecated string }
		}
		if json.Unmarshal(body, &abbr) != nil || abbr.Versions["1.0.0"].Deprecated != "use 1.1" || abbr.Versions["1.1.0"].Deprecated != "" {
			t.Fatalf("abbreviated packument after deprecate: %s", body)
		}
		if out := npm.must(t.TempDir(), "view", "left-pad-x@1.1.0", "deprecated"); strings.TrimSpace(out) != "" {
			t.Fatalf("1.1.0 deprecated too: %s", out)
		}
		npm.must(t.TempDir(), "deprecate", "left-pad-x@1.0.0", "")
		if out := npm.must(t.TempDir(), "view", "left-pad-x@1.0.0", "deprecated"); strings.TrimSpace(out) != "" {
			t.Fatalf("un-deprecate: %s", out)
		}
	})

	t.Run("unpublish", func(t *testing.T) {
		dev := e.CreateUser(t, "dev")
		e.AddMember(t, alice, "acme/tools", "dev", "DEVELOPER")
		devNPM := newNPM(t, reg, dev)
		if out, err := devNPM.run(t.TempDir(), "unpublish", "left-pad-x@1.0.0"); err == nil || !strings.Contains(out, "403") {
			t.Fatalf("developer unpublish: %v %s", err, out)
		}
		npm.must(t.TempDir(), "unpublish", "left-pad-x@1.1.0")
		out := npm.must(t.TempDir(), "view", "left-pad-x", "versions", "--json")
		if strings.Contains(out, `"1.1.0"`) || !strings.Contains(out, `"1.0.0"`) {
			t.Fatalf("after unpublishing 1.1.0: %s", out)
		}
		// npm moves "latest" off the version it removes, to the highest one
		// left (the prerelease, by npm's own rule).
		if got := npm.mustInstall("left-pad-x"); got["left-pad-x"] != "2.0.0-beta.1" {
			t.Fatalf("latest after unpublishing it: %v", got)
		}
		if got := npm.mustInstall("left-pad-x@^1.0.0"); got["left-pad-x"] != "1.0.0" {
			t.Fatalf("range after unpublishing 1.1.0: %v", got)
		}
		npm.must(t.TempDir(), "dist-tag", "add", "@acme/util@1.0.0", "stable")
		if out := npm.must(t.TempDir(), "dist-tag", "ls", "@acme/util"); !strings.Contains(out, "stable: 1.0.0") {
			t.Fatalf("scoped dist-tag ls: %s", out)
		}
		npm.publish("@acme/util", "1.0.1", map[string]string{"left-pad-x": "^1.0.0"})
		npm.must(t.TempDir(), "unpublish", "@acme/util@1.0.0")
		if out := npm.must(t.TempDir(), "view", "@acme/util", "versions", "--json"); strings.Contains(out, `"1.0.0"`) || !strings.Contains(out, `"1.0.1"`) {
			t.Fatalf("scoped unpublish of one version: %s", out)
		}
		npm.must(t.TempDir(), "unpublish", "left-pad-x", "--force")
		if out, err := npm.run(t.TempDir(), "view", "left-pad-x"); err == nil || !strings.Contains(out, "404") {
			t.Fatalf("after unpublishing the package: %v %s", err, out)
		}
		if status, _, _ := e.Do(t, "GET", npmPath(ref, "left-pad-x/-/left-pad-x-1.0.0.tgz"), nil, tok(alice)); status != 404 {
			t.Fatalf("tarball after unpublish: %d", status)
		}
	})
}

// npmMirror is a registry (e) with a STANDARD project acme/js, a REMOTE
// project acme/npm-remote whose upstream is a second registry's public
// project (up, pub/npm), and a VIRTUAL project acme/npm-all over both
// (the STANDARD one first). It needs no npm binary: tests publish with
// raw requests, so their HTTP checks run everywhere and only the parts
// that drive npm skip without it.
type npmMirror struct {
	up, e                       *servertest.Env
	alice, bob                  string
	std, remote, virtual, upRef string
}

// publishUp publishes name@version to the upstream registry's pub/npm.
func (m *npmMirror) publishUp(t testing.TB, name, version string) {
	t.Helper()
	benchPublish(t, m.up, m.bob, m.upRef, name, version, nil)
}

func newNPMMirror(t testing.TB) *npmMirror {
	t.Helper()
	m := &npmMirror{up: servertest.New(t), e: servertest.New(t)}
	m.bob = m.up.CreateUser(t, "bob")
	m.up.CreateGroup(t, m.bob, "", "pub", "PUBLIC")
	m.upRef = fmt.Sprint(m.up.CreateProject(t, m.bob, "pub", "npm", "PUBLIC"))

	e := m.e
	m.alice = e.CreateUser(t, "alice")
	e.CreateGroup(t, m.alice, "", "acme", "PRIVATE")
	m.std = fmt.Sprint(e.CreateProject(t, m.alice, "acme", "js", "PRIVATE"))
	e.CreateRemoteProject(t, m.alice, "acme", "npm-remote", "NPM", npmRegistry(m.up, m.upRef))
	e.CreateVirtualProject(t, m.alice, "acme", "npm-all", "NPM")
	m.remote = e.ProjectRef(t, m.alice, "acme/npm-remote")
	m.virtual = e.ProjectRef(t, m.alice, "acme/npm-all")
	e.SetUpstreams(t, m.alice, "acme/npm-all",
		servertest.Upstream{ID: "local", Path: "acme/js", Priority: 20},
		servertest.Upstream{ID: "public", Path: "acme/npm-remote", Priority: 10})
	return m
}

func TestNPMRemoteAndVirtual(t *testing.T) {
	m := newNPMMirror(t)
	e := m.e
	m.publishUp(t, "shared-lib", "1.0.0")
	m.publishUp(t, "shared-lib", "1.2.0")
	// The same names as private packages, with higher versions: what a
	// dependency-confusion attack publishes on a public registry.
	m.publishUp(t, "internal-lib", "9.9.9")
	m.publishUp(t, "@acme/internal", "9.9.9")

	benchPublish(t, e, m.alice, m.std, "internal-lib", "1.0.0", nil)
	benchPublish(t, e, m.alice, m.std, "@acme/internal", "1.0.0", nil)
	benchPublish(t, e, m.alice, m.std, "@acme/app", "1.0.0", map[string]string{"shared-lib": "^1.0.0", "internal-lib": "*", "@acme/internal": "*"})

	t.Run("remote", func(t *testing.T) {
		status, body, _ := e.Do(t, "GET", npmPath(m.remote, "shared-lib"), nil, tok(m.alice))
		if status != 200 || !strings.Contains(string(body), npmRegistry(e, m.remote)+"shared-lib/-/shared-lib-1.2.0.tgz") ||
			strings.Contains(string(body), m.up.URL) {
			t.Fatalf("remote packument not rewritten: %d %s", status, body)
		}
		status, body, _ = e.Do(t, "GET", npmPath(m.remote, "shared-lib/-/shared-lib-1.2.0.tgz"), nil, tok(m.alice))
		if status != 200 || !bytes.Equal(body, upstreamTarball(t, m, "shared-lib", "1.2.0")) {
			t.Fatalf("tarball through the remote: %d, %d bytes", status, len(body))
		}
		// The tarball was cached in the remote project, with its digests
		// (the STANDARD project's own files do not count).
		cached := remoteFiles(t, m, "shared-lib", "1.2.0")
		if len(cached) != 1 || cached[0].Sha1 == nil || cached[0].Sha512 == nil || cached[0].Size != int64(len(body)) {
			t.Fatalf("cached in the remote project: %+v", cached)
		}

		rem := newNPM(t, npmRegistry(e, m.remote), m.alice)
		if got := rem.mustInstall("shared-lib"); got["shared-lib"] != "1.2.0" {
			t.Fatalf("install through the remote: %v", got)
		}
		if got := rem.mustInstall("@acme/internal"); got["@acme/internal"] != "9.9.9" {
			t.Fatalf("scoped through the remote: %v", got)
		}
	})

	t.Run("private upstream with credentials", func(t *testing.T) {
		privRef := fmt.Sprint(m.up.CreateProject(t, m.bob, "pub", "private-npm", "PRIVATE"))
		benchPublish(t, m.up, m.bob, privRef, "@pub/secret-lib", "1.0.0", nil)
		for _, c := range []struct{ path, password string }{{"with-token", m.bob}, {"without-token", ""}} {
			e.CreateProjectWith(t, m.alice, servertest.Project{Namespace: "acme", Path: c.path, Mode: "REMOTE", Format: "NPM",
				RemoteURL: npmRegistry(m.up, privRef), RemotePassword: c.password})
		}
		withRef, withoutRef := e.ProjectRef(t, m.alice, "acme/with-token"), e.ProjectRef(t, m.alice, "acme/without-token")
		if status, body, _ := e.Do(t, "GET", npmPath(withRef, escName("@pub/secret-lib")), nil, tok(m.alice)); status != 200 || !strings.Contains(string(body), `"1.0.0"`) {
			t.Fatalf("packument through a remote with the upstream's token: %d %s", status, body)
		}
		if status, body, _ := e.Do(t, "GET", npmPath(withoutRef, escName("@pub/secret-lib")), nil, tok(m.alice)); status != 502 {
			t.Fatalf("packument through a remote without the upstream's token (the upstream says 401): %d %s", status, body)
		}
		withToken := newNPM(t, npmRegistry(e, withRef), m.alice)
		if got := withToken.mustInstall("@pub/secret-lib"); got["@pub/secret-lib"] != "1.0.0" {
			t.Fatalf("through a remote with the upstream's token: %v", got)
		}
		withoutToken := newNPM(t, npmRegistry(e, withoutRef), m.alice)
		if _, out, err := withoutToken.install("@pub/secret-lib", "--fetch-retries=0"); err == nil || !strings.Contains(out, "502") {
			t.Fatalf("through a remote without the upstream's token: %v %s", err, out)
		}
	})

	t.Run("virtual", func(t *testing.T) {
		// Dependency confusion: the private tier owns the names.
		for _, name := range []string{"internal-lib", "@acme/internal"} {
			status, body, _ := e.Do(t, "GET", npmPath(m.virtual, escName(name)), nil, tok(m.alice))
			if status != 200 || strings.Contains(string(body), "9.9.9") || !strings.Contains(string(body), `"1.0.0"`) {
				t.Fatalf("%s packument through the virtual project: %d %s", name, status, body)
			}
			file := name[strings.LastIndex(name, "/")+1:] + "-9.9.9.tgz"
			if status, _, _ := e.Do(t, "GET", npmPath(m.virtual, escName(name)+"/-/"+file), nil, tok(m.alice)); status != 404 {
				t.Fatalf("%s 9.9.9 tarball through the virtual project: %d", name, status)
			}
		}
		// Names only the remote has come through.
		if status, body, _ := e.Do(t, "GET", npmPath(m.virtual, "shared-lib"), nil, tok(m.alice)); status != 200 || !strings.Contains(string(body), `"1.2.0"`) {
			t.Fatalf("shared-lib through the virtual project: %d %s", status, body)
		}
		// Writes go to the STANDARD project.
		status, body, _ := e.Do(t, "PUT", npmPath(m.virtual, "new-lib"),
			bytes.NewReader(publishDoc("new-lib", "1.0.0", npmTgz(t, pkgJSON("new-lib", "1.0.0")), nil)), tok(m.alice))
		if status != 405 || !strings.Contains(string(body), `"error"`) {
			t.Fatalf("publish to the virtual project: %d %s", status, body)
		}

		virt := newNPM(t, npmRegistry(e, m.virtual), m.alice)
		got := virt.mustInstall("@acme/app")
		want := map[string]string{"@acme/app": "1.0.0", "shared-lib": "1.2.0", "internal-lib": "1.0.0", "@acme/internal": "1.0.0"}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("install through the virtual project: %v, want %v", got, want)
			}
		}
		if out := strings.TrimSpace(virt.must(t.TempDir(), "view", "shared-lib", "version")); out != "1.2.0" {
			t.Fatalf("npm view through the virtual project: %q", out)
		}
		if out := virt.must(t.TempDir(), "dist-tag", "ls", "internal-lib"); strings.TrimSpace(out) != "latest: 1.0.0" {
			t.Fatalf("dist-tags through the virtual project: %q", out)
		}
		for _, name := range []string{"internal-lib", "@acme/internal"} {
			if got := virt.mustInstall(name); got[name] != "1.0.0" {
				t.Fatalf("%s through the virtual project: %v", name, got)
			}
			if _, out, err := virt.install(name + "@9.9.9"); err == nil || !strings.Contains(out, "ETARGET") {
				t.Fatalf("%s@9.9.9 installed through the virtual project: %v %s", name, err, out)
			}
		}
	})
}

func TestNPMBadInputStoresNothing(t *testing.T) {
	e, alice, _, id := newAcmeTools(t)
	ref := fmt.Sprint(id)
	good := npmTgz(t, pkgJSON("good-lib", "1.0.0"))
	put := func(name string, body []byte, token string) (int, string) {
		t.Helper()
		status, b, _ := e.Do(t, "PUT", npmPath(ref, escName(name)), bytes.NewReader(body), tok(token))
		return status, string(b)
	}
	if status, body := put("good-lib", publishDoc("good-lib", "1.0.0", good, nil), alice); status != 200 {
		t.Fatalf("good publish: %d %s", status, body)
	}
	other := npmTgz(t, pkgJSON("good-lib", "2.0.0"))
	otherSum := sha512.Sum512(other)
	e.CreateRemoteProject(t, alice, "acme", "npm-remote", "NPM", "http://127.0.0.1:1/npm/")
	remoteRef := e.ProjectRef(t, alice, "acme/npm-remote")
	rita := e.CreateUser(t, "rita")
	e.AddMember(t, alice, "acme/tools", "rita", "REPORTER")
	full := publishDoc("good-lib", "2.0.0", other, nil)
	e.SetDuplicates(t, alice, "acme", "NPM", false)

	var bad []servertest.BadRequest
	for _, c := range []struct {
		name   string
		pkg    string
		body   []byte
		token  string
		status int
		want   string
	}{
		{"malformed JSON", "good-lib", []byte(`{"name": "good-lib", "versions": {`), alice, 400, "malformed JSON"},
		{"not JSON at all", "good-lib", []byte(`hello`), alice, 400, "malformed JSON"},
		{"garbage after the document", "good-lib", append(append([]byte{}, full...), "x"...), alice, 400, "malformed JSON"},
		{"document cut after the data", "good-lib", full[:len(full)-1], alice, 400, "malformed JSON"},
		{"data cut off", "good-lib", full[:len(full)/2], alice, 400, "the document ends early"},
		{"attachment missing", "good-lib", publishDoc("good-lib", "2.0.0", other, func(d, _, _ map[string]any) { delete(d, "_attachments") }), alice, 400, "no tarball"},
		{"attachment for another version", "good-lib", publishDoc("good-lib", "2.0.0", other, func(d, _, _ map[string]any) {
			d["_attachments"] = map[string]any{"good-lib-3.0.0.tgz": d["_attachments"].(map[string]any)["good-lib-2.0.0.tgz"]}
		}), alice, 400, "is not the tarball of good-lib@2.0.0"},
		{"two attachments", "good-lib", publishDoc("good-lib", "2.0.0", other, func(d, _, _ map[string]any) {
			a := d["_attachments"].(map[string]any)
			a["good-lib-2.0.1.tgz"] = a["good-lib-2.0.0.tgz"]
		}), alice, 400, "exactly one"},
		{"wrong integrity", "good-lib", publishDoc("good-lib", "2.0.0", other, func(_, _, dist map[string]any) {
			s := sha512.Sum512(good)
			dist["integrity"] = "sha512-" + base64.StdEncoding.EncodeToString(s[:])
		}), alice, 400, "checksum mismatch"},
		{"wrong shasum", "good-lib", publishDoc("good-lib", "2.0.0", other, func(_, _, dist map[string]any) {
			dist["shasum"] = strings.Repeat("a", 40)
		}), alice, 400, "checksum mismatch"},
		{"integrity not sha512", "good-lib", publishDoc("good-lib", "2.0.0", other, func(_, _, dist map[string]any) {
			dist["integrity"] = "sha512-abc"
		}), alice, 400, "not a sha512 integrity"},
		{"package.json disagrees", "good-lib", publishDoc("good-lib", "2.0.0", npmTgz(t, pkgJSON("good-lib", "2.0.1")), nil), alice, 400, "package.json is good-lib@2.0.1"},
		{"not a tarball", "good-lib", publishDoc("good-lib", "2.0.0", []byte("just text"), nil), alice, 400, "not gzip"},
		{"bad base64", "good-lib", bytes.Replace(full, []byte(`"data":"`), []byte(`"data":"!!!!`), 1), alice, 400, "not valid base64"},
		{"length disagrees", "good-lib", publishDoc("good-lib", "2.0.0", other, func(d, _, _ map[string]any) {
			d["_attachments"].(map[string]any)["good-lib-2.0.0.tgz"].(map[string]any)["length"] = 3
		}), alice, 400, "announces 3 bytes"},
		{"name disagrees with the URL", "good-lib", publishDoc("evil-lib", "2.0.0", npmTgz(t, pkgJSON("evil-lib", "2.0.0")), nil), alice, 400, "does not match the name in the URL"},
		{"manifest disagrees", "good-lib", publishDoc("good-lib", "2.0.0", other, func(_, mf, _ map[string]any) { mf["version"] = "2.0.1" }), alice, 400, "is good-lib@2.0.1"},
		{"uppercase name", "Good-Lib", publishDoc("Good-Lib", "1.0.0", npmTgz(t, pkgJSON("Good-Lib", "1.0.0")), nil), alice, 400, "invalid package name"},
		{"name starting with a dot", ".hidden", publishDoc(".hidden", "1.0.0", npmTgz(t, pkgJSON(".hidden", "1.0.0")), nil), alice, 400, "invalid package name"},
		{"not a semver", "good-lib", publishDoc("good-lib", "2.0", npmTgz(t, pkgJSON("good-lib", "2.0")), nil), alice, 400, "invalid version"},
		{"tag on another version", "good-lib", publishDoc("good-lib", "2.0.0", other, func(d, _, _ map[string]any) {
			d["dist-tags"] = map[string]any{"latest": "1.0.0"}
		}), alice, 400, "a publish tags the version it publishes"},
		{"versions after the attachment", "good-lib", []byte(`{"name":"good-lib","_attachments":{"good-lib-2.0.0.tgz":{"data":"AA=="}},"versions":{}}`), alice, 400, "must come before"},
		{"republish", "good-lib", publishDoc("good-lib", "1.0.0", good, nil), alice, 403, "already published"},
		{"reporter", "good-lib", full, rita, 403, "DEVELOPER"},
		{"anonymous", "good-lib", full, "", 401, "401"},
	} {
		bad = append(bad, servertest.BadRequest{Name: c.name, Method: "PUT", Path: npmPath(ref, escName(c.pkg)), Body: c.body,
			Header: tok(c.token), Status: c.status, Message: c.want, JSONField: "error"})
	}
	bad = append(bad, servertest.BadRequest{Name: "publish to a remote project", Method: "PUT", Path: npmPath(remoteRef, "good-lib"), Body: full,
		Header: tok(alice), Status: 405, Message: "REMOTE repositories are read-only", JSONField: "error"})
	e.RefusesAndStoresNothing(t, bad)
	_ = otherSum

	t.Run("republish where duplicates are allowed", func(t *testing.T) {
		e.SetDuplicates(t, alice, "acme", "NPM", true)
		defer e.SetDuplicates(t, alice, "acme", "NPM", false)
		again := npmTgz(t, pkgJSON("good-lib", "1.0.0")+" ")
		if status, body := put("good-lib", publishDoc("good-lib", "1.0.0", again, nil), alice); status != 200 {
			t.Fatalf("%d %s", status, body)
		}
		s := sha512.Sum512(again)
		_, body, _ := e.Do(t, "GET", npmPath(ref, "good-lib"), nil, tok(alice))
		if !strings.Contains(string(body), base64.StdEncoding.EncodeToString(s[:])) {
			t.Fatalf("the packument does not serve the newest tarball: %s", body)
		}
	})

	t.Run("stale revision", func(t *testing.T) {
		status, body, _ := e.Do(t, "DELETE", npmPath(ref, "good-lib/-rev/1-stale"), nil, tok(alice))
		if status != 409 || !strings.Contains(string(body), "read it again") {
			t.Fatalf("%d %s", status, body)
		}
	})
}

func TestNPMOversizePublish(t *testing.T) {
	cfg := servertest.NewConfig(t)
	cfg.MaxFileSize = 64 << 10
	e := servertest.NewWithConfig(t, cfg)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	ref := fmt.Sprint(e.CreateProject(t, alice, "acme", "tools", "PRIVATE"))
	// An incompressible tarball over the limit, announced or not.
	big := randomBytes(200 << 10)
	pj := pkgJSON("big-lib", "1.0.0")
	doc := publishDoc("big-lib", "1.0.0", npmTgzWithBlob(t, pj, big), nil)
	before := e.StoredState(t)
	status, body, _ := e.Do(t, "PUT", npmPath(ref, "big-lib"), bytes.NewReader(doc), tok(alice))
	if status != 413 || !strings.Contains(string(body), `"error"`) {
		t.Fatalf("oversize: %d %s", status, body)
	}
	// A document whose JSON outside the tarball passes its bound.
	huge := publishDoc("big-lib", "1.0.0", npmTgz(t, pj), func(d, _, _ map[string]any) { d["readme"] = strings.Repeat("x", 17<<20) })
	huge = append([]byte(`{"readme":"`+strings.Repeat("x", 17<<20)+`",`), huge[1:]...)
	status, body, _ = e.Do(t, "PUT", npmPath(ref, "big-lib"), bytes.NewReader(huge), tok(alice))
	if status != 413 || !strings.Contains(string(body), "tarballs are limited to 65536 bytes") {
		t.Fatalf("oversize document, announced: %d %.300s", status, body)
	}
	// Without a Content-Length (chunked), the stream is cut at the bound.
	status, body, _ = e.Do(t, "PUT", npmPath(ref, "big-lib"), io.MultiReader(bytes.NewReader(huge)), tok(alice))
	if status != 413 || !strings.Contains(string(body), "outside the tarball exceeds") {
		t.Fatalf("oversize document, chunked: %d %.300s", status, body)
	}
	status, body, _ = e.Do(t, "PUT", npmPath(ref, "big-lib"), io.MultiReader(bytes.NewReader(doc)), tok(alice))
	if status != 413 || !strings.Contains(string(body), "exceeds the limit of 65536 bytes") {
		t.Fatalf("oversize tarball, chunked: %d %.300s", status, body)
	}
	if after := e.StoredState(t); after != before {
		t.Fatalf("stored %s -> %s", before, after)
	}
	// With npm: the client reports the 413.
	npm := newNPM(t, npmRegistry(e, ref), alice)
	dir := npmPackageDir(t, "big-lib", "1.0.0", nil)
	must0(t, os.WriteFile(filepath.Join(dir, "blob.bin"), big, 0o644))
	if out, err := npm.run(dir, "publish"); err == nil || !strings.Contains(out, "413") {
		t.Fatalf("npm publish of an oversize package: %v %s", err, out)
	}
	if after := e.StoredState(t); after != before {
		t.Fatalf("stored %s -> %s", before, after)
	}
}

func TestNPMRemoteVerifiesUpstreamTarballs(t *testing.T) {
	m := newNPMMirror(t)
	e := m.e
	m.publishUp(t, "shared-lib", "1.0.0")
	// A loopback proxy in front of the upstream that can swap every
	// tarball for other (complete, well-formed) bytes, or fail.
	proxy := servertest.NewFaultProxy(t, m.up.URL)
	swapped := npmTgz(t, pkgJSON("shared-lib", "1.0.0"))
	proxy.SwapBody = func(r *http.Request) ([]byte, bool) { return swapped, strings.HasSuffix(r.URL.Path, ".tgz") }
	e.CreateRemoteProject(t, m.alice, "acme", "via-proxy", "NPM", proxy.URL+"/api/v4/projects/"+m.upRef+"/packages/npm/")
	ref := e.ProjectRef(t, m.alice, "acme/via-proxy")

	// Swapped tarballs do not match the upstream packument's integrity:
	// the read fails (502), and nothing is cached. (The packument is read
	// first: its cached body is a blob too, and legitimately stored.)
	if status, body, _ := e.Do(t, "GET", npmPath(ref, "shared-lib"), nil, tok(m.alice)); status != 200 {
		t.Fatalf("packument: %d %s", status, body)
	}
	before := e.StoredState(t)
	proxy.Set(servertest.Swap)
	status, body, _ := e.Do(t, "GET", npmPath(ref, "shared-lib/-/shared-lib-1.0.0.tgz"), nil, tok(m.alice))
	if status != 502 || !strings.Contains(string(body), "checksum") || proxy.Count(".tgz") != 1 {
		t.Fatalf("swapped upstream tarball: %d %s (upstream asked %d times)", status, body, proxy.Count(".tgz"))
	}
	if after := e.StoredState(t); after != before {
		t.Fatalf("a bad upstream tarball was cached: %s -> %s", before, after)
	}
	// What the npm client makes of it (the rest needs npm).
	rem := newNPM(t, npmRegistry(e, ref), m.alice)
	if _, out, err := rem.install("shared-lib", "--fetch-retries=0"); err == nil {
		t.Fatalf("npm installed a tarball that does not match its integrity: %s", out)
	}
	// Honest again: installed and cached; then the upstream goes down and
	// installs go on from the cache (the packument is still fresh).
	proxy.Set(servertest.NoFault)
	if got := rem.mustInstall("shared-lib"); got["shared-lib"] != "1.0.0" {
		t.Fatalf("install: %v", got)
	}
	proxy.Set(servertest.Fail500)
	if got := rem.mustInstall("shared-lib"); got["shared-lib"] != "1.0.0" {
		t.Fatalf("install with the upstream down: %v", got)
	}
	if _, out, err := rem.install("never-seen", "--fetch-retries=0"); err == nil || !strings.Contains(out, "502") {
		t.Fatalf("an uncached name with the upstream down: %v %s", err, out)
	}
}

// A name with many versions is served from memory; every kind of change
// must show in the next read all the same.
func TestNPMLargePackumentStaysCurrent(t *testing.T) {
	e, alice, _, id := newAcmeTools(t)
	ref := fmt.Sprint(id)
	for i := range 120 {
		benchPublish(t, e, alice, ref, "big-lib", fmt.Sprintf("1.0.%d", i), nil)
	}
	abbreviated := func() map[string]struct{ Deprecated string } {
		t.Helper()
		status, body, _ := e.Do(t, "GET", npmPath(ref, "big-lib"), nil, map[string]string{"PRIVATE-TOKEN": alice, "Accept": "application/vnd.npm.install-v1+json"})
		var doc struct {
			Versions map[string]struct{ Deprecated string }
		}
		if status != 200 || json.Unmarshal(body, &doc) != nil {
			t.Fatalf("packument: %d %.300s", status, body)
		}
		return doc.Versions
	}
	if n := len(abbreviated()); n != 120 {
		t.Fatalf("%d versions", n)
	}
	abbreviated() // served from memory
	benchPublish(t, e, alice, ref, "big-lib", "1.1.0", nil)
	if vs := abbreviated(); len(vs) != 121 {
		t.Fatalf("after a publish: %d versions", len(vs))
	}
	npm := newNPM(t, npmRegistry(e, ref), alice)
	npm.must(t.TempDir(), "deprecate", "big-lib@1.0.7", "broken")
	if vs := abbreviated(); vs["1.0.7"].Deprecated != "broken" {
		t.Fatalf("after a deprecate: %+v", vs["1.0.7"])
	}
	npm.must(t.TempDir(), "unpublish", "big-lib@1.0.8")
	if _, ok := abbreviated()["1.0.8"]; ok {
		t.Fatal("an unpublished version is still listed")
	}
	// A delete through GitLab's packages API, which knows nothing of npm.
	pk, err := e.Server.DB.Pkg.Query().All(t.Context())
	must0(t, err)
	for _, p := range pk {
		if p.Version == "1.0.9" {
			if status, body, _ := e.Do(t, "DELETE", fmt.Sprintf("/api/v4/projects/%s/packages/%d", ref, p.ID), nil, tok(alice)); status != 204 {
				t.Fatalf("delete: %d %s", status, body)
			}
		}
	}
	if _, ok := abbreviated()["1.0.9"]; ok {
		t.Fatal("a version deleted through the packages API is still listed")
	}
}

// A large tarball crosses many buffer boundaries of the base64 stream;
// what is stored and served must be exactly what was published.
func TestNPMLargeTarballRoundTrip(t *testing.T) {
	e, alice, _, id := newAcmeTools(t)
	ref := fmt.Sprint(id)
	tgz := npmTgzWithBlob(t, pkgJSON("large-lib", "1.0.0"), randomBytes(24<<20))
	doc := publishDoc("large-lib", "1.0.0", tgz, nil)
	// JSON encoders may escape "/" in the base64 text; that must decode too.
	doc = bytes.ReplaceAll(doc, []byte("/"), []byte(`\/`))
	status, body, _ := e.Do(t, "PUT", npmPath(ref, "large-lib"), io.MultiReader(bytes.NewReader(doc)), tok(alice))
	if status != 200 {
		t.Fatalf("publish: %d %s", status, body)
	}
	status, got, _ := e.Do(t, "GET", npmPath(ref, "large-lib/-/large-lib-1.0.0.tgz"), nil, tok(alice))
	if status != 200 || !bytes.Equal(got, tgz) {
		t.Fatalf("download: %d, %d bytes, equal %v", status, len(got), bytes.Equal(got, tgz))
	}
}

// TestNPMConcurrentWritesOfOneRevision: writers that read the same _rev
// and write at once (two deprecations here) cannot both win: one commits,
// the others get 409 and would re-read, as npm does.
func TestNPMConcurrentWritesOfOneRevision(t *testing.T) {
	e, alice, _, id := newAcmeTools(t)
	ref := fmt.Sprint(id)
	benchPublish(t, e, alice, ref, "shared-lib", "1.0.0", nil)
	status, body, _ := e.Do(t, "GET", npmPath(ref, "shared-lib")+"?write=true", nil, tok(alice))
	var doc map[string]any
	if status != 200 || json.Unmarshal(body, &doc) != nil {
		t.Fatalf("packument: %d %s", status, body)
	}
	rev := doc["_rev"].(string)
	const writers = 6
	statuses := make(chan int, writers)
	var wg sync.WaitGroup
	for i := range writers {
		v := doc["versions"].(map[string]any)["1.0.0"].(map[string]any)
		copyDoc := map[string]any{"_id": doc["_id"], "name": doc["name"], "_rev": rev, "dist-tags": doc["dist-tags"],
			"versions": map[string]any{"1.0.0": maps.Clone(v)}}
		copyDoc["versions"].(map[string]any)["1.0.0"].(map[string]any)["deprecated"] = fmt.Sprintf("message %d", i)
		b, _ := json.Marshal(copyDoc)
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _, _ := e.Do(t, "PUT", npmPath(ref, "shared-lib")+"/-rev/"+rev, bytes.NewReader(b),
				map[string]string{"PRIVATE-TOKEN": alice, "Content-Type": "application/json"})
			statuses <- status
		}()
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	if counts[200]+counts[201] != 1 || counts[409] != writers-1 {
		t.Fatalf("writers of one revision: %v (want one success, the rest 409)", counts)
	}
}
