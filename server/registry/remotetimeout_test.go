package registry_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/servertest"
)

// TestRemoteUpstreamTimeoutIs504 checks that an upstream that accepts the
// connection but never answers makes a REMOTE read fail with 504 (not 502:
// the client may retry later), caches nothing, and marks the upstream down
// so that the next reads fail at once instead of waiting again.
func TestRemoteUpstreamTimeoutIs504(t *testing.T) {
	release := make(chan struct{})
	var asked atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		<-release // headers never come while the test runs
	}))
	t.Cleanup(func() { close(release); upstream.Close() })

	e := servertest.New(t)
	registry.SetUpstreamHeaderTimeout(e.Server.Service, 300*time.Millisecond)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "mirror", "PRIVATE")
	e.MustGraphQL(t, alice, `mutation($u: String) { createProject(input: {namespacePath: "mirror", path: "gen", repositoryMode: REMOTE, format: GENERIC, remoteUrl: $u}) { errors } }`,
		map[string]any{"u": upstream.URL + "/generic"})
	get := func() (int, string) {
		t.Helper()
		status, body, _ := e.Do(t, "GET", "/api/v4/projects/mirror%2Fgen/packages/generic/tool/1.0/a.bin", nil, map[string]string{"PRIVATE-TOKEN": alice})
		return status, string(body)
	}
	start := time.Now()
	if status, body := get(); status != 504 || !strings.Contains(body, "did not answer in time") {
		t.Fatalf("silent upstream: %d %s", status, body)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("the read waited %v", d)
	}
	if n := e.Server.DB.PackageFile.Query().CountX(t.Context()); n != 0 {
		t.Fatalf("a timed-out fetch stored %d files", n)
	}
	if status, body := get(); status != 502 || !strings.Contains(body, "failed moments ago") || asked.Load() != 1 {
		t.Fatalf("read right after the timeout: %d %s (upstream asked %d times)", status, body, asked.Load())
	}
}
