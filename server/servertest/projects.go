package servertest

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
)

// ProjectGIDPrefix starts every project's GraphQL global id.
const ProjectGIDPrefix = "gid://registry/Project/"

// ParseProjectID returns the numeric id of a project's GraphQL global id
// ("gid://registry/Project/N"); anything else fails the test.
func ParseProjectID(t testing.TB, gid string) int {
	t.Helper()
	n, ok := strings.CutPrefix(gid, ProjectGIDPrefix)
	id, err := strconv.Atoi(n)
	if !ok || err != nil || id <= 0 {
		t.Fatalf("project id %q is not %sN", gid, ProjectGIDPrefix)
	}
	return id
}

// ProjectID looks a project up by its full path and returns its numeric id.
func (e *Env) ProjectID(t testing.TB, token, fullPath string) int {
	t.Helper()
	var out struct{ Project *struct{ ID string } }
	e.MustGraphQL(t, token, `query($p: ID!) { project(fullPath: $p) { id } }`, map[string]any{"p": fullPath}).Decode(t, &out)
	if out.Project == nil {
		t.Fatalf("project %s: not found", fullPath)
	}
	return ParseProjectID(t, out.Project.ID)
}

// ProjectRef is ProjectID as a path segment.
func (e *Env) ProjectRef(t testing.TB, token, fullPath string) string {
	t.Helper()
	return strconv.Itoa(e.ProjectID(t, token, fullPath))
}

// Project is what createProject takes; empty fields are left out of the
// mutation (the server's defaults apply).
type Project struct {
	Namespace, Path string
	Mode            string // STANDARD, REMOTE or VIRTUAL
	Format          string // GENERIC, PYPI, NPM, GOLANG, ...
	Visibility      string // PRIVATE, INTERNAL or PUBLIC
	RemoteURL       string
	RemoteUsername  string
	RemotePassword  string
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateProjectWith creates the project p and returns its numeric id; a
// GraphQL or payload error fails the test.
func (e *Env) CreateProjectWith(t testing.TB, token string, p Project) int {
	t.Helper()
	r := e.MustGraphQL(t, token, `mutation($n: ID!, $p: String!, $m: RepositoryMode, $f: PackageFormat, $v: Visibility, $u: String, $user: String, $pw: String) {
		createProject(input: {namespacePath: $n, path: $p, repositoryMode: $m, format: $f, visibility: $v,
			remoteUrl: $u, remoteUsername: $user, remotePassword: $pw}) { project { id } errors } }`,
		map[string]any{"n": p.Namespace, "p": p.Path, "m": orNil(p.Mode), "f": orNil(p.Format), "v": orNil(p.Visibility),
			"u": orNil(p.RemoteURL), "user": orNil(p.RemoteUsername), "pw": orNil(p.RemotePassword)})
	var out struct {
		CreateProject struct{ Project struct{ ID string } } `json:"createProject"`
	}
	r.Decode(t, &out)
	return ParseProjectID(t, out.CreateProject.Project.ID)
}

// CreateRemoteProject creates a REMOTE project of format over remoteURL and
// returns its numeric id.
func (e *Env) CreateRemoteProject(t testing.TB, token, namespace, path, format, remoteURL string) int {
	t.Helper()
	return e.CreateProjectWith(t, token, Project{Namespace: namespace, Path: path, Mode: "REMOTE", Format: format, RemoteURL: remoteURL})
}

// Upstream is one upstream policy of a VIRTUAL project.
type Upstream struct {
	ID       string // the policy id
	Path     string // the upstream project's full path
	Priority int
}

// CreateVirtualProject creates a VIRTUAL project of format, sets its
// upstreams (when any are given) and returns its numeric id.
func (e *Env) CreateVirtualProject(t testing.TB, token, namespace, path, format string, upstreams ...Upstream) int {
	t.Helper()
	id := e.CreateProjectWith(t, token, Project{Namespace: namespace, Path: path, Mode: "VIRTUAL", Format: format})
	if len(upstreams) > 0 {
		e.SetUpstreams(t, token, namespace+"/"+path, upstreams...)
	}
	return id
}

// SetUpstreams replaces a VIRTUAL project's upstream policies; a GraphQL or
// payload error fails the test.
func (e *Env) SetUpstreams(t testing.TB, token, project string, upstreams ...Upstream) {
	t.Helper()
	policies := []map[string]any{}
	for _, u := range upstreams {
		policies = append(policies, map[string]any{"id": u.ID, "repositoryPath": u.Path, "priority": u.Priority})
	}
	e.MustGraphQL(t, token, `mutation($p: ID!, $u: [UpstreamPolicyInput!]!) { updateVirtualRepositoryUpstreams(input: {projectPath: $p, upstreamPolicies: $u}) { errors } }`,
		map[string]any{"p": project, "u": policies})
}

// SetDuplicates switches "allow duplicates" of one format (GENERIC, PYPI,
// NPM, MAVEN) for a namespace, and checks the setting took. For GENERIC it
// also sets the exception regex (none given: cleared).
func (e *Env) SetDuplicates(t testing.TB, token, namespace, format string, allowed bool, exceptionRegex ...string) {
	t.Helper()
	field := strings.ToLower(format) + "DuplicatesAllowed"
	decl, input, vars := "", "", map[string]any{"n": namespace, "a": allowed}
	if format == "GENERIC" {
		decl, input, vars["r"] = ", $r: String", ", genericDuplicateExceptionRegex: $r", strings.Join(exceptionRegex, "")
	}
	r := e.MustGraphQL(t, token, `mutation($n: ID!, $a: Boolean`+decl+`) { updateNamespacePackageSettings(input: {namespacePath: $n,
		`+field+`: $a`+input+`}) { packageSettings { `+field+` } errors } }`, vars)
	var out struct {
		Update struct{ PackageSettings map[string]bool } `json:"updateNamespacePackageSettings"`
	}
	r.Decode(t, &out)
	if got, ok := out.Update.PackageSettings[field]; !ok || got != allowed {
		t.Fatalf("%s of %s: %v after setting %v", field, namespace, out.Update.PackageSettings, allowed)
	}
}

// BasicAuth is an HTTP Basic Authorization header value.
func BasicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}
