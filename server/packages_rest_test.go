package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pkgreg/registry/server/servertest"
)

func TestPackagesRESTListing(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PUBLIC")
	e.CreateGroup(t, alice, "acme", "sub", "PUBLIC")
	pub := e.CreateProject(t, alice, "acme", "pub", "PUBLIC")
	e.CreateProject(t, alice, "acme", "priv", "PRIVATE")
	e.CreateProject(t, alice, "acme/sub", "deep", "PUBLIC")
	g := gen{e, t}
	for i := range 7 {
		g.put(tok(alice), "acme%2Fpub", fmt.Sprintf("lib-%d/1.%d.0/f.bin", i%3, i), []byte(fmt.Sprint(i)))
	}
	g.put(tok(alice), "acme%2Fpriv", "secret-lib/1.0/f.bin", []byte("s"))
	g.put(tok(alice), "acme%2Fsub%2Fdeep", "deep-lib/1.0/f.bin", []byte("d"))

	type pkgJSON struct {
		ID          int
		Name        string
		Version     string
		PackageType string `json:"package_type"`
		ProjectPath string `json:"project_path"`
		Links       struct {
			WebPath       string `json:"web_path"`
			DeleteAPIPath string `json:"delete_api_path"`
		} `json:"_links"`
	}
	list := func(token, path string) ([]pkgJSON, http.Header) {
		t.Helper()
		status, b, h := e.Do(t, "GET", path, nil, tok(token))
		var out []pkgJSON
		if status != 200 || json.Unmarshal(b, &out) != nil {
			t.Fatalf("%s: %d %s", path, status, b)
		}
		return out, h
	}
	base := fmt.Sprintf("/api/v4/projects/%d/packages", pub)
	all, h := list(alice, base+"?per_page=3&page=2")
	if h.Get("X-Total") != "7" || h.Get("X-Total-Pages") != "3" || h.Get("X-Per-Page") != "3" || h.Get("X-Page") != "2" ||
		h.Get("X-Next-Page") != "3" || h.Get("X-Prev-Page") != "1" || len(all) != 3 {
		t.Fatalf("pagination headers %v, %d items", h, len(all))
	}
	if l := h.Get("Link"); !strings.Contains(l, `page=3&per_page=3>; rel="next"`) || !strings.Contains(l, `rel="prev"`) || !strings.Contains(l, `rel="first"`) || !strings.Contains(l, `rel="last"`) {
		t.Fatalf("Link: %s", l)
	}
	p := all[0]
	if p.PackageType != "generic" || p.Links.WebPath != fmt.Sprintf("/acme/pub/-/packages/%d", p.ID) ||
		p.Links.DeleteAPIPath != fmt.Sprintf("%s/api/v4/projects/%d/packages/%d", e.URL, pub, p.ID) {
		t.Fatalf("package JSON: %+v", p)
	}
	names := func(ps []pkgJSON) string {
		var s []string
		for _, p := range ps {
			s = append(s, p.Name+"@"+p.Version)
		}
		return strings.Join(s, ",")
	}
	if got, _ := list(alice, base+"?package_name=LIB-1&order_by=version&sort=desc"); names(got) != "lib-1@1.4.0,lib-1@1.1.0" {
		t.Fatalf("name filter, version desc: %s", names(got))
	}
	if got, _ := list(alice, base+"?package_version=1.6.0"); names(got) != "lib-0@1.6.0" {
		t.Fatalf("version filter: %s", names(got))
	}
	if got, _ := list(alice, base+"?package_type=npm"); len(got) != 0 {
		t.Fatalf("npm filter: %s", names(got))
	}
	if got, _ := list(alice, base+"?package_type=conan"); len(got) != 0 {
		t.Fatalf("conan filter: %s", names(got))
	}
	for _, bad := range []string{"?package_type=tarball", "?order_by=size", "?sort=sideways", "?page=0", "?per_page=x", "?status=gone"} {
		status, b, _ := e.Do(t, "GET", base+bad, nil, tok(alice))
		if status != 400 || !strings.Contains(string(b), `"error"`) {
			t.Errorf("%s: %d %s", bad, status, b)
		}
	}
	// Group listings show only projects the caller may read.
	bob := e.CreateUser(t, "bob")
	got, _ := list(bob, "/api/v4/groups/acme/packages?per_page=100&order_by=name")
	if strings.Contains(names(got), "secret-lib") || !strings.Contains(names(got), "deep-lib") || len(got) != 8 {
		t.Fatalf("outsider's group listing: %s", names(got))
	}
	if got[0].ProjectPath == "" {
		t.Fatalf("group listing lacks project_path: %+v", got[0])
	}
	got, _ = list(alice, "/api/v4/groups/acme/packages?per_page=100&exclude_subgroups=true")
	if len(got) != 8 || strings.Contains(names(got), "deep-lib") {
		t.Fatalf("owner's listing without subgroups: %s", names(got))
	}
	got, _ = list("", "/api/v4/groups/acme/packages?per_page=100")
	if len(got) != 8 {
		t.Fatalf("anonymous group listing: %s", names(got))
	}
	// One package and its files.
	status, b, _ := e.Do(t, "GET", fmt.Sprintf("%s/%d", base, p.ID), nil, tok(bob))
	if status != 200 || !strings.Contains(string(b), fmt.Sprintf(`"id":%d`, p.ID)) {
		t.Fatalf("get package: %d %s", status, b)
	}
	status, b, _ = e.Do(t, "GET", fmt.Sprintf("%s/%d/package_files", base, p.ID), nil, tok(bob))
	if status != 200 || !strings.Contains(string(b), `"file_name":"f.bin"`) || !strings.Contains(string(b), `"file_sha256"`) {
		t.Fatalf("package files: %d %s", status, b)
	}
	status, _, _ = e.Do(t, "GET", fmt.Sprintf("%s/%d", base, 99999), nil, tok(bob))
	if status != 404 {
		t.Fatalf("missing package: %d", status)
	}
	status, _, _ = e.Do(t, "DELETE", fmt.Sprintf("%s/%d", base, p.ID), nil, tok(bob))
	if status != 403 {
		t.Fatalf("outsider deleting from a public project: %d", status)
	}
}
