package server_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/servertest"
)

// TestGitLabDocsExamples runs every curl and wget example of GitLab's
// generic packages documentation (tools/gitlab-docs-examples.sh) against a
// registry, with each kind of token the documentation uses.
func TestGitLabDocsExamples(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed, and CI=true requires it", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	for _, tool := range []string{"wget", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			// The script skips these examples, or fails them under CI=true.
			t.Logf("%s is not installed: the examples that use it are skipped (a failure under CI=true)", tool)
		}
	}
	script, err := filepath.Abs(filepath.Join("..", "tools", "gitlab-docs-examples.sh"))
	if err != nil {
		t.Fatal(err)
	}

	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	bob := e.CreateUser(t, "bob")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	pid := e.CreateProject(t, alice, "acme", "tools", "PRIVATE")
	e.AddMember(t, alice, "acme/tools", "bob", "DEVELOPER")
	deployToken, deployUser := cgDeployToken(t, e, alice, "acme/tools", "READ_PACKAGE_REGISTRY", "WRITE_PACKAGE_REGISTRY")
	jobToken := cgJobToken(t, e, bob, "acme/tools")
	projectToken := cgProjectAccessToken(t, e, alice, "acme/tools", "DEVELOPER")

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(),
		"REGISTRY_URL="+e.URL,
		fmt.Sprintf("PROJECT_ID=%d", pid),
		"PROJECT_PATH=acme/tools",
		"PERSONAL_TOKEN="+bob, // a DEVELOPER, as the documentation suggests
		"PROJECT_TOKEN="+projectToken,
		"DEPLOY_TOKEN="+deployToken,
		"DEPLOY_USER="+deployUser,
		"JOB_TOKEN="+jobToken,
		// Loopback must never go through a proxy from the environment.
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
		"TMPDIR="+t.TempDir(),
	)
	out, err := cmd.CombinedOutput()
	t.Logf("bash tools/gitlab-docs-examples.sh (%s):\n%s", servertest.Backends(), out)
	if err != nil {
		t.Fatalf("tools/gitlab-docs-examples.sh failed (%v):\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	m := regexp.MustCompile(`^(\d+) passed, (\d+) failed$`).FindStringSubmatch(lines[len(lines)-1])
	if m == nil || m[2] != "0" {
		t.Fatalf("the script's last line is not \"N passed, 0 failed\":\n%s", out)
	}
	var oks, fails int
	for _, l := range lines[:len(lines)-1] {
		switch {
		case strings.HasPrefix(l, "ok "):
			oks++
		case strings.HasPrefix(l, "FAIL "):
			fails++
		case strings.HasPrefix(l, "skip "):
			// Only examples needing a missing wget or jq may be skipped.
			if !strings.Contains(l, ": wget is not installed") && !strings.Contains(l, ": jq is not installed") {
				t.Errorf("example skipped: %s", l)
			}
		default:
			t.Errorf("unexpected output line: %q", l)
		}
	}
	if fmt.Sprint(oks) != m[1] || fails != 0 {
		t.Fatalf("%d ok and %d FAIL lines, but the summary says %q:\n%s", oks, fails, lines[len(lines)-1], out)
	}
	// Every curl example ran (wget and jq ones may have been skipped).
	if oks < 30 {
		t.Fatalf("only %d examples passed; expected at least 30:\n%s", oks, out)
	}
}
