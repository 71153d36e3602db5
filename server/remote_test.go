package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/servertest"
)

func TestRemoteGenericPullThrough(t *testing.T) {
	up := servertest.New(t)
	owner := up.CreateUser(t, "owner")
	up.CreateGroup(t, owner, "", "up", "PUBLIC")
	pubID := up.CreateProject(t, owner, "up", "pub", "PUBLIC")
	up.CreateProject(t, owner, "up", "priv", "PRIVATE")
	ug := gen{up, t}
	for _, f := range []string{"a", "b", "c", "d", "e"} {
		ug.put(tok(owner), "up%2Fpub", "tool/1.0/"+f+".bin", []byte("upstream "+f))
	}
	ug.put(tok(owner), "up%2Fpub", "acme-utils/1.0/lib.bin", []byte("malicious"))
	ug.put(tok(owner), "up%2Fpriv", "secret/1.0/s.bin", []byte("private upstream"))
	proxy := servertest.NewFaultProxy(t, up.URL)

	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "mirror", "PRIVATE")
	e.CreateRemoteProject(t, alice, "mirror", "gen", "GENERIC", fmt.Sprintf("%s/api/v4/projects/%d/packages/generic", proxy.URL, pubID))
	g := gen{e, t}

	t.Run("miss, fetch, then hit", func(t *testing.T) {
		status, body, h := g.get(tok(alice), "mirror%2Fgen", "tool/1.0/a.bin")
		if status != 200 || body != "upstream a" || h.Get("X-Registry-Upstream") != "mirror/gen" {
			t.Fatalf("cold read: %d %q %v", status, body, h)
		}
		status, body, _ = g.get(tok(alice), "mirror%2Fgen", "tool/1.0/a.bin")
		if status != 200 || body != "upstream a" || proxy.Count("/a.bin") != 1 {
			t.Fatalf("warm read: %d %q, upstream asked %d times", status, body, proxy.Count("/a.bin"))
		}
	})
	t.Run("concurrent misses make one upstream request", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if status, body, _ := g.get(tok(alice), "mirror%2Fgen", "tool/1.0/b.bin"); status != 200 || body != "upstream b" {
					t.Errorf("concurrent read: %d %q", status, body)
				}
			}()
		}
		wg.Wait()
		if n := proxy.Count("/b.bin"); n != 1 {
			t.Fatalf("upstream asked %d times", n)
		}
	})
	t.Run("definitive misses are cached briefly", func(t *testing.T) {
		for range 3 {
			if status, _, _ := g.get(tok(alice), "mirror%2Fgen", "tool/1.0/nope.bin"); status != 404 {
				t.Fatalf("missing upstream file: %d", status)
			}
		}
		if n := proxy.Count("/nope.bin"); n != 1 {
			t.Fatalf("upstream asked %d times for a missing file", n)
		}
	})
	t.Run("faults answer 502 and cache nothing", func(t *testing.T) {
		before := e.StoredState(t)
		for mode, file := range map[servertest.Fault]string{servertest.Fail500: "c.bin", servertest.Truncate: "d.bin", servertest.BadChecksum: "e.bin"} {
			proxy.Set(mode)
			status, body, _ := g.get(tok(alice), "mirror%2Fgen", "tool/1.0/"+file)
			if status != 502 || !strings.Contains(body, "502 Bad Gateway") {
				t.Errorf("%s: %d %s", mode, status, body)
			}
		}
		if after := e.StoredState(t); after != before {
			t.Fatalf("a failed fetch cached something: %s -> %s", before, after)
		}
		// Cached files are still served while the upstream is broken.
		proxy.Set(servertest.Fail500)
		if status, body, _ := g.get(tok(alice), "mirror%2Fgen", "tool/1.0/a.bin"); status != 200 || body != "upstream a" {
			t.Fatalf("stale read with the upstream down: %d %q", status, body)
		}
		// A failure is not cached as a miss: once the upstream recovers, it serves.
		proxy.Set(servertest.NoFault)
		if status, body, _ := g.get(tok(alice), "mirror%2Fgen", "tool/1.0/c.bin"); status != 200 || body != "upstream c" {
			t.Fatalf("after recovery: %d %q", status, body)
		}
	})
	t.Run("credentials reach the upstream", func(t *testing.T) {
		upTok := up.CreateToken(t, servertest.RootToken, "owner", "READ_API")
		privID := up.ProjectID(t, owner, "up/priv")
		remote := fmt.Sprintf("%s/api/v4/projects/%d/packages/generic", proxy.URL, privID)
		e.CreateProjectWith(t, alice, servertest.Project{Namespace: "mirror", Path: "withcreds", Mode: "REMOTE", Format: "GENERIC",
			RemoteURL: remote, RemotePassword: upTok})
		e.CreateRemoteProject(t, alice, "mirror", "nocreds", "GENERIC", remote)
		if status, body, _ := g.get(tok(alice), "mirror%2Fwithcreds", "secret/1.0/s.bin"); status != 200 || body != "private upstream" {
			t.Fatalf("with credentials: %d %q", status, body)
		}
		if status, _, _ := g.get(tok(alice), "mirror%2Fnocreds", "secret/1.0/s.bin"); status != 502 {
			t.Fatalf("without credentials (upstream says 401): %d", status)
		}
		r := e.MustGraphQL(t, alice, `{ project(fullPath: "mirror/withcreds") { remoteRepositoryConfig { url hasCredentials serveStale cacheTtlSeconds } } }`, nil)
		if !strings.Contains(string(r.Data), `"hasCredentials":true`) || strings.Contains(string(r.Data), upTok) {
			t.Fatalf("remote config: %s", r.Data)
		}
	})
	t.Run("a private package beats a public one of equal priority", func(t *testing.T) {
		e.CreateProject(t, alice, "mirror", "internal", "PRIVATE")
		g.put(tok(alice), "mirror%2Finternal", "acme-utils/1.0/lib.bin", []byte("ours"))
		e.CreateVirtualProject(t, alice, "mirror", "all", "GENERIC")
		set := func(remotePrio int) {
			e.SetUpstreams(t, alice, "mirror/all",
				servertest.Upstream{ID: "a-public", Path: "mirror/gen", Priority: remotePrio},
				servertest.Upstream{ID: "z-private", Path: "mirror/internal", Priority: 10})
		}
		set(10) // equal priority, and the remote's policy id sorts first
		status, body, h := g.get(tok(alice), "mirror%2Fall", "acme-utils/1.0/lib.bin")
		if status != 200 || body != "ours" || h.Get("X-Registry-Upstream") != "mirror/internal" {
			t.Fatalf("dependency confusion: %d %q from %q", status, body, h.Get("X-Registry-Upstream"))
		}
		set(20) // someone asked for the public one on purpose
		if _, body, _ := g.get(tok(alice), "mirror%2Fall", "acme-utils/1.0/lib.bin"); body != "malicious" {
			t.Fatalf("explicit higher priority: %q", body)
		}
		// Files only upstream still come through the virtual project.
		if status, body, _ := g.get(tok(alice), "mirror%2Fall", "tool/1.0/a.bin"); status != 200 || body != "upstream a" {
			t.Fatalf("remote-only file through virtual: %d %q", status, body)
		}
	})
}

func TestUpdateRemoteRepositoryConfig(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "mirror", "PRIVATE")
	id := strconv.Itoa(e.CreateRemoteProject(t, alice, "mirror", "gen", "GENERIC", "http://127.0.0.1:1/api/v4/projects/9/packages/generic"))
	upd := func(fields string) *servertest.GQLResponse {
		return e.GraphQL(t, alice, `mutation { updateRemoteRepositoryConfig(input: {projectPath: "mirror/gen", `+fields+`}) {
			remoteRepositoryConfig { url cacheTtlSeconds serveStale hasCredentials } errors } }`, nil)
	}
	r := upd(`url: "https://up.example/api/v4/projects/3/packages/generic", cacheTtlSeconds: 600, serveStale: false, remoteUsername: "svc", remotePassword: "pw-123"`)
	if errs := payloadErrors(t, r, "updateRemoteRepositoryConfig"); len(errs) > 0 ||
		!strings.Contains(string(r.Data), `{"url":"https://up.example/api/v4/projects/3/packages/generic","cacheTtlSeconds":600,"serveStale":false,"hasCredentials":true}`) {
		t.Fatalf("update: %s %v", r.Data, errs)
	}
	if strings.Contains(string(r.Data), "pw-123") {
		t.Fatal("password returned")
	}
	for fields, want := range map[string]string{
		`url: "ftp://x/y"`: "absolute http or https URL",
		`url: "http://registry.example/api/v4/projects/` + id + `/packages/generic"`:   "points at this project itself",
		`url: "http://registry.example/api/v4/projects/mirror%2Fgen/packages/generic"`: "points at this project itself",
		`cacheTtlSeconds: -1`:                         "cacheTtlSeconds must be between",
		`clearCredentials: true, remotePassword: "x"`: "not both",
	} {
		if errs := payloadErrors(t, upd(fields), "updateRemoteRepositoryConfig"); len(errs) != 1 || !strings.Contains(errs[0], want) {
			t.Errorf("%s: %v, want %q", fields, errs, want)
		}
	}
	r = upd(`clearCredentials: true`)
	if !strings.Contains(string(r.Data), `"hasCredentials":false`) {
		t.Fatalf("clear credentials: %s", r.Data)
	}
	e.CreateProject(t, alice, "mirror", "std", "PRIVATE")
	r = e.GraphQL(t, alice, `mutation { updateRemoteRepositoryConfig(input: {projectPath: "mirror/std", serveStale: true}) { errors } }`, nil)
	if errs := payloadErrors(t, r, "updateRemoteRepositoryConfig"); len(errs) != 1 || !strings.Contains(errs[0], "not a REMOTE project") {
		t.Fatalf("standard project: %v", errs)
	}
}

// TestRemoteColdMissStreams checks that a large cold miss reaches its first
// client while the upstream is still sending, that the stored copy then
// serves later reads, and that a large file failing its checksum is cut
// off (never a complete bad response) and leaves nothing behind.
func TestRemoteColdMissStreams(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	release := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		switch {
		case strings.HasSuffix(r.URL.Path, "/slow.bin"):
			w.Header().Set("X-Checksum-SHA256", sha(payload))
			w.Write(payload[:512<<10])
			w.(http.Flusher).Flush()
			<-release // the rest comes only after the client saw the first half
			w.Write(payload[512<<10:])
		case strings.HasSuffix(r.URL.Path, "/bad.bin"):
			w.Header().Set("X-Checksum-SHA256", strings.Repeat("0", 64))
			w.Write(payload)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(upstream.Close)
	e, alice, g := newGenericMirror(t, upstream.URL+"/generic")

	// Without streaming, the response would wait for the whole file, which
	// the upstream withholds until the client has seen its first half.
	type firstBytes struct {
		resp  *http.Response
		first []byte
		err   error
	}
	got := make(chan firstBytes, 1)
	go func() {
		req, _ := http.NewRequest("GET", e.URL+g.url("mirror%2Fgen", "tool/1.0/slow.bin"), nil)
		req.Header.Set("PRIVATE-TOKEN", alice)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- firstBytes{err: err}
			return
		}
		first := make([]byte, 400<<10)
		_, err = io.ReadFull(resp.Body, first)
		got <- firstBytes{resp, first, err}
	}()
	var fb firstBytes
	select {
	case fb = <-got:
		close(release)
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("the first client got no bytes before the upstream finished")
	}
	resp, first := fb.resp, fb.first
	if fb.err != nil || resp.StatusCode != 200 || resp.Header.Get("X-Registry-Cache") != "MISS" {
		t.Fatalf("cold miss: %v %v", fb.err, resp)
	}
	rest, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(append(first, rest...), payload) {
		t.Fatalf("streamed body: %v, %d bytes", err, len(first)+len(rest))
	}
	upstream.Close() // from now on only the cache can answer
	status, body, h := g.get(tok(alice), "mirror%2Fgen", "tool/1.0/slow.bin")
	if status != 200 || body != string(payload) || h.Get("ETag") == "" {
		t.Fatalf("read after the streamed fill: %d, %d bytes, %v", status, len(body), h)
	}

	upstream2 := httptest.NewServer(upstream.Config.Handler)
	t.Cleanup(upstream2.Close)
	e.MustGraphQL(t, alice, `mutation($u: String) { updateRemoteRepositoryConfig(input: {projectPath: "mirror/gen", url: $u}) { errors } }`,
		map[string]any{"u": upstream2.URL + "/generic"})
	before := e.StoredState(t)
	req, _ := http.NewRequest("GET", e.URL+g.url("mirror%2Fgen", "tool/1.0/bad.bin"), nil)
	req.Header.Set("PRIVATE-TOKEN", alice)
	// The registry must answer (the file is past the 256 KiB it holds, so
	// it streams a 200) and then cut the body off: a transport error
	// before any response would be a different failure passing for this.
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("no response for a large file failing its checksum: %v", err)
	}
	bad, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 502 && (resp.StatusCode != 200 || rerr == nil || len(bad) >= len(payload)) {
		t.Fatalf("a file failing its checksum: %d, %d of %d bytes, read error %v; want 502 or a cut-off 200", resp.StatusCode, len(bad), len(payload), rerr)
	}
	if after := e.StoredState(t); after != before {
		t.Fatalf("a failed streamed fill cached something: %s -> %s", before, after)
	}
}

// TestRemoteDeadUpstreamIsSkipped checks the breaker: an upstream that
// fails at the transport level is not asked again for a while (reads fail
// at once instead of each waiting out the timeouts), then is retried.
func TestRemoteDeadUpstreamIsSkipped(t *testing.T) {
	var attempts atomic.Int32
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close() // a connection reset, as from a crashed upstream
	}))
	t.Cleanup(dead.Close)
	e, alice, g := newGenericMirror(t, dead.URL+"/generic")
	if status, body, _ := g.get(tok(alice), "mirror%2Fgen", "tool/1.0/a.bin"); status != 502 || !strings.Contains(body, "unreachable") {
		t.Fatalf("first read: %d %s", status, body)
	}
	tried := attempts.Load()
	for _, f := range []string{"a.bin", "b.bin", "c.bin"} {
		if status, body, _ := g.get(tok(alice), "mirror%2Fgen", "tool/1.0/"+f); status != 502 || !strings.Contains(body, "failed moments ago") {
			t.Fatalf("read while the upstream is marked down: %d %s", status, body)
		}
	}
	if attempts.Load() != tried {
		t.Fatalf("the dead upstream was asked again: %d -> %d", tried, attempts.Load())
	}
	e.Clock.Advance(31 * time.Second)
	g.get(tok(alice), "mirror%2Fgen", "tool/1.0/a.bin")
	if attempts.Load() == tried {
		t.Fatal("the upstream was not retried after the pause")
	}
}

// newGenericMirror starts a registry with a REMOTE generic project
// "mirror/gen" over remoteURL, owned by alice.
func newGenericMirror(t *testing.T, remoteURL string) (*servertest.Env, string, gen) {
	t.Helper()
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "mirror", "PRIVATE")
	e.CreateRemoteProject(t, alice, "mirror", "gen", "GENERIC", remoteURL)
	return e, alice, gen{e, t}
}
