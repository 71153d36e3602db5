package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pkgreg/registry/server/servertest"
)

// TestVersionPolicySetting covers a Maven project's version policy as a
// project setting: set, read and cleared through GraphQL on a STANDARD
// Maven project; refused on a VIRTUAL one (the mission's rule), a REMOTE
// one and projects of other formats; refused for a developer.
func TestVersionPolicySetting(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	dev := e.CreateUser(t, "dev")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	e.AddMember(t, alice, "acme", "dev", "DEVELOPER")
	e.CreateProjectWith(t, alice, servertest.Project{Namespace: "acme", Path: "libs", Format: "MAVEN"})
	e.CreateProjectWith(t, alice, servertest.Project{Namespace: "acme", Path: "plain"})
	e.CreateProjectWith(t, alice, servertest.Project{Namespace: "acme", Path: "npm", Format: "NPM"})
	e.CreateRemoteProject(t, alice, "acme", "central", "MAVEN", "http://127.0.0.1:1/maven2")
	e.CreateVirtualProject(t, alice, "acme", "all", "MAVEN", servertest.Upstream{ID: "libs", Path: "acme/libs", Priority: 10})

	// policy reads a project's versionPolicy ("" for null).
	policy := func(path string) string {
		t.Helper()
		var out struct {
			Project struct{ VersionPolicy *string }
		}
		e.MustGraphQL(t, alice, `query($p: ID!) { project(fullPath: $p) { versionPolicy } }`, map[string]any{"p": path}).Decode(t, &out)
		if out.Project.VersionPolicy == nil {
			return ""
		}
		return *out.Project.VersionPolicy
	}
	// update sends updateProject with the given input fields (a JSON
	// object's members, so that null and absence can be told apart).
	update := func(token, path, fields string) *servertest.GQLResponse {
		t.Helper()
		return e.GraphQL(t, token, `mutation { updateProject(input: {fullPath: "`+path+`"`+fields+`}) { project { versionPolicy } errors } }`, nil)
	}
	refused := func(path, value, want string) {
		t.Helper()
		before := policy(path)
		errs := payloadErrors(t, update(alice, path, ", versionPolicy: "+value), "updateProject")
		if len(errs) != 1 || !strings.Contains(errs[0], want) {
			t.Fatalf("%s: versionPolicy %s: errors %q, want one containing %q", path, value, errs, want)
		}
		if got := policy(path); got != before {
			t.Fatalf("%s: a refused update changed the policy from %q to %q", path, before, got)
		}
	}

	t.Run("set, read, keep and clear on a STANDARD Maven project", func(t *testing.T) {
		if got := policy("acme/libs"); got != "" {
			t.Fatalf("new project: policy %q, want none", got)
		}
		for _, v := range []string{"RELEASE", "SNAPSHOT"} {
			r := update(alice, "acme/libs", ", versionPolicy: "+v)
			if errs := payloadErrors(t, r, "updateProject"); len(errs) > 0 || !strings.Contains(string(r.Data), `"versionPolicy":"`+v+`"`) {
				t.Fatalf("set %s: %s %v", v, r.Data, errs)
			}
			if got := policy("acme/libs"); got != v {
				t.Fatalf("after setting %s: %q", v, got)
			}
		}
		// Other settings leave it alone; an absent field keeps it.
		if errs := payloadErrors(t, update(alice, "acme/libs", `, description: "jars"`), "updateProject"); len(errs) > 0 {
			t.Fatalf("description: %v", errs)
		}
		if got := policy("acme/libs"); got != "SNAPSHOT" {
			t.Fatalf("an update without versionPolicy changed it to %q", got)
		}
		// Through a variable too: null clears.
		r := e.GraphQL(t, alice, `mutation($v: VersionPolicy) { updateProject(input: {fullPath: "acme/libs", versionPolicy: $v}) { project { versionPolicy } errors } }`,
			map[string]any{"v": nil})
		if errs := payloadErrors(t, r, "updateProject"); len(errs) > 0 || !strings.Contains(string(r.Data), `"versionPolicy":null`) {
			t.Fatalf("clear: %s %v", r.Data, errs)
		}
		if got := policy("acme/libs"); got != "" {
			t.Fatalf("after clearing: %q", got)
		}
		if errs := payloadErrors(t, update(alice, "acme/libs", ", versionPolicy: RELEASE"), "updateProject"); len(errs) > 0 {
			t.Fatalf("set again: %v", errs)
		}
		if errs := payloadErrors(t, update(alice, "acme/libs", ", versionPolicy: null"), "updateProject"); len(errs) > 0 {
			t.Fatalf("clear with a literal null: %v", errs)
		}
		if got := policy("acme/libs"); got != "" {
			t.Fatalf("after clearing with a literal null: %q", got)
		}
		if r := update(alice, "acme/libs", ", versionPolicy: NIGHTLY"); len(r.Errors) == 0 {
			t.Fatalf("an unknown policy was accepted: %s", r.Data)
		}
	})

	t.Run("refused on VIRTUAL, REMOTE and non-Maven projects", func(t *testing.T) {
		refused("acme/all", "RELEASE", "a Maven virtual repository has no version policy and serves whatever its upstreams hold")
		refused("acme/all", "SNAPSHOT", "VIRTUAL")
		refused("acme/central", "RELEASE", "REMOTE")
		refused("acme/npm", "RELEASE", "format MAVEN")
		refused("acme/npm", "RELEASE", "NPM")
		refused("acme/plain", "SNAPSHOT", "format MAVEN")
	})

	t.Run("refused for a developer", func(t *testing.T) {
		r := update(dev, "acme/libs", ", versionPolicy: RELEASE")
		if r.Code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "MAINTAINER") {
			t.Fatalf("developer: %d %+v %s", r.Status, r.Errors, r.Data)
		}
		if got := policy("acme/libs"); got != "" {
			t.Fatalf("a developer's refused update set the policy to %q", got)
		}
	})

	t.Run("createProject with a version policy", func(t *testing.T) {
		create := func(fields string) *servertest.GQLResponse {
			t.Helper()
			return e.GraphQL(t, alice, `mutation { createProject(input: {namespacePath: "acme"`+fields+`}) { project { fullPath versionPolicy } errors } }`, nil)
		}
		r := create(`, path: "releases", format: MAVEN, versionPolicy: RELEASE`)
		if errs := payloadErrors(t, r, "createProject"); len(errs) > 0 {
			t.Fatalf("create: %v", errs)
		}
		var out struct {
			CreateProject struct {
				Project struct{ FullPath, VersionPolicy string }
			} `json:"createProject"`
		}
		r.Decode(t, &out)
		if p := out.CreateProject.Project; p.FullPath != "acme/releases" || p.VersionPolicy != "RELEASE" || policy("acme/releases") != "RELEASE" {
			t.Fatalf("created: %+v, read back %q", p, policy("acme/releases"))
		}
		for _, c := range []struct{ fields, want string }{
			{`, path: "v", repositoryMode: VIRTUAL, format: MAVEN, versionPolicy: SNAPSHOT`, "a Maven virtual repository has no version policy"},
			{`, path: "r", repositoryMode: REMOTE, format: MAVEN, remoteUrl: "http://127.0.0.1:1/m", versionPolicy: RELEASE`, "REMOTE"},
			{`, path: "p", format: PYPI, versionPolicy: RELEASE`, "PYPI"},
			{`, path: "n", versionPolicy: RELEASE`, "format MAVEN"},
		} {
			r := create(c.fields)
			errs := payloadErrors(t, r, "createProject")
			if len(errs) != 1 || !strings.Contains(errs[0], c.want) {
				t.Fatalf("create with %s: errors %q, want %q", c.fields, errs, c.want)
			}
			var got struct{ Project *json.RawMessage }
			e.MustGraphQL(t, alice, `query { project(fullPath: "acme/`+strings.Split(c.fields, `"`)[1]+`") { id } }`, nil).Decode(t, &got)
			if got.Project != nil {
				t.Fatalf("create with %s: the project exists after the refusal", c.fields)
			}
		}
	})
}
