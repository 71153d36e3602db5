package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/config"
	"github.com/pkgreg/registry/server/servertest"
)

// limitEnv is a registry with a 1 MiB file limit, where alice owns the
// private project acme/tools.
func limitEnv(t *testing.T) (*servertest.Env, string, gen) {
	t.Helper()
	cfg := servertest.NewConfig(t)
	cfg.MaxFileSize = 1 << 20
	e := servertest.NewWithConfig(t, cfg)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	e.CreateProject(t, alice, "acme", "tools", "PRIVATE")
	return e, alice, gen{e, t}
}

// TestGenericAnnouncedOversizeIsRefusedUnread checks that an upload whose
// Content-Length is over the limit is answered 413 before the client has
// sent a byte of its body: a client on a slow link does not upload 5 GiB
// to hear that it was too large. (The streaming check would answer 413
// too, but only after reading up to the limit.)
func TestGenericAnnouncedOversizeIsRefusedUnread(t *testing.T) {
	e, alice, g := limitEnv(t)
	before := e.StoredState(t)
	head := func(expect string) string {
		return fmt.Sprintf("PUT %s HTTP/1.1\r\nHost: x\r\nPRIVATE-TOKEN: %s\r\nContent-Length: %d\r\n%s\r\n",
			g.url("acme%2Ftools", "big/1/over.bin"), alice, 1<<20+1, expect)
	}
	for name, expect := range map[string]string{
		// The client sends headers only and waits: the server must answer
		// without reading the body it was promised.
		"headers, then silence": "",
		// curl and others wait for "100 Continue" before sending a body;
		// the server must refuse instead of inviting the body.
		"Expect: 100-continue": "Expect: 100-continue\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, head(expect)); err != nil {
				t.Fatal(err)
			}
			// No body byte is ever written on this connection.
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no response before the body was sent (the server waits for it): %v", err)
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 413 || !strings.Contains(string(b), "the limit is 1048576 bytes") {
				t.Fatalf("announced oversize: %d %s (want 413 before any body byte; a 100 Continue asks for the body)", resp.StatusCode, b)
			}
		})
	}
	if after := e.StoredState(t); after != before {
		t.Fatalf("refused uploads stored something: %s -> %s", before, after)
	}
}

// TestGenericChunkedLimitIsExact checks the streaming limit (a body without
// Content-Length) at its edge: exactly the limit is stored, one byte more
// is 413 and stores nothing.
func TestGenericChunkedLimitIsExact(t *testing.T) {
	e, alice, g := limitEnv(t)
	chunked := func(file string, n int) (int, string) {
		t.Helper()
		// A reader the client cannot measure: sent chunked.
		req, _ := http.NewRequest("PUT", e.URL+g.url("acme%2Ftools", "edge/1/"+file), io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("x"), n))))
		req.Header.Set("PRIVATE-TOKEN", alice)
		req.ContentLength = -1
		resp, err := e.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	before := e.StoredState(t)
	if status, body := chunked("over.bin", 1<<20+1); status != 413 || !strings.Contains(body, "exceeds the limit of 1048576 bytes") {
		t.Fatalf("chunked, one byte over the limit: %d %s", status, body)
	}
	if after := e.StoredState(t); after != before {
		t.Fatalf("a chunked body over the limit stored something: %s -> %s", before, after)
	}
	if status, _, _ := g.get(tok(alice), "acme%2Ftools", "edge/1/over.bin"); status != 404 {
		t.Fatalf("the refused file downloads: %d", status)
	}
	if status, body := chunked("at.bin", 1<<20); status != 201 {
		t.Fatalf("chunked, exactly at the limit: %d %s", status, body)
	}
	if status, body, _ := g.get(tok(alice), "acme%2Ftools", "edge/1/at.bin"); status != 200 || len(body) != 1<<20 {
		t.Fatalf("the file at the limit: %d, %d bytes", status, len(body))
	}
}

// TestRemoteFileSizeLimit checks that a REMOTE project applies the file
// limit to what its upstream serves: an announced oversize file is refused
// with a 502 that names the limit, without reading it; one sent without a
// length is cut off at the limit. Nothing is cached either way, and the
// upstream is asked again next time (the limit may be raised).
func TestRemoteFileSizeLimit(t *testing.T) {
	// Under the 256 KiB a cold miss holds before streaming, so a refusal
	// is a clean 502 rather than a cut-off 200.
	const limit = 64 << 10
	big := bytes.Repeat([]byte("y"), limit+1)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/announced.bin"):
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			w.Write(big)
		case strings.HasSuffix(r.URL.Path, "/chunked.bin"):
			w.WriteHeader(200)
			w.(http.Flusher).Flush() // no Content-Length: chunked
			w.Write(big)
		case strings.HasSuffix(r.URL.Path, "/fits.bin"):
			w.Write(big[:limit])
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(upstream.Close)
	cfg := servertest.NewConfig(t)
	cfg.MaxFileSize = limit
	e := newGenericMirrorWithConfig(t, cfg, upstream.URL+"/generic")
	alice, g := e.alice, gen{e.Env, t}

	before := e.Env.StoredState(t)
	status, body, _ := g.get(tok(alice), "mirror%2Fgen", "tool/1.0/announced.bin")
	if status != 502 || !strings.Contains(body, fmt.Sprintf("the upstream's file is %d bytes; the limit is %d bytes", limit+1, limit)) {
		t.Fatalf("announced oversize upstream file: %d %.200s", status, body)
	}
	status, body, _ = g.get(tok(alice), "mirror%2Fgen", "tool/1.0/chunked.bin")
	if status != 502 || !strings.Contains(body, fmt.Sprintf("exceeds the limit of %d bytes", limit)) {
		t.Fatalf("oversize upstream file without a length: %d %.200s", status, body)
	}
	if after := e.Env.StoredState(t); after != before {
		t.Fatalf("an oversize upstream file was cached: %s -> %s", before, after)
	}
	if status, body, _ := g.get(tok(alice), "mirror%2Fgen", "tool/1.0/fits.bin"); status != 200 || len(body) != limit {
		t.Fatalf("an upstream file at the limit: %d, %d bytes", status, len(body))
	}
}

// mirrorEnv is a registry with a REMOTE generic project mirror/gen.
type mirrorEnv struct {
	*servertest.Env
	alice string
}

// newGenericMirrorWithConfig is newGenericMirror on a given configuration.
func newGenericMirrorWithConfig(t *testing.T, cfg config.Config, remoteURL string) mirrorEnv {
	t.Helper()
	e := servertest.NewWithConfig(t, cfg)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "mirror", "PRIVATE")
	e.CreateRemoteProject(t, alice, "mirror", "gen", "GENERIC", remoteURL)
	return mirrorEnv{e, alice}
}
