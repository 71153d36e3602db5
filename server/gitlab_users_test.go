package server_test

// GitLab's identity and instance endpoints (/user, /users, /version,
// /metadata, /personal_access_tokens/self): what python-gitlab's gl.auth(),
// glab and go-gitlab call before anything else.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/pkgreg/registry/server/servertest"
)

// guGet GETs path with a PRIVATE-TOKEN ("" = anonymous) and decodes the
// JSON answer into a generic value.
func guGet(t *testing.T, e *servertest.Env, token, path string) (int, any, string) {
	t.Helper()
	status, b, _ := e.Do(t, "GET", path, nil, tok(token))
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s answered %d with non-JSON %q", path, status, b)
	}
	return status, v, string(b)
}

// guFixture is a registry with a user, an admin, and every kind of token.
type guFixture struct {
	e                                *servertest.Env
	alice, alicePkg, project, deploy string
	job                              string
	aliceTokenID                     int
	aliceTokenExpires                time.Time
	aliceWithExpiry                  string
}

func newGUFixture(t *testing.T) *guFixture {
	t.Helper()
	e := servertest.New(t)
	f := &guFixture{e: e}
	e.MustGraphQL(t, servertest.RootToken, `mutation { createUser(input: {username: "alice", name: "Alice Liddell", email: "alice@example.com"}) { user { id } errors } }`, nil)
	f.alice = e.CreateToken(t, servertest.RootToken, "alice", "API")
	f.alicePkg = e.CreateToken(t, servertest.RootToken, "alice", "READ_PACKAGE_REGISTRY")
	f.aliceTokenExpires = time.Now().UTC().AddDate(0, 1, 0).Truncate(time.Second)
	r := e.MustGraphQL(t, servertest.RootToken, `mutation($x: Time) {
		createPersonalAccessToken(input: {username: "alice", name: "ci check", scopes: [READ_API, WRITE_PACKAGE_REGISTRY], expiresAt: $x}) { token accessToken { id } errors } }`,
		map[string]any{"x": f.aliceTokenExpires.Format(time.RFC3339)})
	var out struct {
		CreatePersonalAccessToken struct {
			Token       string
			AccessToken struct{ ID string }
		} `json:"createPersonalAccessToken"`
	}
	r.Decode(t, &out)
	f.aliceWithExpiry = out.CreatePersonalAccessToken.Token
	id, err := strconv.Atoi(out.CreatePersonalAccessToken.AccessToken.ID[strings.LastIndex(out.CreatePersonalAccessToken.AccessToken.ID, "/")+1:])
	if err != nil || f.aliceWithExpiry == "" {
		t.Fatalf("createPersonalAccessToken: %s", r.Data)
	}
	f.aliceTokenID = id
	e.CreateProject(t, f.alice, "alice", "tools", "PRIVATE")
	f.project = cgProjectAccessToken(t, e, f.alice, "alice/tools", "DEVELOPER")
	f.deploy, _ = cgDeployToken(t, e, f.alice, "alice/tools", "READ_PACKAGE_REGISTRY")
	f.job = cgJobToken(t, e, f.alice, "alice/tools")
	return f
}

// guNotACredential asserts that path answers 401 with a Basic challenge to
// callers without a user-backed API credential.
func guNotACredential(t *testing.T, f *guFixture, path string) {
	t.Helper()
	for who, token := range map[string]string{"anonymous": "", "a wrong token": "glpat-not-a-real-token-000000",
		"a deploy token": f.deploy, "a job token": f.job} {
		status, _, body := guGet(t, f.e, token, path)
		if status != 401 || !strings.Contains(body, "401 Unauthorized") {
			t.Errorf("%s with %s: %d %s, want 401", path, who, status, body)
		}
	}
}

func TestGitLabCurrentUser(t *testing.T) {
	f := newGUFixture(t)
	e := f.e
	status, v, body := guGet(t, e, f.alice, "/api/v4/user")
	if status != 200 {
		t.Fatalf("/user: %d %s", status, body)
	}
	u := v.(map[string]any)
	if u["username"] != "alice" || u["name"] != "Alice Liddell" || u["state"] != "active" || u["email"] != "alice@example.com" ||
		u["is_admin"] != false || u["bot"] != false || u["web_url"] != e.URL+"/alice" || u["id"].(float64) < 1 {
		t.Fatalf("/user: %s", body)
	}
	for _, k := range []string{"avatar_url", "created_at", "locked"} {
		if _, ok := u[k]; !ok {
			t.Errorf("/user has no %q: %s", k, body)
		}
	}
	if _, err := time.Parse(time.RFC3339, u["created_at"].(string)); err != nil {
		t.Errorf("created_at %v: %v", u["created_at"], err)
	}
	if _, v, _ := guGet(t, e, servertest.RootToken, "/api/v4/user"); v.(map[string]any)["username"] != "root" || v.(map[string]any)["is_admin"] != true {
		t.Errorf("root's /user: %v", v)
	}
	// A project access token is its bot user, as in GitLab.
	if status, v, body := guGet(t, e, f.project, "/api/v4/user"); status != 200 || v.(map[string]any)["bot"] != true ||
		!strings.HasPrefix(v.(map[string]any)["username"].(string), "project_") {
		t.Errorf("/user with a project access token: %d %s", status, body)
	}
	// A package-only personal token is a credential, just not for this.
	if status, _, body := guGet(t, e, f.alicePkg, "/api/v4/user"); status != 403 || !strings.Contains(body, "insufficient_scope") {
		t.Errorf("/user with a read_package_registry token: %d %s, want 403 insufficient_scope", status, body)
	}
	guNotACredential(t, f, "/api/v4/user")
}

func TestGitLabUsersList(t *testing.T) {
	f := newGUFixture(t)
	e := f.e
	for _, name := range []string{"bob", "carol", "dave"} {
		e.CreateUser(t, name)
	}
	status, v, body := guGet(t, e, f.alice, "/api/v4/users?username=ALICE")
	if status != 200 {
		t.Fatalf("/users?username=: %d %s", status, body)
	}
	list := v.([]any)
	if len(list) != 1 || list[0].(map[string]any)["username"] != "alice" || list[0].(map[string]any)["state"] != "active" {
		t.Fatalf("/users?username=ALICE: %s", body)
	}
	if _, ok := list[0].(map[string]any)["email"]; ok {
		t.Errorf("/users shows other users' email: %s", body)
	}
	if _, v, body := guGet(t, e, f.alice, "/api/v4/users?username=nobody"); len(v.([]any)) != 0 {
		t.Errorf("/users?username=nobody: %s", body)
	}
	if _, v, body := guGet(t, e, f.alice, "/api/v4/users?search=LIDDELL"); len(v.([]any)) != 1 || v.([]any)[0].(map[string]any)["username"] != "alice" {
		t.Errorf("/users?search=LIDDELL (a name): %s", body)
	}
	if _, v, body := guGet(t, e, f.alice, "/api/v4/users?search=o"); len(v.([]any)) != 3 {
		t.Errorf("/users?search=o (root, bob, carol): %s", body)
	}
	// root, alice, bob, carol, dave; the project bot stays out.
	status, b, h := e.Do(t, "GET", "/api/v4/users?per_page=2&page=2", nil, tok(f.alice))
	var page []struct{ Username string }
	if status != 200 || json.Unmarshal(b, &page) != nil {
		t.Fatalf("/users page 2: %d %s", status, b)
	}
	if h.Get("X-Total") != "5" || h.Get("X-Total-Pages") != "3" || h.Get("X-Page") != "2" || h.Get("X-Per-Page") != "2" ||
		h.Get("X-Next-Page") != "3" || h.Get("X-Prev-Page") != "1" || !strings.Contains(h.Get("Link"), `rel="next"`) {
		t.Errorf("/users pagination headers: %v", h)
	}
	if fmt.Sprint(page) != "[{bob} {alice}]" {
		t.Errorf("/users page 2 (newest first): %v", page)
	}
	if status, _, body := guGet(t, e, f.alice, "/api/v4/users?per_page=lots"); status != 400 || !strings.Contains(body, "per_page is invalid") {
		t.Errorf("/users?per_page=lots: %d %s, want 400", status, body)
	}
	guNotACredential(t, f, "/api/v4/users?username=alice")
}

func TestGitLabVersionMetadata(t *testing.T) {
	f := newGUFixture(t)
	for _, path := range []string{"/api/v4/version", "/api/v4/metadata"} {
		status, v, body := guGet(t, f.e, f.alice, path)
		if status != 200 {
			t.Fatalf("%s: %d %s", path, status, body)
		}
		m := v.(map[string]any)
		kas, _ := m["kas"].(map[string]any)
		if s, _ := m["version"].(string); s == "" || m["revision"] == "" || m["revision"] == nil || m["enterprise"] != false ||
			kas == nil || kas["enabled"] != false {
			t.Errorf("%s: %s", path, body)
		}
		guNotACredential(t, f, path)
	}
}

func TestGitLabTokenSelf(t *testing.T) {
	f := newGUFixture(t)
	e := f.e
	status, v, body := guGet(t, e, f.aliceWithExpiry, "/api/v4/personal_access_tokens/self")
	if status != 200 {
		t.Fatalf("/personal_access_tokens/self: %d %s", status, body)
	}
	m := v.(map[string]any)
	if m["id"] != float64(f.aliceTokenID) || m["name"] != "ci check" || m["revoked"] != false || m["active"] != true ||
		fmt.Sprint(m["scopes"]) != "[read_api write_package_registry]" || m["expires_at"] != f.aliceTokenExpires.Format("2006-01-02") {
		t.Fatalf("/personal_access_tokens/self: %s", body)
	}
	for _, k := range []string{"created_at", "user_id", "last_used_at"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q: %s", k, body)
		}
	}
	if strings.Contains(body, f.aliceWithExpiry) || strings.Contains(body, "glpat-") || strings.Contains(body, "digest") {
		t.Fatalf("the token's secret or digest is in the answer: %s", body)
	}
	// Any scope may check itself: CI tooling checks package-only tokens.
	if status, v, body := guGet(t, e, f.alicePkg, "/api/v4/personal_access_tokens/self"); status != 200 ||
		fmt.Sprint(v.(map[string]any)["scopes"]) != "[read_package_registry]" || v.(map[string]any)["expires_at"] != nil {
		t.Errorf("self with a read_package_registry token: %d %s", status, body)
	}
	if status, v, body := guGet(t, e, f.project, "/api/v4/personal_access_tokens/self"); status != 200 || v.(map[string]any)["name"] != "client-go" {
		t.Errorf("self with a project access token: %d %s", status, body)
	}
	guNotACredential(t, f, "/api/v4/personal_access_tokens/self")
	// Revoked, it is no credential at all.
	e.MustGraphQL(t, f.alice, `mutation($id: ID!) { revokeToken(input: {id: $id}) { errors } }`,
		map[string]any{"id": fmt.Sprintf("gid://registry/AccessToken/%d", f.aliceTokenID)})
	if status, _, body := guGet(t, e, f.aliceWithExpiry, "/api/v4/personal_access_tokens/self"); status != 401 {
		t.Errorf("self with a revoked token: %d %s, want 401", status, body)
	}
}

// TestGitLabUsersClientGo: GitLab's Go client parses these answers into
// its types (dates included) without error.
func TestGitLabUsersClientGo(t *testing.T) {
	f := newGUFixture(t)
	c := cgClient(t, f.e, f.aliceWithExpiry)
	u, _, err := c.Users.CurrentUser()
	if err != nil || u.Username != "alice" || u.Email != "alice@example.com" || u.State != "active" || u.CreatedAt == nil {
		t.Fatalf("CurrentUser: %+v, %v", u, err)
	}
	v, _, err := c.Version.GetVersion()
	if err != nil || v.Version == "" || v.Revision == "" {
		t.Fatalf("GetVersion: %+v, %v", v, err)
	}
	md, _, err := c.Metadata.GetMetadata()
	if err != nil || md.Enterprise || md.KAS.Enabled || md.Version != v.Version {
		t.Fatalf("GetMetadata: %+v, %v", md, err)
	}
	pat, _, err := c.PersonalAccessTokens.GetSinglePersonalAccessToken()
	if err != nil || pat.Name != "ci check" || !pat.Active || pat.Revoked || pat.ExpiresAt == nil ||
		time.Time(*pat.ExpiresAt).Format("2006-01-02") != f.aliceTokenExpires.Format("2006-01-02") || pat.UserID != u.ID {
		t.Fatalf("GetSinglePersonalAccessToken: %+v, %v", pat, err)
	}
	users, resp, err := cgClient(t, f.e, f.alice).Users.ListUsers(&gitlab.ListUsersOptions{Username: gitlab.Ptr("alice")})
	if err != nil || len(users) != 1 || users[0].ID != u.ID || resp.TotalItems != 1 {
		t.Fatalf("ListUsers: %+v, %v", users, err)
	}
	if _, resp, err := cgClient(t, f.e, "glpat-not-a-real-token-000000").Users.CurrentUser(); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("CurrentUser with a wrong token: %v", err)
	}
}

// TestGitLabUsersPythonGitlab runs python-gitlab (Debian's python3-gitlab),
// whose gl.auth() is the first line of most scripts.
func TestGitLabUsersPythonGitlab(t *testing.T) {
	if exec.Command("/usr/bin/python3", "-c", "import gitlab").Run() != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3-gitlab is not installed, and CI requires it")
		}
		t.Skip("python3-gitlab is not installed (apt-get install python3-gitlab); CI requires it")
	}
	f := newGUFixture(t)
	script := `
import sys, gitlab
gl = gitlab.Gitlab(sys.argv[1], private_token=sys.argv[2])
gl.auth()
print(gl.user.username, gl.user.email)
version, revision = gl.version()
print(version, revision)
try:
    gitlab.Gitlab(sys.argv[1], private_token="glpat-not-a-real-token-000000").auth()
    print("wrong token accepted")
except gitlab.exceptions.GitlabAuthenticationError as e:
    print(e.response_code)
`
	_, v, _ := guGet(t, f.e, f.alice, "/api/v4/version")
	want := fmt.Sprintf("alice alice@example.com\n%s %s\n401\n", v.(map[string]any)["version"], v.(map[string]any)["revision"])
	out, err := exec.Command("/usr/bin/python3", "-c", script, f.e.URL, f.alice).CombinedOutput()
	if err != nil || string(out) != want {
		t.Fatalf("python-gitlab: %v\n%s", err, out)
	}
}
