package server_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pkgreg/registry/server/servertest"
)

// gitlabWorld is a small instance seen through GitLab's project and group
// endpoints: alice owns the private group acme (tools, and the subgroup
// sub with deep) and the public group open (site public, intra internal,
// secret private) and a personal project; carol is a REPORTER on
// acme/tools only; bob has no memberships.
type gitlabWorld struct {
	e                  *servertest.Env
	alice, bob, carol  string
	tools, deep, site  int
	intra, secret, own int
}

func newGitLabWorld(t *testing.T) *gitlabWorld {
	t.Helper()
	e := servertest.New(t)
	w := &gitlabWorld{e: e, alice: e.CreateUser(t, "alice"), bob: e.CreateUser(t, "bob"), carol: e.CreateUser(t, "carol")}
	e.CreateGroup(t, w.alice, "", "acme", "PRIVATE")
	e.CreateGroup(t, w.alice, "acme", "sub", "PRIVATE")
	e.CreateGroup(t, w.alice, "", "open", "PUBLIC")
	w.tools = e.CreateProject(t, w.alice, "acme", "tools", "PRIVATE")
	w.deep = e.CreateProject(t, w.alice, "acme/sub", "deep", "PRIVATE")
	w.site = e.CreateProject(t, w.alice, "open", "site", "PUBLIC")
	w.intra = e.CreateProject(t, w.alice, "open", "intra", "INTERNAL")
	w.secret = e.CreateProject(t, w.alice, "open", "secret", "PRIVATE")
	w.own = e.CreateProject(t, w.alice, "alice", "mine", "PRIVATE")
	e.AddMember(t, w.alice, "acme/tools", "carol", "REPORTER")
	return w
}

// get sends GET path with token ("" anonymous) and decodes the JSON body.
func (w *gitlabWorld) get(t *testing.T, token, path string, v any) (int, string, map[string][]string) {
	t.Helper()
	status, body, h := w.e.Do(t, "GET", path, nil, tok(token))
	if v != nil && status == 200 {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, body)
		}
	}
	return status, string(body), h
}

// listPaths lists projects at path and returns their path_with_namespace.
func (w *gitlabWorld) listPaths(t *testing.T, token, path string) []string {
	t.Helper()
	var rows []map[string]any
	if status, body, _ := w.get(t, token, path, &rows); status != 200 {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	out := []string{}
	for _, r := range rows {
		p, _ := r["path_with_namespace"].(string)
		if p == "" {
			p, _ = r["full_path"].(string)
		}
		out = append(out, p)
	}
	return out
}

func TestGitLabProjectGet(t *testing.T) {
	w := newGitLabWorld(t)
	for _, ref := range []string{"acme%2Ftools", fmt.Sprint(w.tools)} {
		var p map[string]any
		status, body, _ := w.get(t, w.alice, "/api/v4/projects/"+ref, &p)
		if status != 200 {
			t.Fatalf("GET project %s: %d %s", ref, status, body)
		}
		want := map[string]any{
			"id": float64(w.tools), "name": "tools", "path": "tools", "path_with_namespace": "acme/tools",
			"name_with_namespace": "acme / tools", "description": "", "visibility": "private",
			"web_url": w.e.URL + "/acme/tools", "packages_enabled": true, "default_branch": nil,
			"archived": false, "empty_repo": true,
		}
		for k, v := range want {
			if got, ok := p[k]; !ok || got != v {
				t.Errorf("GET project %s: %s = %#v, want %#v", ref, k, got, v)
			}
		}
		for _, k := range []string{"created_at", "last_activity_at"} {
			if s, _ := p[k].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT`).MatchString(s) {
				t.Errorf("%s = %#v, want a timestamp", k, p[k])
			}
		}
		ns, _ := p["namespace"].(map[string]any)
		if ns["kind"] != "group" || ns["full_path"] != "acme" || ns["path"] != "acme" || ns["parent_id"] != nil ||
			ns["web_url"] != w.e.URL+"/groups/acme" || ns["id"] == nil {
			t.Errorf("namespace = %#v", ns)
		}
		links, _ := p["_links"].(map[string]any)
		if links["self"] != fmt.Sprintf("%s/api/v4/projects/%d", w.e.URL, w.tools) {
			t.Errorf("_links = %#v", links)
		}
	}

	var own map[string]any
	w.get(t, w.alice, "/api/v4/projects/alice%2Fmine", &own)
	if ns, _ := own["namespace"].(map[string]any); ns["kind"] != "user" || ns["web_url"] != w.e.URL+"/alice" {
		t.Errorf("personal project namespace = %#v", own["namespace"])
	}
	var deep map[string]any
	w.get(t, w.alice, "/api/v4/projects/acme%2Fsub%2Fdeep", &deep)
	if deep["name_with_namespace"] != "acme / sub / deep" || deep["namespace"].(map[string]any)["parent_id"] == nil {
		t.Errorf("subgroup project = %v %v", deep["name_with_namespace"], deep["namespace"])
	}

	// Invisible is indistinguishable from missing, for everyone.
	for _, c := range []struct{ who, token, ref string }{
		{"bob", w.bob, "acme%2Ftools"}, {"bob", w.bob, fmt.Sprint(w.tools)}, {"anonymous", "", "acme%2Ftools"},
		{"anonymous", "", "open%2Fintra"}, {"bob", w.bob, "open%2Fsecret"}, {"alice", w.alice, "acme%2Fnope"},
		{"alice", w.alice, "999999"},
	} {
		status, body, _ := w.get(t, c.token, "/api/v4/projects/"+c.ref, nil)
		if status != 404 || !strings.Contains(body, `"404 Project Not Found"`) {
			t.Errorf("%s GET %s: %d %s, want 404", c.who, c.ref, status, body)
		}
	}
	if status, _, _ := w.get(t, "", "/api/v4/projects/open%2Fsite", nil); status != 200 {
		t.Errorf("anonymous GET public project: %d", status)
	}
	if status, _, _ := w.get(t, w.bob, "/api/v4/projects/open%2Fintra", nil); status != 200 {
		t.Errorf("bob GET internal project: %d", status)
	}
	if status, _, _ := w.get(t, w.carol, "/api/v4/projects/acme%2Ftools", nil); status != 200 {
		t.Errorf("carol (REPORTER) GET project: %d", status)
	}
	if status, body, _ := w.get(t, "glpat-not-a-token", "/api/v4/projects/open%2Fsite", nil); status != 401 {
		t.Errorf("bad token: %d %s, want 401", status, body)
	}
}

func TestGitLabProjectList(t *testing.T) {
	w := newGitLabWorld(t)
	const all = "/api/v4/projects?order_by=path&sort=asc&per_page=100"
	for _, c := range []struct {
		who, token, query string
		want              []string
	}{
		{"alice", w.alice, "", []string{"acme/sub/deep", "open/intra", "alice/mine", "open/secret", "open/site", "acme/tools"}},
		{"carol", w.carol, "", []string{"open/intra", "open/site", "acme/tools"}},
		{"bob", w.bob, "", []string{"open/intra", "open/site"}},
		{"anonymous", "", "", []string{"open/site"}},
		{"alice search", w.alice, "&search=TOO", []string{"acme/tools"}},
		{"bob search", w.bob, "&search=too", []string{}},
		{"carol membership", w.carol, "&membership=true", []string{"acme/tools"}},
		{"alice owned", w.alice, "&owned=true", []string{"alice/mine"}},
		{"bob owned", w.bob, "&owned=true", []string{}},
		{"alice internal", w.alice, "&visibility=internal", []string{"open/intra"}},
		{"root", servertest.RootToken, "&search=e", []string{"acme/sub/deep", "alice/mine", "open/secret", "open/site"}},
	} {
		if got := w.listPaths(t, c.token, all+c.query); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.who, got, c.want)
		}
	}
	if got := w.listPaths(t, w.alice, "/api/v4/projects?order_by=id&sort=desc&simple=true&per_page=3"); !slices.Equal(got, []string{"alice/mine", "open/secret", "open/intra"}) {
		t.Errorf("order_by=id desc: %v", got)
	}
	var simple []map[string]any
	w.get(t, w.alice, "/api/v4/projects?simple=true&per_page=1", &simple)
	if len(simple) != 1 || simple[0]["packages_enabled"] != nil || simple[0]["path_with_namespace"] == nil {
		t.Errorf("simple=true: %v", simple)
	}

	// Offset pagination, GitLab's headers.
	status, body, h := w.get(t, w.alice, "/api/v4/projects?order_by=id&sort=asc&per_page=4&page=1", nil)
	if status != 200 || h["X-Total"][0] != "6" || h["X-Total-Pages"][0] != "2" || h["X-Next-Page"][0] != "2" ||
		h["X-Page"][0] != "1" || h["X-Per-Page"][0] != "4" || !strings.Contains(h["Link"][0], `rel="next"`) {
		t.Fatalf("page 1: %d %s %v", status, body, h)
	}
	if got := w.listPaths(t, w.alice, "/api/v4/projects?order_by=id&sort=asc&per_page=4&page=2"); !slices.Equal(got, []string{"open/secret", "alice/mine"}) {
		t.Errorf("page 2: %v", got)
	}

	// Keyset pagination: follow rel="next" until it stops, both ways.
	ids := []string{"acme/tools", "acme/sub/deep", "open/site", "open/intra", "open/secret", "alice/mine"}
	if seen := w.followKeyset(t, "/api/v4/projects?pagination=keyset&order_by=id&sort=asc&per_page=2"); !slices.Equal(seen, ids) {
		t.Errorf("keyset pages: %v, want %v", seen, ids)
	}
	slices.Reverse(ids)
	if seen := w.followKeyset(t, "/api/v4/projects?pagination=keyset&order_by=id&sort=desc&per_page=4"); !slices.Equal(seen, ids) {
		t.Errorf("keyset pages, descending: %v, want %v", seen, ids)
	}
	if got := w.listPaths(t, w.alice, fmt.Sprintf("/api/v4/projects?order_by=id&sort=asc&id_after=%d&id_before=%d", w.tools, w.intra)); !slices.Equal(got, []string{"acme/sub/deep", "open/site"}) {
		t.Errorf("id_after/id_before: %v", got)
	}

	for _, q := range []string{"order_by=stars", "sort=up", "visibility=secret", "per_page=0", "pagination=keyset&order_by=name", "membership=maybe", "id_after=x"} {
		if status, body, _ := w.get(t, w.alice, "/api/v4/projects?"+q, nil); status != 400 {
			t.Errorf("?%s: %d %s, want 400", q, status, body)
		}
	}
}

// followKeyset follows rel="next" links from path and returns the
// projects of every page.
func (w *gitlabWorld) followKeyset(t *testing.T, next string) []string {
	t.Helper()
	var seen []string
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("keyset pagination does not end")
		}
		var rows []map[string]any
		status, body, h := w.get(t, w.alice, next, &rows)
		if status != 200 {
			t.Fatalf("keyset %s: %d %s", next, status, body)
		}
		for _, r := range rows {
			seen = append(seen, r["path_with_namespace"].(string))
		}
		next = ""
		if m := regexp.MustCompile(`<([^>]+)>; rel="next"`).FindStringSubmatch(strings.Join(h["Link"], ",")); m != nil {
			if !strings.HasPrefix(m[1], w.e.URL+"/api/v4/projects?") {
				t.Fatalf("next link %q is not absolute", m[1])
			}
			next = strings.TrimPrefix(m[1], w.e.URL)
		}
	}
	return seen
}

func TestGitLabGroups(t *testing.T) {
	w := newGitLabWorld(t)
	var g map[string]any
	if status, body, _ := w.get(t, w.alice, "/api/v4/groups/acme%2Fsub", &g); status != 200 {
		t.Fatalf("GET group: %d %s", status, body)
	}
	if g["full_path"] != "acme/sub" || g["path"] != "sub" || g["full_name"] != "acme / sub" || g["visibility"] != "private" ||
		g["web_url"] != w.e.URL+"/groups/acme/sub" || g["parent_id"] == nil {
		t.Errorf("group = %v", g)
	}
	var byID map[string]any
	w.get(t, w.alice, fmt.Sprintf("/api/v4/groups/%v", g["id"]), &byID)
	if byID["full_path"] != "acme/sub" {
		t.Errorf("group by id = %v", byID)
	}
	for _, c := range []struct{ who, token, ref string }{
		{"bob", w.bob, "acme"}, {"anonymous", "", "acme"}, {"carol", w.carol, "acme"}, {"alice", w.alice, "alice"}, {"alice", w.alice, "nope"},
	} {
		if status, body, _ := w.get(t, c.token, "/api/v4/groups/"+c.ref, nil); status != 404 || !strings.Contains(body, "404 Group Not Found") {
			t.Errorf("%s GET group %s: %d %s, want 404", c.who, c.ref, status, body)
		}
	}
	if status, _, _ := w.get(t, "", "/api/v4/groups/open", nil); status != 200 {
		t.Errorf("anonymous GET public group: %d", status)
	}

	for _, c := range []struct {
		who, token, query string
		want              []string
	}{
		{"alice", w.alice, "", []string{"acme", "open", "acme/sub"}},
		{"bob (member of none)", w.bob, "", []string{}},
		{"bob all_available", w.bob, "?all_available=true", []string{"open"}},
		{"anonymous", "", "", []string{"open"}},
		{"alice search", w.alice, "?search=su", []string{"acme/sub"}},
		{"alice top level", w.alice, "?top_level_only=true", []string{"acme", "open"}},
		{"alice owned", w.alice, "?owned=true&order_by=path&sort=desc", []string{"acme/sub", "open", "acme"}},
	} {
		if got := w.listPaths(t, c.token, "/api/v4/groups"+c.query); !slices.Equal(got, c.want) {
			t.Errorf("groups %s: %v, want %v", c.who, got, c.want)
		}
	}
	_, _, h := w.get(t, w.alice, "/api/v4/groups?per_page=2", nil)
	if h["X-Total"][0] != "3" || h["X-Total-Pages"][0] != "2" {
		t.Errorf("group pagination headers: %v", h)
	}

	for _, c := range []struct {
		who, token, path string
		want             []string
	}{
		{"alice", w.alice, "acme/projects", []string{"acme/tools"}},
		{"alice subgroups", w.alice, "acme/projects?include_subgroups=true", []string{"acme/sub/deep", "acme/tools"}},
		{"bob", w.bob, "open/projects", []string{"open/intra", "open/site"}},
		{"anonymous", "", "open/projects", []string{"open/site"}},
		{"alice search", w.alice, "open/projects?search=sec", []string{"open/secret"}},
	} {
		sep := "?"
		if strings.Contains(c.path, "?") {
			sep = "&"
		}
		if got := w.listPaths(t, c.token, "/api/v4/groups/"+c.path+sep+"order_by=path&sort=asc"); !slices.Equal(got, c.want) {
			t.Errorf("group projects %s: %v, want %v", c.who, got, c.want)
		}
	}
	if status, _, _ := w.get(t, w.bob, "/api/v4/groups/acme/projects", nil); status != 404 {
		t.Errorf("bob lists projects of a private group: %d, want 404", status)
	}
}

func TestGitLabProjectPackagesEnabled(t *testing.T) {
	w := newGitLabWorld(t)
	const js = "application/json"
	put := func(token, ctype, body string) (int, string) {
		h := tok(token)
		if h == nil {
			h = map[string]string{}
		}
		h["Content-Type"] = ctype
		ref := "acme%2Ftools"
		if ctype == js {
			ref = fmt.Sprint(w.tools) // the numeric id works the same
		}
		status, b, _ := w.e.Do(t, "PUT", "/api/v4/projects/"+ref, strings.NewReader(body), h)
		return status, string(b)
	}
	enabled := func() bool {
		var p map[string]any
		w.get(t, w.alice, "/api/v4/projects/acme%2Ftools", &p)
		return p["packages_enabled"] == true
	}
	for _, c := range []struct {
		who, token, ctype, body string
		status                  int
	}{
		{"anonymous", "", js, `{"packages_enabled":false}`, 401},
		{"bob", w.bob, js, `{"packages_enabled":false}`, 404},
		{"carol (REPORTER)", w.carol, js, `{"packages_enabled":false}`, 403},
		{"a field this registry does not keep", w.alice, js, `{"packages_enabled":false,"visibility":"public"}`, 400},
		{"not a boolean", w.alice, js, `{"packages_enabled":"maybe"}`, 400},
		{"nothing to change", w.alice, js, `{}`, 400},
		{"not JSON", w.alice, js, `packages_enabled=false`, 400},
	} {
		if status, body := put(c.token, c.ctype, c.body); status != c.status {
			t.Errorf("%s: %d %s, want %d", c.who, status, body, c.status)
		}
		if !enabled() {
			t.Fatalf("%s disabled the package registry", c.who)
		}
	}

	status, body := put(w.alice, js, `{"packages_enabled":false}`)
	if status != 200 || !strings.Contains(body, `"packages_enabled":false`) || enabled() {
		t.Fatalf("alice disables packages: %d %s", status, body)
	}
	for _, path := range []string{"/api/v4/projects/acme%2Ftools/packages", fmt.Sprintf("/api/v4/projects/%d/packages/generic/x/1.0/x.txt", w.tools)} {
		status, body, _ := w.get(t, w.alice, path, nil)
		if status != 403 || !strings.Contains(body, "package registry is disabled") {
			t.Errorf("GET %s with packages disabled: %d %s, want 403", path, status, body)
		}
	}
	g := gen{w.e, t}
	if status, body := g.put(tok(w.alice), "acme%2Ftools", "x/1.0/x.txt", []byte("x")); status != 403 {
		t.Errorf("upload with packages disabled: %d %s", status, body)
	}

	status, body = put(w.alice, "application/x-www-form-urlencoded", url.Values{"packages_enabled": {"true"}, "description": {"CLI tools"}}.Encode())
	if status != 200 || !strings.Contains(body, `"description":"CLI tools"`) || !enabled() {
		t.Fatalf("alice re-enables packages with a form: %d %s", status, body)
	}
	if status, body, _ := w.get(t, w.alice, "/api/v4/projects/acme%2Ftools/packages", nil); status != 200 {
		t.Errorf("listing after re-enabling: %d %s", status, body)
	}
}

// TestGitLabPythonClient drives python-gitlab (Debian's python3-gitlab), a
// client nobody here wrote, through the calls scripts start with.
func TestGitLabPythonClient(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import gitlab").Run(); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("python3-gitlab is not installed (apt-get install python3-gitlab)")
		}
		t.Fatalf("python3-gitlab is required in CI: %v", err)
	}
	w := newGitLabWorld(t)
	script := filepath.Join(t.TempDir(), "gl.py")
	if err := os.WriteFile(script, []byte(`import sys, gitlab
gl = gitlab.Gitlab(sys.argv[1], private_token=sys.argv[2])
gl.auth()
print("user", gl.user.username)
p = gl.projects.get("acme/tools")
print("project", p.id, p.path_with_namespace, p.namespace["kind"], p.packages_enabled)
print("search", sorted(x.path_with_namespace for x in gl.projects.list(search="i", get_all=True)))
print("keyset", [x.path for x in gl.projects.list(pagination="keyset", order_by="id", sort="asc", per_page=2, get_all=True)])
g = gl.groups.get("acme")
print("group", g.full_path, sorted(x.path for x in g.projects.list(include_subgroups=True, get_all=True)))
# Generic packages and the packages API, objects fetched in full (no lazy=True).
data = b"hello from python-gitlab\n" * 100
with open(sys.argv[3], "wb") as f:
    f.write(data)
p.generic_packages.upload(package_name="tool", package_version="1.0.0", file_name="tool.txt", path=sys.argv[3])
print("download", p.generic_packages.download(package_name="tool", package_version="1.0.0", file_name="tool.txt") == data)
pkgs = p.packages.list(get_all=True)
print("packages", [(x.name, x.version, x.package_type) for x in pkgs])
pkg = p.packages.get(pkgs[0].id)
print("files", [(x.file_name, x.size) for x in pkg.package_files.list(get_all=True)])
print("group packages", [x.name for x in g.packages.list(get_all=True)])
pkg.delete()
print("after delete", len(p.packages.list(get_all=True)))
p.packages_enabled = False
p.save()
print("disabled", gl.projects.get(p.id).packages_enabled)
try:
    gl.projects.get("acme/nope")
except gitlab.exceptions.GitlabGetError as e:
    print("missing", e.response_code)
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/usr/bin/python3", script, w.e.URL, w.alice, filepath.Join(t.TempDir(), "tool.txt")).CombinedOutput()
	if err != nil {
		t.Fatalf("python-gitlab: %v\n%s", err, out)
	}
	want := fmt.Sprintf(`user alice
project %d acme/tools group True
search ['alice/mine', 'open/intra', 'open/site']
keyset ['tools', 'deep', 'site', 'intra', 'secret', 'mine']
group acme ['deep', 'tools']
download True
packages [('tool', '1.0.0', 'generic')]
files [('tool.txt', 2500)]
group packages ['tool']
after delete 0
disabled False
missing 404
`, w.tools)
	if string(out) != want {
		t.Errorf("python-gitlab printed:\n%s\nwant:\n%s", out, want)
	}
}

// TestGitLabListingsAgreeWithProjectAccess checks that the listings' SQL
// filters and the one-object access check give the same answer for every
// kind of credential: a listed project or group is one GET /:id shows, and
// the other way round.
func TestGitLabListingsAgreeWithProjectAccess(t *testing.T) {
	w := newGitLabWorld(t)
	e := w.e
	token := func(q, field string) string {
		var out map[string]struct{ Token string }
		e.MustGraphQL(t, w.alice, q, nil).Decode(t, &out)
		if out[field].Token == "" {
			t.Fatalf("%s gave no token", field)
		}
		return out[field].Token
	}
	projectTok := token(`mutation { createProjectAccessToken(input: {projectPath: "acme/tools", name: "p", scopes: [API], accessLevel: GUEST}) { token errors } }`, "createProjectAccessToken")
	groupTok := token(`mutation { createGroupAccessToken(input: {groupPath: "acme/sub", name: "g", scopes: [API], accessLevel: REPORTER}) { token errors } }`, "createGroupAccessToken")
	deployTok := token(`mutation { createDeployToken(input: {fullPath: "acme", name: "d", scopes: [READ_PACKAGE_REGISTRY]}) { token errors } }`, "createDeployToken")
	var job struct{ CreateJobToken struct{ Token string } }
	e.MustGraphQL(t, w.alice, `mutation { createJobToken(input: {projectPath: "open/secret"}) { token errors } }`, nil).Decode(t, &job)

	packagesOnly := token(`mutation { createPersonalAccessToken(input: {username: "alice", name: "pkg", scopes: [READ_PACKAGE_REGISTRY]}) { token errors } }`, "createPersonalAccessToken")

	projects := []string{"acme/tools", "acme/sub/deep", "open/site", "open/intra", "open/secret", "alice/mine"}
	groups := []string{"acme", "acme/sub", "open"}
	// Credentials the REST API outside package routes does not take: deploy
	// and job tokens (package-registry credentials only) get 401, a
	// personal token without api/read_api 403, on every project and group
	// read, listing or single, whatever they could see.
	for _, c := range []struct {
		who     string
		headers map[string]string
		status  int
	}{
		{"deploy token", map[string]string{"Deploy-Token": deployTok}, 401},
		{"job token", map[string]string{"JOB-TOKEN": job.CreateJobToken.Token}, 401},
		{"read_package_registry only", tok(packagesOnly), 403},
	} {
		for _, path := range []string{"/api/v4/projects", "/api/v4/projects/" + url.PathEscape("acme/sub/deep"), "/api/v4/projects/" + url.PathEscape("open/site"),
			"/api/v4/groups", "/api/v4/groups/acme", "/api/v4/groups/acme/projects"} {
			if status, body, _ := e.Do(t, "GET", path, nil, c.headers); status != c.status {
				t.Errorf("%s GET %s: %d %s, want %d", c.who, path, status, body, c.status)
			}
		}
	}
	for _, c := range []struct {
		who     string
		headers map[string]string
		sees    string // a private project this credential must see
	}{
		{"alice", tok(w.alice), "alice/mine"}, {"bob", tok(w.bob), ""}, {"carol", tok(w.carol), "acme/tools"}, {"anonymous", nil, ""},
		{"root", tok(servertest.RootToken), "alice/mine"}, {"project token", tok(projectTok), "acme/tools"},
		{"group token", tok(groupTok), "acme/sub/deep"},
	} {
		list := func(path, key string) []string {
			status, body, _ := e.Do(t, "GET", path, nil, c.headers)
			var rows []map[string]any
			if status != 200 || json.Unmarshal(body, &rows) != nil {
				t.Fatalf("%s GET %s: %d %s", c.who, path, status, body)
			}
			out := []string{}
			for _, r := range rows {
				out = append(out, r[key].(string))
			}
			slices.Sort(out)
			return out
		}
		visible := func(kind string, paths []string) []string {
			out := []string{}
			for _, p := range paths {
				if status, _, _ := e.Do(t, "GET", "/api/v4/"+kind+"/"+url.PathEscape(p), nil, c.headers); status == 200 {
					out = append(out, p)
				}
			}
			slices.Sort(out)
			return out
		}
		l, v := list("/api/v4/projects?per_page=100", "path_with_namespace"), visible("projects", projects)
		if !slices.Equal(l, v) {
			t.Errorf("%s: GET /projects lists %v, GET /projects/:id shows %v", c.who, l, v)
		}
		if c.sees != "" && !slices.Contains(l, c.sees) {
			t.Errorf("%s does not see %s: %v", c.who, c.sees, l)
		}
		if l, v := list("/api/v4/groups?all_available=true&per_page=100", "full_path"), visible("groups", groups); !slices.Equal(l, v) {
			t.Errorf("%s: GET /groups lists %v, GET /groups/:id shows %v", c.who, l, v)
		}
	}
}

// TestGitLabListingQueries checks that project and group listings cost the
// same number of statements for 2 projects as for 12 (no query per row).
func TestGitLabListingQueries(t *testing.T) {
	w := newGitLabWorld(t)
	paths := []string{"/api/v4/projects?per_page=100", "/api/v4/groups/acme/projects?include_subgroups=true&per_page=100", "/api/v4/groups?per_page=100"}
	queries := func() []int64 {
		var out []int64
		for _, p := range paths {
			w.e.Queries.Store(0)
			if status, body, _ := w.get(t, w.alice, p, nil); status != 200 {
				t.Fatalf("GET %s: %d %s", p, status, body)
			}
			out = append(out, w.e.Queries.Load())
		}
		return out
	}
	small := queries()
	for i := range 10 {
		w.e.CreateProject(t, w.alice, []string{"acme", "acme/sub"}[i%2], fmt.Sprintf("p%d", i), "PRIVATE")
	}
	if large := queries(); !slices.Equal(small, large) {
		t.Errorf("statements for %v: %v before adding 10 projects, %v after", paths, small, large)
	}
}

// TestGitLabProjectLinksExternalURL checks that with REGISTRY_EXTERNAL_URL
// set, project and group URLs name it rather than the address the request
// came to (a registry behind a proxy).
func TestGitLabProjectLinksExternalURL(t *testing.T) {
	cfg := servertest.NewConfig(t)
	cfg.ExternalURL = "https://registry.example.com"
	e := servertest.NewWithConfig(t, cfg)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	id := e.CreateProject(t, alice, "acme", "tools", "PRIVATE")
	status, body, h := e.Do(t, "GET", "/api/v4/projects/acme%2Ftools", nil, tok(alice))
	var p map[string]any
	if status != 200 || json.Unmarshal(body, &p) != nil {
		t.Fatalf("GET project: %d %s", status, body)
	}
	if p["web_url"] != "https://registry.example.com/acme/tools" ||
		p["_links"].(map[string]any)["self"] != fmt.Sprintf("https://registry.example.com/api/v4/projects/%d", id) ||
		p["namespace"].(map[string]any)["web_url"] != "https://registry.example.com/groups/acme" {
		t.Errorf("project URLs: %s %v", body, h)
	}
	e.CreateProject(t, alice, "acme", "more", "PRIVATE")
	_, _, h = e.Do(t, "GET", "/api/v4/projects?pagination=keyset&order_by=id&per_page=1", nil, tok(alice))
	if link := h.Get("Link"); !strings.HasPrefix(link, "<https://registry.example.com/api/v4/projects?") {
		t.Errorf("keyset Link = %q", link)
	}
}
