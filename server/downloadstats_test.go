package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/servertest"
)

// holdWriteLock takes the database's write lock on the tables a download
// used to write (packages.last_downloaded_at, access_tokens.last_used_at)
// from a connection of its own, as a long upload transaction or another
// instance would, and returns the function that releases it. Reads go on:
// SQLite in WAL mode and PostgreSQL's EXCLUSIVE lock let readers through.
func holdWriteLock(t *testing.T, e *servertest.Env) func() {
	t.Helper()
	ctx := t.Context()
	var (
		db   *sql.DB
		err  error
		lock []string
	)
	if u := e.Config.DatabaseURL; strings.HasPrefix(u, "postgres") {
		db, err = sql.Open("pgx", u)
		lock = []string{"BEGIN", "LOCK TABLE packages, access_tokens IN EXCLUSIVE MODE"}
	} else {
		db, err = sql.Open("sqlite", "file:"+filepath.Join(e.Config.DataDir, "registry.db")+"?_pragma=busy_timeout(15000)")
		lock = []string{"BEGIN IMMEDIATE"}
	}
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range lock {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	released := false
	release := func() {
		if released {
			return
		}
		released = true
		// Not t.Context(): this also runs from Cleanup, after it is done.
		if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
			t.Errorf("releasing the lock: %v", err)
		}
		conn.Close()
		db.Close()
	}
	t.Cleanup(release)
	return release
}

// Downloads do not write to the database: while another connection holds
// the write lock, every first download of a package still answers at once,
// and the download times reach the packages API once they are flushed,
// without moving the packages' updatedAt.
func TestDownloadsDoNotWaitForTheWriteLock(t *testing.T) {
	e, alice, g, pid := newAcmeTools(t)
	project := strconv.Itoa(pid)
	// More packages than the database pool has connections, so that a write
	// per download would also starve the reads of connections.
	const n = 25
	bodies := make([][]byte, n)
	for i := range n {
		bodies[i] = []byte(fmt.Sprintf("file %d of the download test\n", i))
		if st, body := g.put(tok(alice), project, fmt.Sprintf("pkg-%d/1.0.0/file.txt", i), bodies[i]); st != http.StatusCreated {
			t.Fatalf("upload %d: %d %s", i, st, body)
		}
	}
	uploaded := e.Clock.Now()
	// Later than the resolution of both marks (a minute), so the downloads
	// and alice's token use are due to be recorded.
	e.Clock.Advance(2 * time.Minute)
	downloaded := e.Clock.Now()

	release := holdWriteLock(t, e)
	client := &http.Client{Timeout: 5 * time.Second}
	for i := range n {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.URL+g.url(project, fmt.Sprintf("pkg-%d/1.0.0/file.txt", i)), nil)
		req.Header.Set("PRIVATE-TOKEN", alice)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("download %d while another connection holds the write lock: %v (after %s)", i, err, time.Since(start).Round(time.Millisecond))
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Equal(got, bodies[i]) {
			t.Fatalf("download %d: %d %q", i, resp.StatusCode, got)
		}
	}
	release()

	// The marks wait in memory; a test flushes instead of waiting for the
	// timer.
	if err := e.Server.Service.FlushUsage(t.Context()); err != nil {
		t.Fatalf("flush: %v", err)
	}

	status, raw, _ := e.Do(t, http.MethodGet, "/api/v4/projects/"+project+"/packages?per_page=100", nil, tok(alice))
	if status != http.StatusOK {
		t.Fatalf("list packages: %d %s", status, raw)
	}
	var listed []struct {
		Name             string     `json:"name"`
		LastDownloadedAt *time.Time `json:"last_downloaded_at"`
	}
	if err := json.Unmarshal(raw, &listed); err != nil || len(listed) != n {
		t.Fatalf("list packages: %v, %d entries: %s", err, len(listed), raw)
	}
	for _, p := range listed {
		if p.LastDownloadedAt == nil || !p.LastDownloadedAt.Equal(downloaded) {
			t.Errorf("%s: last_downloaded_at %v, want %v", p.Name, p.LastDownloadedAt, downloaded)
		}
	}

	// A download is not a change to the package.
	r := e.MustGraphQL(t, alice, `{ project(fullPath: "acme/tools") { packages(first: 100) { nodes { name updatedAt lastDownloadedAt } } } }`, nil)
	var data struct {
		Project struct {
			Packages struct {
				Nodes []struct {
					Name             string
					UpdatedAt        time.Time
					LastDownloadedAt *time.Time
				}
			}
		}
	}
	r.Decode(t, &data)
	if len(data.Project.Packages.Nodes) != n {
		t.Fatalf("GraphQL listed %d packages, want %d", len(data.Project.Packages.Nodes), n)
	}
	for _, p := range data.Project.Packages.Nodes {
		if p.UpdatedAt.After(uploaded) {
			t.Errorf("%s: updatedAt %v moved past the upload (%v) on download", p.Name, p.UpdatedAt, uploaded)
		}
		if p.LastDownloadedAt == nil || !p.LastDownloadedAt.Equal(downloaded) {
			t.Errorf("%s: GraphQL lastDownloadedAt %v, want %v", p.Name, p.LastDownloadedAt, downloaded)
		}
	}

	// The token use is recorded too (the same flush).
	tokens, err := e.Server.DB.AccessToken.Query().All(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	used := 0
	for _, tk := range tokens {
		if tk.LastUsedAt != nil && tk.LastUsedAt.Equal(downloaded) {
			used++
		}
	}
	if used == 0 {
		t.Errorf("no token has last_used_at %v after the downloads", downloaded)
	}
}
