package server_test

import (
	"strings"
	"testing"

	"github.com/pkgreg/registry/server/servertest"
)

func setUpstreams(t *testing.T, e *servertest.Env, token, project string, policies []map[string]any) *servertest.GQLResponse {
	t.Helper()
	return e.GraphQL(t, token, `mutation($p: ID!, $u: [UpstreamPolicyInput!]!) { updateVirtualRepositoryUpstreams(input: {projectPath: $p, upstreamPolicies: $u}) {
		virtualRepositoryConfig { upstreamPolicies { id priority repository { fullPath } } } errors } }`,
		map[string]any{"p": project, "u": policies})
}

func TestVirtualGenericResolution(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "team", "PRIVATE")
	e.CreateGroup(t, alice, "", "other", "PRIVATE")
	e.CreateProject(t, alice, "team", "a", "PRIVATE")
	e.CreateProject(t, alice, "other", "b", "PRIVATE")
	e.CreateVirtualProject(t, alice, "team", "all", "GENERIC")
	e.CreateVirtualProject(t, alice, "team", "pypi-all", "PYPI")
	g := gen{e, t}
	g.put(tok(alice), "team%2Fa", "tool/1.0/tool.bin", []byte("from a"))
	g.put(tok(alice), "other%2Fb", "tool/1.0/tool.bin", []byte("from b"))
	g.put(tok(alice), "other%2Fb", "only-b/1.0/x.bin", []byte("only b"))

	r := setUpstreams(t, e, alice, "team/all", []map[string]any{
		{"id": "b", "repositoryPath": "other/b", "priority": 10},
		{"id": "a", "repositoryPath": "team/a", "priority": 20},
	})
	if errs := payloadErrors(t, r, "updateVirtualRepositoryUpstreams"); len(errs) > 0 ||
		!strings.Contains(string(r.Data), `[{"id":"a","priority":20,"repository":{"fullPath":"team/a"}},{"id":"b","priority":10,"repository":{"fullPath":"other/b"}}]`) {
		t.Fatalf("set upstreams: %s %v", r.Data, errs)
	}
	read := func(token, rest string) (int, string, string) {
		status, body, h := g.get(tok(token), "team%2Fall", rest)
		return status, body, h.Get("X-Registry-Upstream")
	}
	if status, body, from := read(alice, "tool/1.0/tool.bin"); status != 200 || body != "from a" || from != "team/a" {
		t.Fatalf("higher priority: %d %q from %q", status, body, from)
	}
	if status, body, from := read(alice, "only-b/1.0/x.bin"); status != 200 || body != "only b" || from != "other/b" {
		t.Fatalf("fall through: %d %q from %q", status, body, from)
	}
	if status, _, _ := read(alice, "none/1.0/x.bin"); status != 404 {
		t.Fatalf("missing everywhere: %d", status)
	}
	// Equal priorities resolve by policy id; a publish shows at once.
	e.SetUpstreams(t, alice, "team/all",
		servertest.Upstream{ID: "z-a", Path: "team/a", Priority: 5},
		servertest.Upstream{ID: "m-b", Path: "other/b", Priority: 5})
	if _, body, from := read(alice, "tool/1.0/tool.bin"); body != "from b" || from != "other/b" {
		t.Fatalf("equal priority: %q from %q", body, from)
	}
	g.put(tok(alice), "team%2Fa", "fresh/1.0/f.bin", []byte("fresh"))
	if status, body, _ := read(alice, "fresh/1.0/f.bin"); status != 200 || body != "fresh" {
		t.Fatalf("new publish through virtual: %d %q", status, body)
	}
	// A reader of the virtual project needs nothing on the upstreams.
	rita := e.CreateUser(t, "rita")
	e.AddMember(t, alice, "team/all", "rita", "REPORTER")
	if status, body, _ := read(rita, "only-b/1.0/x.bin"); status != 200 || body != "only b" {
		t.Fatalf("reader of the virtual project: %d %q", status, body)
	}
	r = e.MustGraphQL(t, rita, `{ project(fullPath: "team/all") { virtualRepositoryConfig { upstreamPolicies { id repository { fullPath } } } } }`, nil)
	if strings.Contains(string(r.Data), "other/b") {
		t.Fatalf("config reveals an upstream rita may not see: %s", r.Data)
	}
	// Uploads through a virtual project are refused.
	if status, body := g.put(tok(alice), "team%2Fall", "x/1.0/x.bin", []byte("x")); status != 405 {
		t.Fatalf("upload to virtual: %d %s", status, body)
	}

	t.Run("bad upstream lists change nothing", func(t *testing.T) {
		e.CreateProject(t, alice, "team", "c", "PRIVATE")
		e.CreateRemoteProject(t, alice, "team", "pyremote", "PYPI", "http://127.0.0.1:1/simple")
		many := make([]map[string]any, 101)
		for i := range many {
			many[i] = map[string]any{"id": "p" + strings.Repeat("x", i%5) + string(rune('a'+i%26)), "repositoryPath": "team/a", "priority": 1}
		}
		for name, c := range map[string]struct {
			policies []map[string]any
			want     string
		}{
			"itself":       {[]map[string]any{{"id": "s", "repositoryPath": "team/all", "priority": 1}}, "own upstream"},
			"nested":       {[]map[string]any{{"id": "s", "repositoryPath": "team/pypi-all", "priority": 1}}, "cannot be nested"},
			"other format": {[]map[string]any{{"id": "s", "repositoryPath": "team/pyremote", "priority": 1}}, "serves pypi packages"},
			"duplicate upstream": {[]map[string]any{{"id": "s", "repositoryPath": "team/a", "priority": 1},
				{"id": "t", "repositoryPath": "team/a", "priority": 2}}, "listed twice"},
			"duplicate id": {[]map[string]any{{"id": "s", "repositoryPath": "team/a", "priority": 1},
				{"id": "s", "repositoryPath": "team/c", "priority": 2}}, `policy id "s" is listed twice`},
			"priority too high": {[]map[string]any{{"id": "s", "repositoryPath": "team/a", "priority": 1000001}}, "outside 0..1000000"},
			"negative":          {[]map[string]any{{"id": "s", "repositoryPath": "team/a", "priority": -1}}, "outside 0..1000000"},
			"bad id":            {[]map[string]any{{"id": "Bad Id", "repositoryPath": "team/a", "priority": 1}}, "policy id"},
			"too many":          {many, "at most 100"},
		} {
			t.Run(name, func(t *testing.T) {
				r := setUpstreams(t, e, alice, "team/all", c.policies)
				if errs := payloadErrors(t, r, "updateVirtualRepositoryUpstreams"); len(errs) != 1 || !strings.Contains(errs[0], c.want) {
					t.Fatalf("errors %v, want %q", errs, c.want)
				}
			})
		}
		r := e.MustGraphQL(t, alice, `{ project(fullPath: "team/all") { virtualRepositoryConfig { upstreamPolicies { id } } } }`, nil)
		if string(r.Data) != `{"project":{"virtualRepositoryConfig":{"upstreamPolicies":[{"id":"m-b"},{"id":"z-a"}]}}}` {
			t.Fatalf("rejected changes altered the list: %s", r.Data)
		}
	})
	t.Run("nobody exposes what they cannot read", func(t *testing.T) {
		bob := e.CreateUser(t, "bob")
		e.AddMember(t, alice, "team", "bob", "MAINTAINER")
		r := setUpstreams(t, e, bob, "team/all", []map[string]any{{"id": "b", "repositoryPath": "other/b", "priority": 1}})
		if r.Code() != "NOT_FOUND" {
			t.Fatalf("bob adding a project he cannot see: %+v", r.Errors)
		}
		r = setUpstreams(t, e, rita, "team/all", []map[string]any{{"id": "a", "repositoryPath": "team/a", "priority": 1}})
		// rita can see the project, so this is 403 (README: MAINTAINER on
		// the virtual project), not the 404 of someone who cannot see it.
		if r.Code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "needs the MAINTAINER role") {
			t.Fatalf("reporter changing upstreams: %+v", r.Errors)
		}
	})
}

func TestVirtualListingsMergeUpstreams(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "team", "PRIVATE")
	e.CreateProject(t, alice, "team", "a", "PRIVATE")
	e.CreateProject(t, alice, "team", "b", "PRIVATE")
	e.CreateVirtualProject(t, alice, "team", "all", "GENERIC")
	g := gen{e, t}
	g.put(tok(alice), "team%2Fa", "shared/1.0/x.bin", []byte("a"))
	g.put(tok(alice), "team%2Fb", "shared/1.0/x.bin", []byte("b"))
	g.put(tok(alice), "team%2Fb", "shared/2.0/x.bin", []byte("b2"))
	g.put(tok(alice), "team%2Fa", "only-a/1.0/x.bin", []byte("a"))
	g.put(tok(alice), "team%2Fb", "hidden-b/1.0/x.bin?status=hidden", []byte("h"))
	setUpstreams(t, e, alice, "team/all", []map[string]any{
		{"id": "a", "repositoryPath": "team/a", "priority": 2},
		{"id": "b", "repositoryPath": "team/b", "priority": 1},
	})
	r := e.MustGraphQL(t, alice, `{ project(fullPath: "team/all") { packages(sort: NAME_ASC) { count nodes { name version project { fullPath } } } } }`, nil)
	want := `{"project":{"packages":{"count":3,"nodes":[{"name":"only-a","version":"1.0","project":{"fullPath":"team/a"}},` +
		`{"name":"shared","version":"1.0","project":{"fullPath":"team/a"}},{"name":"shared","version":"2.0","project":{"fullPath":"team/b"}}]}}}`
	if string(r.Data) != want {
		t.Fatalf("merged listing:\n%s\nwant\n%s", r.Data, want)
	}
	// REST listing of the virtual project: the same merge.
	status, b, h := e.Do(t, "GET", "/api/v4/projects/team%2Fall/packages?order_by=name", nil, tok(alice))
	if status != 200 || h.Get("X-Total") != "3" || strings.Contains(string(b), "hidden-b") {
		t.Fatalf("REST merged listing: %d %s", status, b)
	}
	// A reader of the virtual project alone downloads every listed file
	// through it: downloadPath names the virtual project, not the upstream.
	carol := e.CreateUser(t, "carol")
	e.AddMember(t, alice, "team/all", "carol", "REPORTER")
	var out struct {
		Project struct {
			Packages struct {
				Nodes []struct {
					PackageFiles struct {
						Nodes []struct{ FileSha256, DownloadPath string }
					}
				}
			}
		}
	}
	e.MustGraphQL(t, carol, `{ project(fullPath: "team/all") { packages { nodes { packageFiles { nodes { fileSha256 downloadPath } } } } } }`, nil).Decode(t, &out)
	n := 0
	for _, p := range out.Project.Packages.Nodes {
		for _, f := range p.PackageFiles.Nodes {
			n++
			status, body, _ := e.Do(t, "GET", f.DownloadPath, nil, tok(carol))
			if status != 200 || sha(body) != f.FileSha256 {
				t.Errorf("GET %s as a reader of the virtual project: %d", f.DownloadPath, status)
			}
		}
	}
	if n != 3 {
		t.Fatalf("carol sees %d files", n)
	}
}
