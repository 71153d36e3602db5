package registry_test

import (
	"testing"

	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
	"github.com/pkgreg/registry/server/servertest"
)

// TestJobTokenIsCappedAtDeveloper checks GitLab's rule that a CI job token
// acts with its user's role but never above DEVELOPER, so a pipeline run by
// a MAINTAINER or OWNER gets a developer's rights on the project. Every
// other test mints job tokens for developers, where the cap changes nothing.
// (Today a job token's scopes alone also keep it from MAINTAINER actions;
// the cap is what still holds when a scope or a rule changes.)
func TestJobTokenIsCappedAtDeveloper(t *testing.T) {
	e := servertest.New(t)
	svc := e.Server.Service
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	e.CreateProject(t, alice, "acme", "tools", "PRIVATE")
	mia := e.CreateUser(t, "mia")
	e.AddMember(t, alice, "acme", "mia", "MAINTAINER")
	for who, token := range map[string]string{"OWNER": alice, "MAINTAINER": mia} {
		t.Run(who, func(t *testing.T) {
			var job struct{ CreateJobToken struct{ Token string } }
			e.MustGraphQL(t, token, `mutation { createJobToken(input: {projectPath: "acme/tools", expiresIn: 3600}) { token errors } }`, nil).Decode(t, &job)
			p, err := svc.Tokens.Authenticate(t.Context(), job.CreateJobToken.Token)
			if err != nil {
				t.Fatalf("authenticate: %v", err)
			}
			pa, err := svc.Project(t.Context(), p, "acme/tools")
			if err != nil {
				t.Fatalf("project: %v", err)
			}
			if pa.Level != enum.Developer {
				t.Fatalf("an %s's job token acts as %v, want DEVELOPER", who, pa.Level)
			}
			if err := svc.CanWritePackages(p, pa); err != nil {
				t.Fatalf("publishing: %v", err)
			}
			if err := svc.CanDeletePackages(p, pa); registry.KindOf(err) != registry.KindForbidden {
				t.Fatalf("deleting packages: %v, want forbidden", err)
			}
			// The user's own token keeps the user's role.
			up, err := svc.Tokens.Authenticate(t.Context(), token)
			if err != nil {
				t.Fatal(err)
			}
			if upa, err := svc.Project(t.Context(), up, "acme/tools"); err != nil || upa.Level <= enum.Developer {
				t.Fatalf("%s's personal token: %v %v", who, upa, err)
			}
		})
	}
}
