package server_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/servertest"
)

// TestPostgresConnectionLoss uploads generic files from 8 parallel clients
// while every backend of the registry's database is terminated once a
// second (what a PostgreSQL failover, restart or pg_terminate_backend does
// to a pool). Dead connections must be retried: at most 1 % of uploads may
// fail, each failure is a 503 with Retry-After (a client knows to come
// back), never a 500, and nothing is left half-done: file rows, blob rows
// and stored objects match the uploads that succeeded.
func TestPostgresConnectionLoss(t *testing.T) {
	admin := os.Getenv("REGISTRY_TEST_POSTGRES_URL")
	if admin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("REGISTRY_TEST_POSTGRES_URL is not set, and CI=true requires PostgreSQL for this test")
		}
		t.Skip("REGISTRY_TEST_POSTGRES_URL is not set: the connection-loss test needs PostgreSQL")
	}
	const (
		uploaders  = 8
		minUploads = 1200
		// Uploads go on past minUploads until this many termination rounds
		// have run, so that a fast machine sees as many as a slow one.
		minRounds  = 10
		maxUploads = 20000
	)
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	e.CreateProject(t, alice, "acme", "tools", "PRIVATE")

	u, err := url.Parse(e.Config.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	// The killer connects to the admin database, so it never kills itself.
	killer, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer killer.Close()
	killer.SetMaxOpenConns(1)

	stop := make(chan struct{})
	var killerDone sync.WaitGroup
	var rounds, killed atomic.Int64
	killerDone.Add(1)
	go func() {
		defer killerDone.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			var n int64
			err := killer.QueryRow(`SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE datname = $1 AND pid <> pg_backend_pid()) AS t`, dbName).Scan(&n)
			if err != nil {
				t.Errorf("terminating backends: %v", err)
				return
			}
			rounds.Add(1)
			killed.Add(n)
		}
	}()

	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: uploaders}}
	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		bad      []string // failures that are not 503 + Retry-After
	)
	next := atomic.Int64{}
	start := time.Now()
	var wg sync.WaitGroup
	for w := range uploaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= maxUploads || (i >= minUploads && rounds.Load() >= minRounds) {
					return
				}
				body := fmt.Appendf(nil, "file %d from uploader %d\n", i, w)
				req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/api/v4/projects/acme%%2Ftools/packages/generic/load/1.0.%d/f%d.txt", e.URL, i, i),
					bytes.NewReader(body))
				req.Header.Set("PRIVATE-TOKEN", alice)
				resp, err := client.Do(req)
				if err != nil {
					mu.Lock()
					statuses[-1]++
					bad = append(bad, fmt.Sprintf("upload %d: %v", i, err))
					mu.Unlock()
					continue
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				if resp.StatusCode != http.StatusCreated &&
					(resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "") {
					bad = append(bad, fmt.Sprintf("upload %d: %d Retry-After=%q %s", i, resp.StatusCode, resp.Header.Get("Retry-After"), bytes.TrimSpace(msg)))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	uploads := 0
	for _, n := range statuses {
		uploads += n
	}
	close(stop)
	killerDone.Wait()

	// Count from a fresh connection: the registry's pool may still hold
	// connections killed in the last round.
	files, blobs, objects := pgStoredCounts(t, e, e.Config.DatabaseURL)

	codes := make([]int, 0, len(statuses))
	for c := range statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var summary []string
	failed := 0
	for _, c := range codes {
		summary = append(summary, fmt.Sprintf("%d×%d", statuses[c], c))
		if c != http.StatusCreated {
			failed += statuses[c]
		}
	}
	t.Logf("%s: %d uploads by %d clients in %s, %d termination rounds killed %d backends; statuses %s; failed %d (%.2f %%); files=%d blobs=%d objects=%d",
		servertest.Backends(), uploads, uploaders, elapsed.Round(time.Millisecond), rounds.Load(), killed.Load(),
		strings.Join(summary, " "), failed, 100*float64(failed)/float64(uploads), files, blobs, objects)
	for i, b := range bad {
		if i == 10 {
			t.Logf("... and %d more", len(bad)-10)
			break
		}
		t.Log(b)
	}

	if rounds.Load() < minRounds || killed.Load() == 0 {
		t.Errorf("only %d termination rounds (%d backends killed): the uploads did not run under connection loss", rounds.Load(), killed.Load())
	}
	if statuses[http.StatusInternalServerError] != 0 {
		t.Errorf("%d uploads answered 500; a lost connection is 503 at worst", statuses[http.StatusInternalServerError])
	}
	if len(bad) != 0 {
		t.Errorf("%d failures are not 503 with Retry-After", len(bad))
	}
	if failed*100 > uploads {
		t.Errorf("%d of %d uploads failed; at most 1 %% may", failed, uploads)
	}
	created := statuses[http.StatusCreated]
	if files != created || blobs != created || objects != created {
		t.Errorf("stored state does not match the %d uploads that succeeded: files=%d blobs=%d objects=%d", created, files, blobs, objects)
	}
}

// commitCutter is a TCP proxy between the registry and PostgreSQL that,
// when armed, breaks the connection that sends the next COMMIT: either
// after the server got it (the transaction commits, its reply is lost) or
// before (the server never sees it and aborts). That is the one moment a
// client cannot know the outcome of its transaction.
type commitCutter struct {
	ln      net.Listener
	target  string
	deliver atomic.Int32 // 1: forward the COMMIT before cutting, 2: drop it
	cuts    atomic.Int32
}

func newCommitCutter(t *testing.T, target string) *commitCutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &commitCutter{ln: ln, target: target}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.relay(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return p
}

func (p *commitCutter) relay(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	var cut atomic.Bool
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 && !cut.Load() {
				if _, werr := client.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		client.Close()
	}()
	defer server.Close()
	defer client.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			msg := buf[:n]
			// pgx sends COMMIT as a simple query: 'Q', length, "commit\0".
			if mode := p.deliver.Load(); mode != 0 && bytes.Contains(bytes.ToLower(msg), []byte("commit\x00")) &&
				p.deliver.CompareAndSwap(mode, 0) {
				cut.Store(true)
				if mode == 1 {
					_, _ = server.Write(msg)
					time.Sleep(300 * time.Millisecond) // the server commits; its reply is dropped
				}
				p.cuts.Add(1)
				return
			}
			if _, werr := server.Write(msg); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestPostgresCommitConnectionLost cuts the database connection exactly at
// an upload's COMMIT. Whether the server committed or not, the client gets
// 201 and the file is stored once and downloadable: a commit that happened
// is recognised (not repeated into a duplicate, not undone by deleting the
// object its row points at), one that did not is retried.
func TestPostgresCommitConnectionLost(t *testing.T) {
	if os.Getenv("REGISTRY_TEST_POSTGRES_URL") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("REGISTRY_TEST_POSTGRES_URL is not set, and CI=true requires PostgreSQL for this test")
		}
		t.Skip("REGISTRY_TEST_POSTGRES_URL is not set: the commit connection-loss test needs PostgreSQL")
	}
	for _, tc := range []struct {
		name    string
		deliver int32
	}{
		{"committed, reply lost", 1},
		{"commit never arrived", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := servertest.NewConfig(t)
			u, err := url.Parse(cfg.DatabaseURL)
			if err != nil {
				t.Fatal(err)
			}
			proxy := newCommitCutter(t, u.Host)
			u.Host = proxy.ln.Addr().String()
			direct := cfg.DatabaseURL
			cfg.DatabaseURL = u.String()
			e := servertest.NewWithConfig(t, cfg)
			alice := e.CreateUser(t, "alice")
			e.CreateGroup(t, alice, "", "acme", "PRIVATE")
			e.CreateProject(t, alice, "acme", "tools", "PRIVATE")
			g := gen{e, t}

			body := []byte("the one upload whose COMMIT loses its connection\n")
			proxy.deliver.Store(tc.deliver)
			status, resp := g.put(tok(alice), "acme%2Ftools", "cut/1.0.0/file.txt", body)
			if proxy.cuts.Load() != 1 {
				t.Fatalf("the proxy cut %d connections at COMMIT; the test did not run as meant", proxy.cuts.Load())
			}
			if status != http.StatusCreated {
				t.Errorf("upload: %d %s", status, resp)
			}
			files, blobs, objects := pgStoredCounts(t, e, direct)
			if files != 1 || blobs != 1 || objects != 1 {
				t.Errorf("stored files=%d blobs=%d objects=%d; want one of each", files, blobs, objects)
			}
			status, got, _ := g.get(tok(alice), "acme%2Ftools", "cut/1.0.0/file.txt")
			if status != http.StatusOK || got != string(body) {
				t.Errorf("download after the cut: %d %q", status, got)
			}
		})
	}
}

// pgStoredCounts counts file rows and blob rows through a fresh connection
// to dbURL (the registry's pool may hold connections a test killed), and
// the objects in the registry's blob store.
func pgStoredCounts(t *testing.T, e *servertest.Env, dbURL string) (files, blobs, objects int) {
	t.Helper()
	check, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	if err := check.QueryRow(`SELECT (SELECT count(*) FROM package_files), (SELECT count(*) FROM blobs)`).Scan(&files, &blobs); err != nil {
		t.Fatal(err)
	}
	if err := e.Server.Blobs.Walk(t.Context(), registry.ObjectPrefix, func(blob.Info) error { objects++; return nil }); err != nil {
		t.Fatal(err)
	}
	return files, blobs, objects
}
