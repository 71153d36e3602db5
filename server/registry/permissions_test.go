package registry_test

import (
	"testing"
	"time"

	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/servertest"
)

// TestPackagePermissionMatrix checks, through the real service and a real
// database, what every kind of caller may do with packages of projects of
// every visibility: the rules that every format's endpoints rely on.
func TestPackagePermissionMatrix(t *testing.T) {
	e := servertest.New(t)
	svc := e.Server.Service
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "INTERNAL")
	e.CreateProject(t, alice, "acme", "priv", "PRIVATE")
	e.CreateProject(t, alice, "acme", "int", "INTERNAL")
	e.CreateProject(t, alice, "acme", "off", "PRIVATE")
	e.MustGraphQL(t, alice, `mutation { updateProject(input: {fullPath: "acme/off", packagesEnabled: false}) { errors } }`, nil)
	e.CreateGroup(t, alice, "", "pubg", "PUBLIC")
	e.CreateProject(t, alice, "pubg", "pub", "PUBLIC")

	tokens := map[string]string{"alice": alice, "root": servertest.RootToken, "anonymous": ""}
	for user, level := range map[string]string{"rita": "REPORTER", "dev": "DEVELOPER", "gus": "GUEST", "oscar": ""} {
		tokens[user] = e.CreateUser(t, user)
		if level != "" {
			e.AddMember(t, alice, "acme", user, level)
		}
	}
	tokens["maint"] = e.CreateUser(t, "maint")
	e.AddMember(t, alice, "acme/priv", "maint", "MAINTAINER")
	tokens["rita-read-pkg"] = e.CreateToken(t, servertest.RootToken, "rita", "READ_PACKAGE_REGISTRY")
	tokens["dev-read-api"] = e.CreateToken(t, servertest.RootToken, "dev", "READ_API")
	tokens["dev-write-pkg"] = e.CreateToken(t, servertest.RootToken, "dev", "WRITE_PACKAGE_REGISTRY")
	secret := func(q, field string) string {
		var out map[string]struct{ Token string }
		e.MustGraphQL(t, alice, q, nil).Decode(t, &out)
		return out[field].Token
	}
	tokens["deploy-priv-read"] = secret(`mutation { createDeployToken(input: {fullPath: "acme/priv", name: "d", scopes: [READ_PACKAGE_REGISTRY]}) { token errors } }`, "createDeployToken")
	tokens["deploy-acme-rw"] = secret(`mutation { createDeployToken(input: {fullPath: "acme", name: "d", scopes: [READ_PACKAGE_REGISTRY, WRITE_PACKAGE_REGISTRY]}) { token errors } }`, "createDeployToken")
	tokens["project-priv-dev"] = secret(`mutation { createProjectAccessToken(input: {projectPath: "acme/priv", name: "p", scopes: [API], accessLevel: DEVELOPER}) { token errors } }`, "createProjectAccessToken")
	var job struct{ CreateJobToken struct{ Token string } }
	e.MustGraphQL(t, tokens["dev"], `mutation { createJobToken(input: {projectPath: "acme/priv", expiresIn: 3600}) { token errors } }`, nil).Decode(t, &job)
	tokens["job-priv"] = job.CreateJobToken.Token

	const ok = registry.Kind(-1)
	nf, forbidden, unauth := registry.KindNotFound, registry.KindForbidden, registry.KindUnauthenticated
	cases := []struct {
		who, project     string
		read, write, del registry.Kind
	}{
		{"root", "acme/priv", ok, ok, ok},
		{"alice", "acme/priv", ok, ok, ok},
		{"maint", "acme/priv", ok, ok, ok},
		{"dev", "acme/priv", ok, ok, forbidden},
		{"rita", "acme/priv", ok, forbidden, forbidden},
		{"gus", "acme/priv", ok, forbidden, forbidden},
		{"oscar", "acme/priv", nf, nf, nf},
		{"anonymous", "acme/priv", nf, nf, nf},
		{"oscar", "acme/int", ok, forbidden, forbidden},
		{"anonymous", "acme/int", nf, nf, nf},
		{"anonymous", "pubg/pub", ok, unauth, unauth},
		{"oscar", "pubg/pub", ok, forbidden, forbidden},
		{"alice", "acme/off", forbidden, forbidden, ok},
		{"rita-read-pkg", "acme/priv", ok, forbidden, forbidden},
		{"dev-read-api", "acme/priv", ok, forbidden, forbidden},
		{"dev-write-pkg", "acme/priv", forbidden, ok, forbidden},
		{"deploy-priv-read", "acme/priv", ok, forbidden, forbidden},
		{"deploy-priv-read", "acme/int", nf, nf, nf},
		{"deploy-priv-read", "pubg/pub", ok, forbidden, forbidden},
		{"deploy-acme-rw", "acme/priv", ok, ok, ok},
		{"deploy-acme-rw", "acme/int", ok, ok, ok},
		{"project-priv-dev", "acme/priv", ok, ok, forbidden},
		{"project-priv-dev", "acme/int", nf, nf, nf},
		{"job-priv", "acme/priv", ok, ok, forbidden},
		{"job-priv", "acme/int", nf, nf, nf},
	}
	for _, c := range cases {
		t.Run(c.who+" on "+c.project, func(t *testing.T) {
			p := registry.Anonymous
			if tok := tokens[c.who]; tok != "" {
				var err error
				if p, err = svc.Tokens.Authenticate(t.Context(), tok); err != nil {
					t.Fatalf("authenticate: %v", err)
				}
			}
			check := func(op string, want registry.Kind, can func(*registry.Principal, *registry.ProjectAccess) error) {
				pa, err := svc.Project(t.Context(), p, c.project)
				if err == nil {
					err = can(p, pa)
				}
				got := ok
				if err != nil {
					got = registry.KindOf(err)
				}
				if got != want {
					t.Errorf("%s: got %v (%v), want %v", op, got, err, want)
				}
			}
			check("read", c.read, svc.CanReadPackages)
			check("write", c.write, svc.CanWritePackages)
			check("delete", c.del, svc.CanDeletePackages)
		})
	}

	t.Run("a job token dies with its expiry", func(t *testing.T) {
		e.Clock.Advance(time.Hour + time.Second)
		if _, err := svc.Tokens.Authenticate(t.Context(), tokens["job-priv"]); registry.KindOf(err) != registry.KindUnauthenticated {
			t.Fatalf("expired job token: %v", err)
		}
	})
}
