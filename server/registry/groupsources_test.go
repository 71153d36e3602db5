package registry_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
	"github.com/pkgreg/registry/server/servertest"
)

// TestGroupReadSources checks, through the real service and a real
// database, which projects a group-level read looks in and in what order:
// only projects the caller may read packages in (a private subgroup's
// project is invisible to a non-member and visible to a member), of the
// format or of none, with packages enabled, newest first, STANDARD before
// REMOTE, no VIRTUAL ones; invisible groups are not found as projects are.
func TestGroupReadSources(t *testing.T) {
	e := servertest.New(t)
	svc := e.Server.Service
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PUBLIC")
	e.CreateGroup(t, alice, "acme", "secret", "PRIVATE")
	e.CreateGroup(t, alice, "", "hidden", "PRIVATE")
	mk := func(p servertest.Project) { e.CreateProjectWith(t, alice, p) }
	// In creation order (oldest first).
	mk(servertest.Project{Namespace: "acme", Path: "old", Format: "MAVEN", Visibility: "PUBLIC"})
	mk(servertest.Project{Namespace: "acme", Path: "plain", Visibility: "INTERNAL"})
	mk(servertest.Project{Namespace: "acme", Path: "npm", Format: "NPM", Visibility: "PUBLIC"})
	mk(servertest.Project{Namespace: "acme", Path: "off", Format: "MAVEN", Visibility: "PUBLIC"})
	e.MustGraphQL(t, alice, `mutation { updateProject(input: {fullPath: "acme/off", packagesEnabled: false}) { errors } }`, nil)
	mk(servertest.Project{Namespace: "acme", Path: "central", Mode: "REMOTE", Format: "MAVEN", Visibility: "PUBLIC", RemoteURL: "http://127.0.0.1:1/maven2"})
	mk(servertest.Project{Namespace: "acme", Path: "all", Mode: "VIRTUAL", Format: "MAVEN", Visibility: "PUBLIC"})
	e.SetUpstreams(t, alice, "acme/all", servertest.Upstream{ID: "old", Path: "acme/old", Priority: 1})
	mk(servertest.Project{Namespace: "acme/secret", Path: "lib", Format: "MAVEN", Visibility: "PRIVATE"})
	mk(servertest.Project{Namespace: "acme", Path: "mine", Format: "MAVEN", Visibility: "PRIVATE"})
	mk(servertest.Project{Namespace: "acme", Path: "new", Format: "MAVEN", Visibility: "PUBLIC"})
	mk(servertest.Project{Namespace: "hidden", Path: "x", Format: "MAVEN", Visibility: "PRIVATE"})

	tokens := map[string]string{"alice": alice, "anonymous": ""}
	for _, u := range []string{"oscar", "bob", "carol", "dave"} {
		tokens[u] = e.CreateUser(t, u)
	}
	e.AddMember(t, alice, "acme/secret", "bob", "GUEST")          // a role on the subgroup
	e.AddMember(t, alice, "acme/secret/lib", "carol", "REPORTER") // a role on the project alone
	e.AddMember(t, alice, "acme/mine", "dave", "DEVELOPER")
	tokens["dave-write-only"] = e.CreateToken(t, servertest.RootToken, "dave", "WRITE_PACKAGE_REGISTRY")
	var deploy struct{ CreateDeployToken struct{ Token string } }
	e.MustGraphQL(t, alice, `mutation { createDeployToken(input: {fullPath: "acme/secret", name: "d", scopes: [READ_PACKAGE_REGISTRY]}) { token errors } }`, nil).Decode(t, &deploy)
	tokens["deploy-secret"] = deploy.CreateDeployToken.Token

	principal := func(who string) *registry.Principal {
		t.Helper()
		if tokens[who] == "" {
			return registry.Anonymous
		}
		p, err := svc.Tokens.Authenticate(t.Context(), tokens[who])
		if err != nil {
			t.Fatalf("authenticate %s: %v", who, err)
		}
		return p
	}
	sources := func(who, group string, format enum.Format) ([]string, error) {
		t.Helper()
		srcs, err := svc.GroupReadSources(t.Context(), principal(who), group, format)
		var paths []string
		for _, s := range srcs {
			if s.Priority != 0 || s.PolicyID != "" {
				t.Errorf("%s: source %s has priority %d, policy %q", who, s.Project.FullPath, s.Priority, s.PolicyID)
			}
			paths = append(paths, s.Project.FullPath)
		}
		return paths, err
	}

	public := []string{"acme/new", "acme/old", "acme/central"}
	internal := []string{"acme/new", "acme/plain", "acme/old", "acme/central"}
	cases := []struct {
		who  string
		want []string
	}{
		{"alice", []string{"acme/new", "acme/mine", "acme/secret/lib", "acme/plain", "acme/old", "acme/central"}},
		{"anonymous", public},
		{"oscar", internal},
		{"bob", []string{"acme/new", "acme/secret/lib", "acme/plain", "acme/old", "acme/central"}},
		{"carol", []string{"acme/new", "acme/secret/lib", "acme/plain", "acme/old", "acme/central"}},
		{"dave", []string{"acme/new", "acme/mine", "acme/plain", "acme/old", "acme/central"}},
		// A deploy token of the subgroup reads the subgroup's project, and
		// what is public; INTERNAL projects need a person.
		{"deploy-secret", []string{"acme/new", "acme/secret/lib", "acme/old", "acme/central"}},
	}
	for _, c := range cases {
		got, err := sources(c.who, "acme", enum.Maven)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s reading acme: %v (%v), want %v", c.who, got, err, c.want)
		}
	}

	t.Run("the group by numeric id, and a subgroup", func(t *testing.T) {
		na, err := svc.Namespace(t.Context(), principal("alice"), "acme")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := sources("oscar", strconv.Itoa(na.Namespace.ID), enum.Maven); err != nil || !slices.Equal(got, internal) {
			t.Errorf("by id: %v (%v)", got, err)
		}
		if got, err := sources("bob", "acme/secret", enum.Maven); err != nil || !slices.Equal(got, []string{"acme/secret/lib"}) {
			t.Errorf("the subgroup, for a member: %v (%v)", got, err)
		}
	})

	t.Run("other formats", func(t *testing.T) {
		if got, err := sources("alice", "acme", enum.PyPI); err != nil || !slices.Equal(got, []string{"acme/plain"}) {
			t.Errorf("PYPI: %v (%v), want only the project without a format", got, err)
		}
		if got, err := sources("alice", "acme", enum.NPM); err != nil || !slices.Equal(got, []string{"acme/npm", "acme/plain"}) {
			t.Errorf("NPM: %v (%v)", got, err)
		}
	})

	t.Run("invisible groups are not found, as projects are", func(t *testing.T) {
		for _, c := range []struct{ who, group string }{
			{"oscar", "acme/secret"}, {"anonymous", "acme/secret"}, {"carol", "acme/secret"},
			{"oscar", "hidden"}, {"anonymous", "hidden"}, {"alice", "nope"}, {"alice", "acme/new"}, {"alice", "999999"},
		} {
			got, err := sources(c.who, c.group, enum.Maven)
			if !registry.IsProjectNotFound(err) || registry.KindOf(err) != registry.KindNotFound || len(got) > 0 {
				t.Errorf("%s reading %s: %v (%v), want not found", c.who, c.group, got, err)
			}
		}
		if _, err := sources("dave-write-only", "acme", enum.Maven); registry.KindOf(err) != registry.KindForbidden {
			t.Errorf("a write-only token: %v, want forbidden", err)
		}
	})

	t.Run("at most MaxGroupReadSources projects, the newest", func(t *testing.T) {
		e.CreateGroup(t, alice, "", "many", "PRIVATE")
		n := registry.MaxGroupReadSources + 2
		for i := range n {
			mk(servertest.Project{Namespace: "many", Path: fmt.Sprintf("p%03d", i), Format: "MAVEN"})
		}
		got, err := sources("alice", "many", enum.Maven)
		if err != nil || len(got) != registry.MaxGroupReadSources {
			t.Fatalf("%d sources (%v), want %d", len(got), err, registry.MaxGroupReadSources)
		}
		if first, last := got[0], got[len(got)-1]; first != fmt.Sprintf("many/p%03d", n-1) || last != "many/p002" ||
			!slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Errorf("not the newest, newest first: %s ... %s", first, last)
		}
	})
}
