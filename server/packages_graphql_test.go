package server_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/pkgreg/registry/server/servertest"
)

func TestGraphQLPackageListingsAndDestroy(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	e.CreateGroup(t, alice, "acme", "sub", "PRIVATE")
	e.CreateProject(t, alice, "acme", "tools", "PRIVATE")
	e.CreateProject(t, alice, "acme/sub", "libs", "PRIVATE")
	g := gen{e, t}
	for _, n := range []string{"delta", "alpha", "charlie", "bravo"} {
		for _, f := range []string{"a.bin", "b.bin"} {
			if status, resp := g.put(tok(alice), "acme%2Ftools", n+"/1.0/"+f, []byte(n+f)); status != 201 {
				t.Fatalf("%d %s", status, resp)
			}
		}
	}
	g.put(tok(alice), "acme%2Fsub%2Flibs", "echo/2.0/e.bin", []byte("echo"))

	type pkgNode struct {
		ID, Name, Version, PackageType, Status string
		Project                                struct{ FullPath string }
		PackageFiles                           struct {
			Nodes []struct {
				ID, FileName, Size, FileSha256, DownloadPath string
				FileMd5                                      *string
			}
		}
	}
	type conn struct {
		Count    int
		Nodes    []pkgNode
		PageInfo struct {
			HasNextPage bool
			EndCursor   string
		}
	}
	list := func(sort string, first int, after string) conn {
		var out struct{ Project struct{ Packages conn } }
		vars := map[string]any{"s": sort, "f": first}
		if after != "" {
			vars["a"] = after
		}
		e.MustGraphQL(t, alice, `query($s: PackageSort, $f: Int, $a: String) { project(fullPath: "acme/tools") {
			packages(sort: $s, first: $f, after: $a) { count nodes { id name version packageType status project { fullPath }
			packageFiles { nodes { id fileName size fileSha256 fileMd5 downloadPath } } } pageInfo { hasNextPage endCursor } } } }`, vars).Decode(t, &out)
		return out.Project.Packages
	}
	t.Run("sorted keyset pages", func(t *testing.T) {
		var names []string
		after := ""
		for {
			c := list("NAME_ASC", 3, after)
			if c.Count != 4 {
				t.Fatalf("count %d", c.Count)
			}
			for _, n := range c.Nodes {
				names = append(names, n.Name)
			}
			if !c.PageInfo.HasNextPage {
				break
			}
			after = c.PageInfo.EndCursor
		}
		if strings.Join(names, ",") != "alpha,bravo,charlie,delta" {
			t.Fatalf("NAME_ASC pages: %v", names)
		}
		c := list("CREATED_DESC", 10, "")
		first := c.Nodes[0]
		if first.Name != "bravo" || !strings.HasPrefix(first.ID, "gid://registry/Packages::Package/") || first.PackageType != "GENERIC" ||
			first.Status != "DEFAULT" || first.Project.FullPath != "acme/tools" || len(first.PackageFiles.Nodes) != 2 {
			t.Fatalf("CREATED_DESC first: %+v", first)
		}
		f := first.PackageFiles.Nodes[0]
		if f.FileName != "a.bin" || f.Size != "10" || f.FileSha256 != sha([]byte("bravoa.bin")) || f.FileMd5 != nil ||
			!strings.HasSuffix(f.DownloadPath, "/packages/generic/bravo/1.0/a.bin") {
			t.Fatalf("file: %+v", f)
		}
		// The download path works.
		status, body, _ := e.Do(t, "GET", f.DownloadPath, nil, tok(alice))
		if status != 200 || string(body) != "bravoa.bin" {
			t.Fatalf("downloadPath: %d %q", status, body)
		}
	})
	t.Run("listings cost a constant number of queries", func(t *testing.T) {
		q := `{ project(fullPath: "acme/tools") { packages(first: 50) { count nodes { name project { fullPath } packageFiles(first: 5) { nodes { fileName downloadPath } } } } } }`
		e.Queries.Store(0)
		e.MustGraphQL(t, alice, q, nil)
		small := e.Queries.Load()
		for i := range 12 {
			g.put(tok(alice), "acme%2Ftools", fmt.Sprintf("more%d/1.0/x.bin", i), []byte{byte(i)})
		}
		e.Queries.Store(0)
		r := e.MustGraphQL(t, alice, q, nil)
		large := e.Queries.Load()
		if !strings.Contains(string(r.Data), "more11") || large != small {
			t.Fatalf("4 packages took %d queries, 16 took %d", small, large)
		}
	})
	t.Run("group listing includes subgroups unless told not to", func(t *testing.T) {
		r := e.MustGraphQL(t, alice, `{ group(fullPath: "acme") { all: packages(first: 100) { count } top: packages(includeSubgroups: false) { count } } }`, nil)
		if string(r.Data) != `{"group":{"all":{"count":17},"top":{"count":16}}}` {
			t.Fatalf("group counts: %s", r.Data)
		}
	})
	t.Run("package by id, and outsiders see nothing", func(t *testing.T) {
		c := list("NAME_ASC", 1, "")
		id := c.Nodes[0].ID
		r := e.MustGraphQL(t, alice, `query($id: ID!) { package(id: $id) { name packageFiles(first: 1) { nodes { fileName } pageInfo { hasNextPage } } } }`, map[string]any{"id": id})
		if string(r.Data) != `{"package":{"name":"alpha","packageFiles":{"nodes":[{"fileName":"a.bin"}],"pageInfo":{"hasNextPage":true}}}}` {
			t.Fatalf("package(id): %s", r.Data)
		}
		bob := e.CreateUser(t, "bob")
		r = e.MustGraphQL(t, bob, `query($id: ID!) { package(id: $id) { name } project(fullPath: "acme/tools") { id } }`, map[string]any{"id": id})
		if string(r.Data) != `{"package":null,"project":null}` {
			t.Fatalf("outsider: %s", r.Data)
		}
	})
	t.Run("destroy mutations", func(t *testing.T) {
		c := list("NAME_ASC", 4, "")
		dev := e.CreateUser(t, "dev")
		e.AddMember(t, alice, "acme", "dev", "DEVELOPER")
		r := e.GraphQL(t, dev, `mutation($id: ID!) { destroyPackage(input: {id: $id}) { errors } }`, map[string]any{"id": c.Nodes[0].ID})
		if r.Code() != "FORBIDDEN" {
			t.Fatalf("developer destroying: %+v", r.Errors)
		}
		e.MustGraphQL(t, alice, `mutation($id: ID!) { destroyPackage(input: {id: $id}) { errors } }`, map[string]any{"id": c.Nodes[0].ID})
		fileIDs := []string{c.Nodes[1].PackageFiles.Nodes[0].ID, c.Nodes[2].PackageFiles.Nodes[0].ID}
		e.MustGraphQL(t, alice, `mutation($ids: [ID!]!) { destroyPackageFiles(input: {projectPath: "acme/tools", ids: $ids}) { errors } }`, map[string]any{"ids": fileIDs})
		e.MustGraphQL(t, alice, `mutation($id: ID!) { destroyPackageFile(input: {id: $id}) { errors } }`, map[string]any{"id": c.Nodes[3].PackageFiles.Nodes[1].ID})
		if status, _, _ := g.get(tok(alice), "acme%2Ftools", "alpha/1.0/a.bin"); status != 404 {
			t.Fatalf("destroyed package downloads: %d", status)
		}
		if status, _, _ := g.get(tok(alice), "acme%2Ftools", "bravo/1.0/a.bin"); status != 404 {
			t.Fatalf("destroyed file downloads: %d", status)
		}
		if status, _, _ := g.get(tok(alice), "acme%2Ftools", "bravo/1.0/b.bin"); status != 200 {
			t.Fatalf("sibling of a destroyed file: %d", status)
		}
		many := make([]string, 21)
		for i := range many {
			many[i] = fmt.Sprintf("gid://registry/Packages::Package/%d", i+1)
		}
		r = e.GraphQL(t, alice, `mutation($ids: [ID!]!) { destroyPackages(input: {ids: $ids}) { errors } }`, map[string]any{"ids": many})
		if errs := payloadErrors(t, r, "destroyPackages"); len(errs) != 1 || !strings.Contains(errs[0], "between 1 and 20") {
			t.Fatalf("21 packages: %v", errs)
		}
		var libs struct {
			Project struct {
				Packages struct {
					Nodes []struct {
						ID           string
						PackageFiles struct{ Nodes []struct{ ID string } }
					}
				}
			}
		}
		e.MustGraphQL(t, alice, `{ project(fullPath: "acme/sub/libs") { packages { nodes { id packageFiles { nodes { id } } } } } }`, nil).Decode(t, &libs)
		other := libs.Project.Packages.Nodes[0].PackageFiles.Nodes[0].ID
		r = e.GraphQL(t, alice, `mutation($ids: [ID!]!) { destroyPackageFiles(input: {projectPath: "acme/tools", ids: $ids}) { errors } }`, map[string]any{"ids": []string{other}})
		if errs := payloadErrors(t, r, "destroyPackageFiles"); len(errs) != 1 || !strings.Contains(errs[0], "must belong to project acme/tools") {
			t.Fatalf("file of another project: %v", errs)
		}
		r = e.GraphQL(t, alice, `mutation { destroyPackage(input: {id: "gid://registry/Project/1"}) { errors } }`, nil)
		if errs := payloadErrors(t, r, "destroyPackage"); len(errs) != 1 {
			t.Fatalf("wrong id type: %v", errs)
		}
	})
}

// TestDownloadPathsOfEveryFormat: a package file's downloadPath (GraphQL)
// serves that file, for every format (each has its own download route).
func TestDownloadPathsOfEveryFormat(t *testing.T) {
	e, alice, g, _ := newAcmeTools(t)
	g.put(tok(alice), "acme%2Ftools", "tool/1.0/bin/a.bin", []byte("generic bytes"))
	pyID := createPyPIProject(t, e, alice, "acme", "py", "STANDARD", "")
	body, ctype := pypiForm(t, map[string]string{"name": "lib", "version": "1.0"}, "lib-1.0.tar.gz", []byte("sdist bytes"))
	if status, b, _ := e.Do(t, "POST", fmt.Sprintf("/api/v4/projects/%d/packages/pypi", pyID), bytes.NewReader(body),
		map[string]string{"PRIVATE-TOKEN": alice, "Content-Type": ctype}); status != 201 {
		t.Fatalf("pypi upload: %d %s", status, b)
	}
	jsID := e.CreateProject(t, alice, "acme", "js", "PRIVATE")
	benchPublish(t, e, alice, fmt.Sprint(jsID), "@acme/util", "1.0.0", nil)
	goID := e.CreateProject(t, alice, "acme", "gomods", "PRIVATE")
	mustGoPublish(t, e, alice, fmt.Sprint(goID), "example.com/Acme/lib", "v1.0.0", greetModule(t, "example.com/Acme/lib", "v1.0.0", "hi"))

	for _, project := range []string{"acme/tools", "acme/py", "acme/js", "acme/gomods"} {
		var out struct {
			Project struct {
				Packages struct {
					Nodes []struct {
						PackageFiles struct {
							Nodes []struct {
								FileName, FileSha256, DownloadPath string
							}
						}
					}
				}
			}
		}
		e.MustGraphQL(t, alice, `query($p: ID!) { project(fullPath: $p) { packages(first: 5) { nodes { packageFiles(first: 5) {
			nodes { fileName fileSha256 downloadPath } } } } } }`, map[string]any{"p": project}).Decode(t, &out)
		n := 0
		for _, p := range out.Project.Packages.Nodes {
			for _, f := range p.PackageFiles.Nodes {
				n++
				status, b, _ := e.Do(t, "GET", f.DownloadPath, nil, tok(alice))
				if status != 200 || sha(b) != f.FileSha256 {
					t.Errorf("%s %s: GET %s: %d, sha %s", project, f.FileName, f.DownloadPath, status, sha(b))
				}
			}
		}
		if n == 0 {
			t.Errorf("%s lists no files", project)
		}
	}
}
