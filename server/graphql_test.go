package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/servertest"
)

const projectQuery = `query($p: ID!) { project(fullPath: $p) { id fullPath visibility repositoryMode format packagesEnabled
	namespace { fullPath } projectMembers { nodes { user { username } accessLevel sourcePath sourceType } } } }`

type projectResult struct {
	Project *struct {
		ID, FullPath, Visibility, RepositoryMode string
		Format                                   *string
		PackagesEnabled                          bool
		Namespace                                struct{ FullPath string }
		ProjectMembers                           struct {
			Nodes []struct {
				User                                struct{ Username string }
				AccessLevel, SourcePath, SourceType string
			}
		}
	}
}

func getProject(t *testing.T, e *servertest.Env, token, path string) projectResult {
	t.Helper()
	r := e.GraphQL(t, token, projectQuery, map[string]any{"p": path})
	if len(r.Errors) > 0 {
		t.Fatalf("project(%s): %+v", path, r.Errors)
	}
	var out projectResult
	r.Decode(t, &out)
	return out
}

func payloadErrors(t *testing.T, r *servertest.GQLResponse, field string) []string {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("%s: unexpected top-level errors %+v", field, r.Errors)
	}
	var m map[string]struct{ Errors []string }
	r.Decode(t, &m)
	return m[field].Errors
}

func TestBackendsAreTheOnesAskedFor(t *testing.T) {
	e := servertest.New(t)
	wantDB, wantBlobs := "sqlite3", "fs"
	if os.Getenv("REGISTRY_TEST_POSTGRES_URL") != "" {
		wantDB = "postgres"
	}
	if os.Getenv("REGISTRY_TEST_S3_ENDPOINT") != "" {
		wantBlobs = "s3"
	}
	if e.Server.Dialect != wantDB || e.Server.Blobs.Name() != wantBlobs {
		t.Fatalf("running on %s+%s, want %s+%s", e.Server.Dialect, e.Server.Blobs.Name(), wantDB, wantBlobs)
	}
	// .ci/run prints this line for each pass: what the server really used.
	t.Logf("backends: %s+%s", e.Server.Dialect, e.Server.Blobs.Name())
}

func TestGroupsProjectsMembershipAndVisibility(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	bob := e.CreateUser(t, "bob")
	carol := e.CreateUser(t, "carol")
	dave := e.CreateUser(t, "dave")

	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	e.CreateGroup(t, alice, "acme", "platform", "PRIVATE")
	e.CreateProject(t, alice, "acme/platform", "tools", "PRIVATE")
	e.AddMember(t, alice, "acme", "bob", "DEVELOPER")
	e.AddMember(t, alice, "acme/platform/tools", "dave", "REPORTER")

	t.Run("owner sees the project and its inherited members", func(t *testing.T) {
		p := getProject(t, e, alice, "acme/platform/tools").Project
		if p == nil || p.FullPath != "acme/platform/tools" || p.Visibility != "PRIVATE" || p.RepositoryMode != "STANDARD" ||
			!p.PackagesEnabled || p.Namespace.FullPath != "acme/platform" || !strings.HasPrefix(p.ID, "gid://registry/Project/") {
			t.Fatalf("project: %+v", p)
		}
		var got []string
		for _, m := range p.ProjectMembers.Nodes {
			got = append(got, m.User.Username+":"+m.AccessLevel+"@"+m.SourcePath+"/"+m.SourceType)
		}
		sort.Strings(got)
		// alice created both groups, so she owns each of them.
		want := []string{"alice:OWNER@acme/Group", "alice:OWNER@acme/platform/Group", "bob:DEVELOPER@acme/Group", "dave:REPORTER@acme/platform/tools/Project"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("members %v, want %v", got, want)
		}
	})
	t.Run("group membership is inherited by subgroups and projects", func(t *testing.T) {
		if getProject(t, e, bob, "acme/platform/tools").Project == nil {
			t.Fatal("bob (DEVELOPER on acme) cannot see acme/platform/tools")
		}
		r := e.MustGraphQL(t, bob, `{ group(fullPath: "acme/platform") { fullPath parent { fullPath } } }`, nil)
		if !strings.Contains(string(r.Data), `"parent":{"fullPath":"acme"}`) {
			t.Fatalf("subgroup for bob: %s", r.Data)
		}
	})
	t.Run("direct project membership does not reveal the group", func(t *testing.T) {
		if getProject(t, e, dave, "acme/platform/tools").Project == nil {
			t.Fatal("dave (REPORTER on the project) cannot see it")
		}
		r := e.MustGraphQL(t, dave, `{ group(fullPath: "acme") { fullPath } }`, nil)
		if string(r.Data) != `{"group":null}` {
			t.Fatalf("dave sees private group: %s", r.Data)
		}
	})
	t.Run("non-members and anonymous callers see nothing private", func(t *testing.T) {
		for name, tok := range map[string]string{"carol": carol, "anonymous": ""} {
			if p := getProject(t, e, tok, "acme/platform/tools").Project; p != nil {
				t.Fatalf("%s sees a private project", name)
			}
			// Same answer as for a project that does not exist.
			if p := getProject(t, e, tok, "acme/platform/nope").Project; p != nil {
				t.Fatal("nonexistent project found")
			}
		}
	})
	t.Run("roles are enforced", func(t *testing.T) {
		r := e.GraphQL(t, bob, `mutation { addMember(input: {sourcePath: "acme/platform/tools", username: "carol", accessLevel: GUEST}) { errors } }`, nil)
		if r.Code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "MAINTAINER") {
			t.Fatalf("developer adding a member: %+v", r.Errors)
		}
		r = e.GraphQL(t, bob, `mutation { createProject(input: {namespacePath: "acme", path: "x"}) { errors } }`, nil)
		if r.Code() != "FORBIDDEN" {
			t.Fatalf("developer creating a project: %+v", r.Errors)
		}
		r = e.GraphQL(t, carol, `mutation { createProject(input: {namespacePath: "acme", path: "x"}) { errors } }`, nil)
		if r.Code() != "NOT_FOUND" {
			t.Fatalf("outsider creating a project in a private group must not learn it exists: %+v", r.Errors)
		}
		r = e.GraphQL(t, bob, `mutation { createUser(input: {username: "mallory"}) { errors } }`, nil)
		if r.Code() != "FORBIDDEN" {
			t.Fatalf("non-admin creating a user: %+v", r.Errors)
		}
		r = e.GraphQL(t, bob, `mutation { createPersonalAccessToken(input: {username: "alice", name: "steal", scopes: [API]}) { token errors } }`, nil)
		if r.Code() != "FORBIDDEN" || strings.Contains(string(r.Data), "glpat-") {
			t.Fatalf("token for someone else: %+v %s", r.Errors, r.Data)
		}
		e.AddMember(t, alice, "acme/platform/tools", "carol", "MAINTAINER")
		r = e.GraphQL(t, carol, `mutation { addMember(input: {sourcePath: "acme/platform/tools", username: "dave", accessLevel: OWNER}) { errors } }`, nil)
		if r.Code() != "FORBIDDEN" {
			t.Fatalf("maintainer granting OWNER: %+v", r.Errors)
		}
		r = e.GraphQL(t, alice, `mutation { addMember(input: {sourcePath: "acme", username: "bob", accessLevel: GUEST}) { errors } }`, nil)
		if errs := payloadErrors(t, r, "addMember"); len(errs) != 1 || errs[0] != "Member already exists" {
			t.Fatalf("duplicate membership: %v", errs)
		}
	})
	t.Run("visibility rules", func(t *testing.T) {
		e.CreateGroup(t, alice, "", "open", "PUBLIC")
		e.CreateProject(t, alice, "open", "pub", "PUBLIC")
		e.CreateProject(t, alice, "open", "int", "INTERNAL")
		e.CreateProject(t, alice, "open", "priv", "PRIVATE")
		if getProject(t, e, "", "open/pub").Project == nil || getProject(t, e, carol, "open/int").Project == nil {
			t.Fatal("public project hidden from anonymous, or internal project hidden from a signed-in user")
		}
		if getProject(t, e, "", "open/int").Project != nil {
			t.Fatal("internal project visible anonymously")
		}
		list := func(tok string) string {
			r := e.MustGraphQL(t, tok, `{ group(fullPath: "open") { projects { nodes { fullPath } } } }`, nil)
			return string(r.Data)
		}
		if got := list(""); got != `{"group":{"projects":{"nodes":[{"fullPath":"open/pub"}]}}}` {
			t.Fatalf("anonymous listing: %s", got)
		}
		if got := list(carol); got != `{"group":{"projects":{"nodes":[{"fullPath":"open/pub"},{"fullPath":"open/int"}]}}}` {
			t.Fatalf("signed-in listing: %s", got)
		}
		if got := list(alice); !strings.Contains(got, "open/priv") {
			t.Fatalf("owner listing: %s", got)
		}
		r := e.GraphQL(t, alice, `mutation { createProject(input: {namespacePath: "acme", path: "leak", visibility: PUBLIC}) { project { id } errors } }`, nil)
		if errs := payloadErrors(t, r, "createProject"); len(errs) != 1 || !strings.Contains(errs[0], "namespace is PRIVATE") {
			t.Fatalf("public project in private group: %v", errs)
		}
		r = e.GraphQL(t, alice, `mutation { updateProject(input: {fullPath: "open/priv", visibility: PUBLIC, name: "Renamed", packagesEnabled: false}) { project { visibility name packagesEnabled } errors } }`, nil)
		if len(payloadErrors(t, r, "updateProject")) > 0 || !strings.Contains(string(r.Data), `"visibility":"PUBLIC","name":"Renamed","packagesEnabled":false`) {
			t.Fatalf("updateProject: %s", r.Data)
		}
	})
}

func TestPaginationIsRelay(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "many", "PRIVATE")
	for i := range 5 {
		e.CreateProject(t, alice, "many", fmt.Sprintf("p%d", i), "PRIVATE")
	}
	q := `query($a: String) { group(fullPath: "many") { projects(first: 2, after: $a) {
		edges { cursor node { path } } pageInfo { hasNextPage hasPreviousPage endCursor } } } }`
	var seen []string
	var after any
	for page := 0; ; page++ {
		var out struct {
			Group struct {
				Projects struct {
					Edges []struct {
						Cursor string
						Node   struct{ Path string }
					}
					PageInfo struct {
						HasNextPage, HasPreviousPage bool
						EndCursor                    string
					}
				}
			}
		}
		e.MustGraphQL(t, alice, q, map[string]any{"a": after}).Decode(t, &out)
		pc := out.Group.Projects
		for _, ed := range pc.Edges {
			seen = append(seen, ed.Node.Path)
		}
		if pc.PageInfo.HasPreviousPage != (page > 0) {
			t.Fatalf("page %d hasPreviousPage=%v", page, pc.PageInfo.HasPreviousPage)
		}
		if !pc.PageInfo.HasNextPage {
			break
		}
		after = pc.PageInfo.EndCursor
	}
	if strings.Join(seen, ",") != "p0,p1,p2,p3,p4" {
		t.Fatalf("pages gave %v", seen)
	}
	r := e.GraphQL(t, alice, `{ group(fullPath: "many") { projects(last: 2) { nodes { path } pageInfo { hasPreviousPage } } } }`, nil)
	if string(r.Data) != `{"group":{"projects":{"nodes":[{"path":"p3"},{"path":"p4"}],"pageInfo":{"hasPreviousPage":true}}}}` {
		t.Fatalf("last: 2 gave %s", r.Data)
	}
	r = e.GraphQL(t, alice, `{ group(fullPath: "many") { projects(first: 101) { nodes { path } } } }`, nil)
	if r.Code() != "INVALID" {
		t.Fatalf("first: 101 accepted: %+v", r.Errors)
	}
	r = e.GraphQL(t, alice, `{ group(fullPath: "many") { projects(after: "bogus") { nodes { path } } } }`, nil)
	if r.Code() != "INVALID" {
		t.Fatalf("bogus cursor accepted: %+v", r.Errors)
	}
}

func TestGlobalIDs(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "g", "PRIVATE")
	id := e.CreateProject(t, alice, "g", "p", "PRIVATE")
	gidP := fmt.Sprintf("gid://registry/Project/%d", id)
	r := e.MustGraphQL(t, alice, `query($id: ID!) { node(id: $id) { __typename id ... on Project { fullPath } } }`, map[string]any{"id": gidP})
	if string(r.Data) != fmt.Sprintf(`{"node":{"__typename":"Project","id":"%s","fullPath":"g/p"}}`, gidP) {
		t.Fatalf("node(project): %s", r.Data)
	}
	r = e.MustGraphQL(t, alice, `{ group(fullPath: "g") { id } currentUser { id } }`, nil)
	var ids struct {
		Group       struct{ ID string }
		CurrentUser struct{ ID string }
	}
	r.Decode(t, &ids)
	r = e.MustGraphQL(t, alice, `query($a: ID!, $b: ID!) { nodes(ids: [$a, $b]) { __typename id } }`, map[string]any{"a": ids.Group.ID, "b": ids.CurrentUser.ID})
	if string(r.Data) != fmt.Sprintf(`{"nodes":[{"__typename":"Group","id":"%s"},{"__typename":"User","id":"%s"}]}`, ids.Group.ID, ids.CurrentUser.ID) {
		t.Fatalf("nodes: %s", r.Data)
	}
	outsider := e.CreateUser(t, "outsider")
	r = e.MustGraphQL(t, outsider, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": gidP})
	if string(r.Data) != `{"node":null}` {
		t.Fatalf("outsider resolves private project by id: %s", r.Data)
	}
	r = e.GraphQL(t, alice, `{ node(id: "Project/1") { id } }`, nil)
	if r.Code() != "INVALID" || !strings.Contains(r.Errors[0].Message, "gid://registry/") {
		t.Fatalf("malformed gid: %+v", r.Errors)
	}
}

func TestTokenKinds(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	bob := e.CreateUser(t, "bob")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	e.CreateProject(t, alice, "acme", "app", "PRIVATE")
	e.CreateProject(t, alice, "acme", "other", "PRIVATE")
	e.AddMember(t, alice, "acme/app", "bob", "DEVELOPER")

	t.Run("project access token acts as a bot bound to its project", func(t *testing.T) {
		r := e.MustGraphQL(t, alice, `mutation { createProjectAccessToken(input: {projectPath: "acme/app", name: "ci", scopes: [READ_API], accessLevel: REPORTER}) {
			token accessToken { kind accessLevel scopes } errors } }`, nil)
		var out struct {
			CreateProjectAccessToken struct {
				Token       string
				AccessToken struct {
					Kind, AccessLevel string
					Scopes            []string
				}
			}
		}
		r.Decode(t, &out)
		tok := out.CreateProjectAccessToken
		if tok.AccessToken.Kind != "PROJECT" || tok.AccessToken.AccessLevel != "REPORTER" || fmt.Sprint(tok.AccessToken.Scopes) != "[READ_API]" {
			t.Fatalf("payload %s", r.Data)
		}
		r = e.MustGraphQL(t, tok.Token, `{ currentUser { username bot } app: project(fullPath: "acme/app") { fullPath } other: project(fullPath: "acme/other") { fullPath } }`, nil)
		var who struct {
			CurrentUser struct {
				Username string
				Bot      bool
			}
			App, Other *struct{ FullPath string }
		}
		r.Decode(t, &who)
		if !who.CurrentUser.Bot || !strings.HasPrefix(who.CurrentUser.Username, "project_") || who.App == nil || who.Other != nil {
			t.Fatalf("project token sees %s", r.Data)
		}
		r = e.GraphQL(t, tok.Token, `mutation { createGroup(input: {path: "botgroup"}) { errors } }`, nil)
		if r.Code() != "FORBIDDEN" {
			t.Fatalf("READ_API token mutating: %+v", r.Errors)
		}
		r = e.GraphQL(t, bob, `mutation { createProjectAccessToken(input: {projectPath: "acme/app", name: "x", scopes: [API], accessLevel: OWNER}) { errors } }`, nil)
		if r.Code() != "FORBIDDEN" {
			t.Fatalf("developer creating a project token: %+v", r.Errors)
		}
	})
	t.Run("group access token covers the group's projects", func(t *testing.T) {
		r := e.MustGraphQL(t, alice, `mutation { createGroupAccessToken(input: {groupPath: "acme", name: "g", scopes: [READ_API], accessLevel: GUEST}) { token errors } }`, nil)
		var out struct{ CreateGroupAccessToken struct{ Token string } }
		r.Decode(t, &out)
		if getProject(t, e, out.CreateGroupAccessToken.Token, "acme/other").Project == nil {
			t.Fatal("group token cannot see a project of its group")
		}
	})
	t.Run("deploy tokens carry only package scopes", func(t *testing.T) {
		r := e.GraphQL(t, alice, `mutation { createDeployToken(input: {fullPath: "acme/app", name: "d", scopes: [API]}) { token errors } }`, nil)
		if errs := payloadErrors(t, r, "createDeployToken"); len(errs) != 1 || !strings.Contains(errs[0], "scope API is not allowed") {
			t.Fatalf("deploy token with API scope: %v", errs)
		}
		r = e.MustGraphQL(t, alice, `mutation { createDeployToken(input: {fullPath: "acme/app", name: "d", scopes: [READ_PACKAGE_REGISTRY]}) {
			token deployToken { username kind scopes } errors } }`, nil)
		var out struct {
			CreateDeployToken struct {
				Token       string
				DeployToken struct{ Username, Kind string }
			}
		}
		r.Decode(t, &out)
		if !strings.HasPrefix(out.CreateDeployToken.Token, "gldt-") || !strings.HasPrefix(out.CreateDeployToken.DeployToken.Username, "gitlab+deploy-token-") {
			t.Fatalf("deploy token payload %s", r.Data)
		}
		r = e.MustGraphQL(t, alice, `mutation { createDeployToken(input: {fullPath: "acme", name: "gd", username: "ci-reader", scopes: [READ_PACKAGE_REGISTRY, WRITE_PACKAGE_REGISTRY]}) {
			deployToken { username scopes } errors } }`, nil)
		if !strings.Contains(string(r.Data), `"username":"ci-reader","scopes":["READ_PACKAGE_REGISTRY","WRITE_PACKAGE_REGISTRY"]`) {
			t.Fatalf("group deploy token: %s", r.Data)
		}
		// Deploy tokens are for package endpoints; the API turns them away.
		status, body, _ := e.Do(t, "POST", "/api/graphql", strings.NewReader(`{"query":"{ currentUser { username } }"}`),
			map[string]string{"Content-Type": "application/json", "Deploy-Token": out.CreateDeployToken.Token})
		if status != http.StatusForbidden || !strings.Contains(string(body), "insufficient_scope") {
			t.Fatalf("deploy token on the API: %d %s", status, body)
		}
	})
	t.Run("job tokens are short-lived and bound to one project", func(t *testing.T) {
		r := e.MustGraphQL(t, bob, `mutation { createJobToken(input: {projectPath: "acme/app", expiresIn: 600}) { token accessToken { kind expiresAt scopes } errors } }`, nil)
		var out struct {
			CreateJobToken struct {
				Token       string
				AccessToken struct {
					Kind      string
					ExpiresAt time.Time
				}
			}
		}
		r.Decode(t, &out)
		jt := out.CreateJobToken
		if !strings.HasPrefix(jt.Token, "glcbt-") || jt.AccessToken.Kind != "JOB" || !jt.AccessToken.ExpiresAt.Equal(e.Clock.Now().Add(600*time.Second)) {
			t.Fatalf("job token payload %s", r.Data)
		}
		p, err := e.Server.Service.Tokens.Authenticate(t.Context(), jt.Token)
		if err != nil || p.User == nil || p.User.Username != "bob" {
			t.Fatalf("job token authenticates as %v, %v", p, err)
		}
		e.Clock.Advance(601 * time.Second)
		if _, err := e.Server.Service.Tokens.Authenticate(t.Context(), jt.Token); err == nil {
			t.Fatal("expired job token still authenticates")
		}
		r = e.GraphQL(t, bob, `mutation { createJobToken(input: {projectPath: "acme/app", expiresIn: 90000}) { token errors } }`, nil)
		if errs := payloadErrors(t, r, "createJobToken"); len(errs) != 1 || !strings.Contains(errs[0], "expiresIn") {
			t.Fatalf("job token for 25 hours: %v", errs)
		}
		r = e.GraphQL(t, bob, `mutation { createJobToken(input: {projectPath: "acme/other"}) { token errors } }`, nil)
		if r.Code() != "NOT_FOUND" {
			t.Fatalf("job token for a project bob cannot see: %+v", r.Errors)
		}
	})
}

func TestBadInputChangesNothing(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PUBLIC")
	e.CreateGroup(t, alice, "acme", "sub", "PUBLIC")
	countRows := func() string {
		ctx := t.Context()
		db := e.Server.DB
		n1, _ := db.Namespace.Query().Count(ctx)
		n2, _ := db.Project.Query().Count(ctx)
		n3, _ := db.Member.Query().Count(ctx)
		n4, _ := db.AccessToken.Query().Count(ctx)
		n5, _ := db.User.Query().Count(ctx)
		n6, _ := db.Route.Query().Count(ctx)
		return fmt.Sprint(n1, n2, n3, n4, n5, n6)
	}
	before := countRows()
	long := strings.Repeat("a", 256)
	past := e.Clock.Now().Add(-time.Hour).Format(time.RFC3339)
	cases := []struct {
		name, query, field, wantMsg string
	}{
		{"empty group path", `mutation { createGroup(input: {path: ""}) { errors } }`, "createGroup", "path can't be blank"},
		{"dot-dot path", `mutation { createGroup(input: {path: ".."}) { errors } }`, "createGroup", "path must not be '.' or contain '..'"},
		{"slash in path", `mutation { createGroup(input: {path: "a/b"}) { errors } }`, "createGroup", "path can contain only letters"},
		{"leading dash", `mutation { createGroup(input: {path: "-x"}) { errors } }`, "createGroup", "cannot start with '-'"},
		{"ends in .git", `mutation { createGroup(input: {path: "x.git"}) { errors } }`, "createGroup", "cannot end in '.git'"},
		{"too long", `mutation { createGroup(input: {path: "` + long + `"}) { errors } }`, "createGroup", "too long (maximum is 255"},
		{"bad name", `mutation { createGroup(input: {path: "ok", name: "<script>"}) { errors } }`, "createGroup", "name can contain only"},
		{"duplicate group", `mutation { createGroup(input: {path: "acme"}) { errors } }`, "createGroup", "path 'acme' has already been taken"},
		{"group named like a user", `mutation { createGroup(input: {path: "alice"}) { errors } }`, "createGroup", "has already been taken"},
		{"case-insensitive duplicate", `mutation { createGroup(input: {path: "ACME"}) { errors } }`, "createGroup", "has already been taken"},
		{"project named like a subgroup", `mutation { createProject(input: {namespacePath: "acme", path: "sub"}) { errors } }`, "createProject", "path 'acme/sub' has already been taken"},
		{"remote without url", `mutation { createProject(input: {namespacePath: "acme", path: "r", repositoryMode: REMOTE, format: GENERIC}) { errors } }`, "createProject", "remoteUrl is required"},
		{"remote url with credentials", `mutation { createProject(input: {namespacePath: "acme", path: "r", repositoryMode: REMOTE, format: GENERIC, remoteUrl: "https://u:p@example.com/x"}) { errors } }`, "createProject", "must not contain credentials"},
		{"remote url not http", `mutation { createProject(input: {namespacePath: "acme", path: "r", repositoryMode: REMOTE, format: GENERIC, remoteUrl: "file:///etc/passwd"}) { errors } }`, "createProject", "absolute http or https URL"},
		{"virtual without format", `mutation { createProject(input: {namespacePath: "acme", path: "v", repositoryMode: VIRTUAL}) { errors } }`, "createProject", "format is required"},
		{"expired expiresAt", `mutation { createPersonalAccessToken(input: {username: "alice", name: "t", scopes: [API], expiresAt: "` + past + `"}) { errors } }`, "createPersonalAccessToken", "expiresAt must be in the future"},
		{"no scopes", `mutation { createPersonalAccessToken(input: {username: "alice", name: "t", scopes: []}) { errors } }`, "createPersonalAccessToken", "scopes can't be blank"},
		{"blank token name", `mutation { createPersonalAccessToken(input: {username: "alice", name: "  ", scopes: [API]}) { errors } }`, "createPersonalAccessToken", "name can't be blank"},
		{"unknown user as member", `mutation { addMember(input: {sourcePath: "acme", username: "ghost", accessLevel: GUEST}) { errors } }`, "addMember", `user "ghost" does not exist`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := payloadErrors(t, e.GraphQL(t, alice, c.query, nil), c.field)
			if len(errs) != 1 || !strings.Contains(errs[0], c.wantMsg) {
				t.Fatalf("errors %q, want one containing %q", errs, c.wantMsg)
			}
		})
	}
	// Malformed GraphQL: rejected by validation with a clear message.
	for name, q := range map[string]string{
		"invalid scope enum":    `mutation { createPersonalAccessToken(input: {username: "alice", name: "t", scopes: [ADMIN]}) { errors } }`,
		"invalid access level":  `mutation { addMember(input: {sourcePath: "acme", username: "alice", accessLevel: ROOT}) { errors } }`,
		"unknown input field":   `mutation { createGroup(input: {path: "x", color: "red"}) { errors } }`,
		"missing required":      `mutation { createGroup(input: {name: "x"}) { errors } }`,
		"syntax error":          `mutation { createGroup(input: {path: "x"} { errors } }`,
		"invalid time":          `mutation { createPersonalAccessToken(input: {username: "alice", name: "t", scopes: [API], expiresAt: "tomorrow"}) { errors } }`,
		"unknown query field":   `{ projectz(fullPath: "a") { id } }`,
		"invalid visibility":    `mutation { createGroup(input: {path: "x", visibility: SECRET}) { errors } }`,
		"wrong variable type":   `mutation { createGroup(input: {path: 42}) { errors } }`,
		"repository mode typo":  `mutation { createProject(input: {namespacePath: "acme", path: "x", repositoryMode: HOSTED}) { errors } }`,
		"format that is absent": `mutation { createProject(input: {namespacePath: "acme", path: "x", format: CARGO}) { errors } }`,
	} {
		t.Run(name, func(t *testing.T) {
			r := e.GraphQL(t, alice, q, nil)
			if len(r.Errors) == 0 || r.Errors[0].Message == "" || strings.Contains(r.Errors[0].Message, "panic") {
				t.Fatalf("accepted or unclear: %+v %s", r.Errors, r.Data)
			}
		})
	}
	status, body, _ := e.Do(t, "POST", "/api/graphql", strings.NewReader(`{not json`), map[string]string{"Content-Type": "application/json", "PRIVATE-TOKEN": alice})
	if status < 400 || status >= 500 || !strings.Contains(string(body), "errors") {
		t.Fatalf("malformed body: %d %s", status, body)
	}
	if after := countRows(); after != before {
		t.Fatalf("bad input changed the database: rows %s -> %s", before, after)
	}
}

func TestConcurrentCreationOfOnePath(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	const n = 16
	var wg sync.WaitGroup
	results := make([][]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Half create a subgroup, half a project, all at acme/contested.
			q := `mutation { createGroup(input: {path: "contested", parentPath: "acme"}) { errors } }`
			field := "createGroup"
			if i%2 == 1 {
				q = `mutation { createProject(input: {namespacePath: "acme", path: "contested"}) { errors } }`
				field = "createProject"
			}
			r := e.GraphQL(t, alice, q, nil)
			if len(r.Errors) > 0 {
				t.Errorf("top-level error: %+v", r.Errors)
				return
			}
			var m map[string]struct{ Errors []string }
			_ = json.Unmarshal(r.Data, &m)
			results[i] = m[field].Errors
		}()
	}
	wg.Wait()
	ok := 0
	for _, errs := range results {
		switch {
		case len(errs) == 0:
			ok++
		case !strings.Contains(errs[0], "already been taken") && !strings.Contains(errs[0], "try again"):
			t.Errorf("unexpected error %q", errs[0])
		}
	}
	nsCount, _ := e.Server.DB.Namespace.Query().Count(t.Context())
	prjCount, _ := e.Server.DB.Project.Query().Count(t.Context())
	// root and alice namespaces, acme, and at most one of the contenders.
	if ok != 1 || nsCount+prjCount != 4 {
		t.Fatalf("%d creations succeeded; %d namespaces + %d projects", ok, nsCount, prjCount)
	}
}

func TestQueryLimits(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	deep := "{ currentUser { namespace { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } } } } } } }"
	r := e.GraphQL(t, alice, deep, nil)
	if r.Code() != "DEPTH_LIMIT_EXCEEDED" {
		t.Fatalf("deep query: %+v", r.Errors)
	}
	wide := `{ group(fullPath: "x") { projects(first: 100) { nodes { projectMembers(first: 100) { nodes { user { username } } } } } } }`
	r = e.GraphQL(t, alice, wide, nil)
	if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "complexity") {
		t.Fatalf("complex query: %+v", r.Errors)
	}
	status, body, _ := e.Do(t, "GET", "/-/graphql-explorer", nil, nil)
	if status != 200 || !strings.Contains(strings.ToLower(string(body)), "graphiql") || !strings.Contains(string(body), "/api/graphql") {
		t.Fatalf("explorer: %d", status)
	}
}

func TestRemoteCredentialsAreNeverReturned(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	const password = "upstream-p4ssw0rd-xyz"
	r := e.MustGraphQL(t, alice, `mutation($pw: String) { createProject(input: {namespacePath: "acme", path: "mirror", repositoryMode: REMOTE, format: GENERIC,
		remoteUrl: "https://upstream.example/api/v4/projects/1/packages/generic", remoteUsername: "svc", remotePassword: $pw}) {
		project { repositoryMode format } errors } }`, map[string]any{"pw": password})
	if string(r.Data) != `{"createProject":{"project":{"repositoryMode":"REMOTE","format":"GENERIC"},"errors":[]}}` {
		t.Fatalf("create remote: %s", r.Data)
	}
	intro := e.MustGraphQL(t, alice, `{ __type(name: "Project") { fields { name } } }`, nil)
	for _, bad := range []string{"assword", "ecret", "emoteUsername"} {
		if strings.Contains(string(intro.Data), bad) {
			t.Fatalf("Project exposes a credential field: %s", intro.Data)
		}
	}
	prj, err := e.Server.DB.Project.Query().Only(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if prj.RemoteSecret == nil || len(*prj.RemoteSecret) == 0 || strings.Contains(string(*prj.RemoteSecret), password) {
		t.Fatal("remote password stored in plaintext")
	}
	if s := fmt.Sprintf("%v", prj); strings.Contains(s, password) || strings.Contains(s, "svc") {
		t.Fatal("project String() prints credentials")
	}
}

// TestProjectListingQueries: listing a group's projects with their
// namespace, and its packages with their project (each checked for
// visibility) and its namespace, cost a constant number of queries,
// whatever the number of rows.
func TestProjectListingQueries(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	// queries: a project listing with namespaces, a package listing with
	// projects, and the same with their namespaces.
	queries := func() [3]int64 {
		run := func(q string) int64 {
			e.Queries.Store(0)
			e.MustGraphQL(t, alice, q, nil)
			return e.Queries.Load()
		}
		projects := run(`{ group(fullPath: "acme") { projects(first: 50) { nodes { fullPath namespace { fullPath } } } } }`)
		withoutNS := run(`{ group(fullPath: "acme") { packages(first: 50) { nodes { project { fullPath } } } } }`)
		withNS := run(`{ group(fullPath: "acme") { packages(first: 50) { nodes { project { fullPath namespace { fullPath } } } } } }`)
		return [3]int64{projects, withoutNS, withNS}
	}
	g := gen{e, t}
	add := func(from, to int) {
		for i := from; i < to; i++ {
			e.CreateProject(t, alice, "acme", fmt.Sprintf("p%d", i), "PRIVATE")
			g.put(tok(alice), fmt.Sprintf("acme%%2Fp%d", i), "tool/1.0/x.bin", []byte{byte(i)})
		}
	}
	add(0, 2)
	small := queries()
	add(2, 12)
	if large := queries(); large != small {
		t.Fatalf("queries [projects, packages with projects, with namespaces too]: 2 projects %v, 12 projects %v", small, large)
	}
}
