package servertest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/pkgreg/registry/server/servertest"
)

// TestCIRequiresProductionBackends checks that CI=true turns a missing
// PostgreSQL or MinIO setting into a failure instead of a run on the
// embedded defaults. It runs NewConfig in a child test process with the
// environment under test.
func TestCIRequiresProductionBackends(t *testing.T) {
	if os.Getenv("SERVERTEST_CHILD") == "1" {
		servertest.NewConfig(t)
		return
	}
	for _, c := range []struct {
		name, missing string
		env           []string
	}{
		{"no PostgreSQL", "REGISTRY_TEST_POSTGRES_URL", []string{"REGISTRY_TEST_S3_ENDPOINT=127.0.0.1:1"}},
		// An unreachable PostgreSQL URL: the check must come before any use.
		{"no MinIO", "REGISTRY_TEST_S3_ENDPOINT", []string{"REGISTRY_TEST_POSTGRES_URL=postgres://nobody@127.0.0.1:1/x"}},
		{"neither", "REGISTRY_TEST_POSTGRES_URL", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestCIRequiresProductionBackends$", "-test.count=1")
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "REGISTRY_TEST_") && !strings.HasPrefix(kv, "CI=") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			cmd.Env = append(append(cmd.Env, "SERVERTEST_CHILD=1", "CI=true"), c.env...)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), "CI=true requires "+c.missing) {
				t.Fatalf("CI=true without %s: %v\n%s", c.missing, err, out)
			}
		})
	}
	// Without CI the embedded defaults are fine.
	cmd := exec.Command(os.Args[0], "-test.run=^TestCIRequiresProductionBackends$", "-test.count=1")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_TEST_") && !strings.HasPrefix(kv, "CI=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "SERVERTEST_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("without CI: %v\n%s", err, out)
	}
}
