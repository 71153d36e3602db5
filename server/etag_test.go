package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/servertest"
)

// revalidation fetches an index document, then asks again with its ETag.
type revalidation struct {
	t       *testing.T
	e       *servertest.Env
	path    string
	headers map[string]string
}

func with(h map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for hk, hv := range h {
		out[hk] = hv
	}
	return out
}

// fetch GETs the document (200, an ETag), and returns its ETag and body.
func (rv revalidation) fetch() (string, string) {
	rv.t.Helper()
	status, body, h := rv.e.Do(rv.t, "GET", rv.path, nil, rv.headers)
	if status != 200 || h.Get("ETag") == "" {
		rv.t.Fatalf("GET %s: %d, ETag %q: %.200s", rv.path, status, h.Get("ETag"), body)
	}
	return h.Get("ETag"), string(body)
}

// unchanged checks that If-None-Match with etag gets 304 with no body, the
// same ETag and the same caching headers.
func (rv revalidation) unchanged(etag string) {
	rv.t.Helper()
	status, body, h := rv.e.Do(rv.t, "GET", rv.path, nil, with(rv.headers, "If-None-Match", etag))
	if status != http.StatusNotModified || len(body) != 0 || h.Get("ETag") != etag ||
		!strings.Contains(h.Get("Cache-Control"), "must-revalidate") {
		rv.t.Fatalf("GET %s with If-None-Match %s: %d, ETag %q, Cache-Control %q, %d bytes", rv.path, etag, status,
			h.Get("ETag"), h.Get("Cache-Control"), len(body))
	}
}

// changed checks that If-None-Match with a stale etag gets the new
// document (200) with a new ETag, which it returns.
func (rv revalidation) changed(stale, want string) string {
	rv.t.Helper()
	status, body, h := rv.e.Do(rv.t, "GET", rv.path, nil, with(rv.headers, "If-None-Match", stale))
	if status != 200 || h.Get("ETag") == "" || h.Get("ETag") == stale || !strings.Contains(string(body), want) {
		rv.t.Fatalf("GET %s after a change: %d, ETag %q (was %s), body has %q: %.300s", rv.path, status, h.Get("ETag"), stale, want, body)
	}
	rv.unchanged(h.Get("ETag"))
	return h.Get("ETag")
}

func npmPublishRaw(t *testing.T, e *servertest.Env, token, ref, name, version string) {
	t.Helper()
	body := publishDoc(name, version, npmTgz(t, pkgJSON(name, version)), nil)
	if status, b, _ := e.Do(t, "PUT", npmPath(ref, escName(name)), bytes.NewReader(body), tok(token)); status != 200 && status != 201 {
		t.Fatalf("publish %s@%s: %d %s", name, version, status, b)
	}
}

func TestNPMPackumentsRevalidate(t *testing.T) {
	up := servertest.New(t)
	bob := up.CreateUser(t, "bob")
	up.CreateGroup(t, bob, "", "pub", "PUBLIC")
	upRef := fmt.Sprint(up.CreateProject(t, bob, "pub", "npm", "PUBLIC"))
	npmPublishRaw(t, up, bob, upRef, "public-lib", "1.0.0")

	e, alice, _, id := newAcmeTools(t)
	ref := fmt.Sprint(id)
	e.CreateRemoteProject(t, alice, "acme", "npm-remote", "NPM", npmRegistry(up, upRef))
	e.CreateVirtualProject(t, alice, "acme", "npm-all", "NPM")
	remote, virtual := e.ProjectRef(t, alice, "acme/npm-remote"), e.ProjectRef(t, alice, "acme/npm-all")
	e.SetUpstreams(t, alice, "acme/npm-all",
		servertest.Upstream{ID: "local", Path: "acme/tools", Priority: 20},
		servertest.Upstream{ID: "public", Path: "acme/npm-remote", Priority: 10},
	)
	npmPublishRaw(t, e, alice, ref, "acme-lib", "1.0.0")

	abbreviated := "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
	full := rv(t, e, npmPath(ref, "acme-lib"), with(tok(alice), "Accept", "application/json"))
	abbr := rv(t, e, npmPath(ref, "acme-lib"), with(tok(alice), "Accept", abbreviated))
	version := rv(t, e, npmPath(ref, "acme-lib/latest"), tok(alice))
	fullTag, _ := full.fetch()
	abbrTag, _ := abbr.fetch()
	versionTag, _ := version.fetch()
	if fullTag == abbrTag || fullTag == versionTag {
		t.Fatalf("one ETag for different documents: full %s, abbreviated %s, version %s", fullTag, abbrTag, versionTag)
	}
	full.unchanged(fullTag)
	abbr.unchanged(abbrTag)
	version.unchanged(versionTag)
	// If-None-Match may list several tags, and tags compare weakly.
	if status, _, _ := e.Do(t, "GET", full.path, nil, with(full.headers, "If-None-Match", `"other", `+strings.TrimPrefix(fullTag, "W/"))); status != 304 {
		t.Fatalf("If-None-Match with a list of tags: %d", status)
	}
	virt := rv(t, e, npmPath(virtual, "acme-lib"), with(tok(alice), "Accept", abbreviated))
	virtTag, _ := virt.fetch()
	virt.unchanged(virtTag)

	t.Run("publish", func(t *testing.T) {
		npmPublishRaw(t, e, alice, ref, "acme-lib", "1.1.0")
		fullTag = full.changed(fullTag, `"1.1.0"`)
		abbrTag = abbr.changed(abbrTag, `"1.1.0"`)
		versionTag = version.changed(versionTag, `"1.1.0"`)
		virtTag = virt.changed(virtTag, `"1.1.0"`)
	})
	t.Run("dist-tag", func(t *testing.T) {
		if status, b, _ := e.Do(t, "PUT", npmPath(ref, "-/package/"+"acme-lib"+"/dist-tags/latest"),
			strings.NewReader(`"1.0.0"`), with(tok(alice), "Content-Type", "application/json")); status != 200 && status != 201 {
			t.Fatalf("dist-tag: %d %s", status, b)
		}
		full.changed(fullTag, `"latest":"1.0.0"`)
		abbr.changed(abbrTag, `"latest":"1.0.0"`)
		version.changed(versionTag, "acme-lib-1.0.0.tgz")
		virt.changed(virtTag, `"latest":"1.0.0"`)
	})
	t.Run("remote", func(t *testing.T) {
		rem := rv(t, e, npmPath(remote, "public-lib"), with(tok(alice), "Accept", abbreviated))
		tag, _ := rem.fetch()
		rem.unchanged(tag)
		npmPublishRaw(t, up, bob, upRef, "public-lib", "2.0.0")
		rem.unchanged(tag) // within the TTL the cached upstream document serves
		e.Clock.Advance(25 * time.Hour)
		rem.changed(tag, `"2.0.0"`)
	})
}

func rv(t *testing.T, e *servertest.Env, path string, headers map[string]string) revalidation {
	return revalidation{t: t, e: e, path: path, headers: headers}
}

func TestPyPIPagesRevalidate(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	id := createPyPIProject(t, e, alice, "acme", "py", "STANDARD", "")
	virtual := createPyPIProject(t, e, alice, "acme", "py-all", "VIRTUAL", "")
	e.SetUpstreams(t, alice, "acme/py-all", servertest.Upstream{ID: "local", Path: "acme/py", Priority: 10})
	upload := func(version string) {
		t.Helper()
		dist := pyDist{Name: "acme-utils", Version: version}
		body, ctype := pypiForm(t, map[string]string{"name": dist.Name, "version": version},
			"acme_utils-"+version+"-py3-none-any.whl", wheelBytes(t, dist))
		if status, b, _ := e.Do(t, "POST", fmt.Sprintf("/api/v4/projects/%d/packages/pypi", id), bytes.NewReader(body),
			map[string]string{"PRIVATE-TOKEN": alice, "Content-Type": ctype}); status != 201 {
			t.Fatalf("upload: %d %s", status, b)
		}
	}
	upload("1.0")
	page := fmt.Sprintf("/api/v4/projects/%d/packages/pypi/simple/acme-utils/", id)
	jsonPage := rv(t, e, page, with(tok(alice), "Accept", "application/vnd.pypi.simple.v1+json"))
	htmlPage := rv(t, e, page, with(tok(alice), "Accept", "text/html"))
	v1HTML := rv(t, e, page, with(tok(alice), "Accept", "application/vnd.pypi.simple.v1+html"))
	virtPage := rv(t, e, fmt.Sprintf("/api/v4/projects/%d/packages/pypi/simple/acme-utils/", virtual), with(tok(alice), "Accept", "text/html"))
	root := rv(t, e, fmt.Sprintf("/api/v4/projects/%d/packages/pypi/simple/", id), with(tok(alice), "Accept", "text/html"))
	tags := map[string]string{}
	for name, p := range map[string]revalidation{"json": jsonPage, "html": htmlPage, "v1html": v1HTML, "virtual": virtPage, "root": root} {
		tag, _ := p.fetch()
		p.unchanged(tag)
		tags[name] = tag
	}
	if tags["json"] == tags["html"] || tags["html"] == tags["v1html"] {
		t.Fatalf("one ETag for different representations (Vary: Accept): %v", tags)
	}
	upload("2.0")
	tags["json"] = jsonPage.changed(tags["json"], "acme_utils-2.0-py3-none-any.whl")
	tags["html"] = htmlPage.changed(tags["html"], "acme_utils-2.0-py3-none-any.whl")
	tags["virtual"] = virtPage.changed(tags["virtual"], "acme_utils-2.0-py3-none-any.whl")
	root.unchanged(tags["root"]) // the same names
	e.MustGraphQL(t, alice, `mutation { yankPypiRelease(input: {projectPath: "acme/py", name: "acme-utils", version: "2.0", reason: "broken"}) { errors } }`, nil)
	jsonPage.changed(tags["json"], `"yanked":"broken"`)
	htmlPage.changed(tags["html"], `data-yanked="broken"`)
	virtPage.changed(tags["virtual"], `data-yanked="broken"`)
}

func TestGoListsRevalidate(t *testing.T) {
	e, alice, _, id := newAcmeTools(t)
	ref := fmt.Sprint(id)
	const mod = "example.com/acme/greet"
	mustGoPublish(t, e, alice, ref, mod, "v1.0.0", greetModule(t, mod, "v1.0.0", "one"))
	list := rv(t, e, goPath(ref, mod, "@v/list"), tok(alice))
	latest := rv(t, e, goPath(ref, mod, "@latest"), tok(alice))
	info := rv(t, e, goPath(ref, mod, "@v/v1.0.0.info"), tok(alice))
	listTag, _ := list.fetch()
	latestTag, _ := latest.fetch()
	infoTag, _ := info.fetch()
	list.unchanged(listTag)
	latest.unchanged(latestTag)
	info.unchanged(infoTag)
	mustGoPublish(t, e, alice, ref, mod, "v1.1.0", greetModule(t, mod, "v1.1.0", "two"))
	list.changed(listTag, "v1.1.0")
	latest.changed(latestTag, `"v1.1.0"`)
	info.unchanged(infoTag) // a published version's info does not change
}
