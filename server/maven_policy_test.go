package server_test

import (
	"testing"

	"github.com/pkgreg/registry/server/servertest"
)

// TestMavenVersionPolicyEnforced: a STANDARD Maven project's version
// policy decides what a deploy may publish. RELEASE refuses SNAPSHOT
// versions (and their timestamped files), SNAPSHOT refuses releases; the
// refusal is a 400 that names the policy and stores nothing, and the
// versions the policy accepts deploy as before.
func TestMavenVersionPolicyEnforced(t *testing.T) {
	e, m := newMavenProject(t)
	setPolicy := func(value string) {
		t.Helper()
		errs := payloadErrors(t, e.GraphQL(t, m.token, `mutation { updateProject(input: {fullPath: "acme/libs", versionPolicy: `+value+`}) { project { versionPolicy } errors } }`, nil), "updateProject")
		if len(errs) != 0 {
			t.Fatalf("versionPolicy %s: %q", value, errs)
		}
	}
	put := func(name, path, says string) servertest.BadRequest {
		return servertest.BadRequest{Name: name, Method: "PUT", Path: m.url(path), Body: []byte("<project/>"), Header: tok(m.token), Status: 400, Message: says}
	}

	setPolicy("RELEASE")
	m.deploy("com/example/my-app/1.0/my-app-1.0.pom", []byte("<project>1.0</project>"))
	e.RefusesAndStoresNothing(t, []servertest.BadRequest{
		put("SNAPSHOT version into RELEASE", "com/example/my-app/1.1-SNAPSHOT/my-app-1.1-20261201.120000-1.pom", "version policy RELEASE"),
		put("its metadata-less SNAPSHOT name", "com/example/my-app/1.1-SNAPSHOT/my-app-1.1-SNAPSHOT.pom", "version policy RELEASE"),
	})

	setPolicy("SNAPSHOT")
	m.deploy("com/example/my-app/1.1-SNAPSHOT/my-app-1.1-20261201.120000-1.pom", []byte("<project>1.1</project>"))
	e.RefusesAndStoresNothing(t, []servertest.BadRequest{
		put("release into SNAPSHOT", "com/example/my-app/1.2/my-app-1.2.pom", "version policy SNAPSHOT"),
	})

	setPolicy("null")
	m.deploy("com/example/my-app/1.2/my-app-1.2.pom", []byte("<project>1.2</project>"))
	m.deploy("com/example/my-app/1.3-SNAPSHOT/my-app-1.3-20261201.120000-1.pom", []byte("<project>1.3</project>"))
	if got := m.metadata("com/example/my-app").Versioning.Versions; len(got) != 4 {
		t.Fatalf("versions after the policy was cleared: %q, want 1.0, 1.1-SNAPSHOT, 1.2, 1.3-SNAPSHOT", got)
	}
}
