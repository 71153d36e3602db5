package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/servertest"
)

// TestBodyIdleTimeoutCutsStalledUpload: a client that sends its headers
// and a few bytes of body and then nothing is answered 408 and
// disconnected after --body-idle-timeout, and the upload stores nothing.
func TestBodyIdleTimeoutCutsStalledUpload(t *testing.T) {
	cfg := servertest.NewConfig(t)
	cfg.BodyIdleTimeout = time.Second
	e := servertest.NewWithConfig(t, cfg)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	e.CreateProject(t, alice, "acme", "tools", "PRIVATE")
	before := e.StoredState(t)

	conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /api/v4/projects/acme%%2Ftools/packages/generic/stall/1.0/f.bin HTTP/1.1\r\nHost: x\r\nPRIVATE-TOKEN: %s\r\nContent-Length: 1000\r\n\r\nabc", alice)
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("a stalled upload got no answer within 10 s (timeout 1 s): %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	waited := time.Since(start)
	t.Logf("stalled body answered %d after %s: %s", resp.StatusCode, waited.Round(time.Millisecond), body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "408") {
		t.Fatalf("stalled upload: %d %s, want 408", resp.StatusCode, body)
	}
	if waited < 900*time.Millisecond || waited > 3*time.Second {
		t.Fatalf("stalled upload cut after %s, want about the 1 s timeout", waited)
	}
	// The server hangs up: the connection is not kept for another request.
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection still open after the 408")
	}
	if after := e.StoredState(t); after != before {
		t.Fatalf("stalled upload left %s (before: %s)", after, before)
	}
}

// TestBodyIdleTimeoutKeepsSlowMovingUpload: a body that trickles one byte
// every 200 ms for three times the idle timeout is stored.
func TestBodyIdleTimeoutKeepsSlowMovingUpload(t *testing.T) {
	cfg := servertest.NewConfig(t)
	cfg.BodyIdleTimeout = time.Second
	e := servertest.NewWithConfig(t, cfg)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	e.CreateProject(t, alice, "acme", "tools", "PRIVATE")

	const n = 16 // 16 bytes at 200 ms: 3.2 s, over three timeouts
	pr, pw := io.Pipe()
	go func() {
		for i := range n {
			time.Sleep(200 * time.Millisecond)
			if _, err := pw.Write([]byte{byte('a' + i)}); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("PUT", e.URL+"/api/v4/projects/acme%2Ftools/packages/generic/slow/1.0/f.bin", pr)
	req.ContentLength = n
	req.Header.Set("PRIVATE-TOKEN", alice)
	start := time.Now()
	resp, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("slow but moving upload (%s): %d %s", time.Since(start).Round(time.Millisecond), resp.StatusCode, b)
	}
	status, got, _ := e.Do(t, "GET", "/api/v4/projects/acme%2Ftools/packages/generic/slow/1.0/f.bin", nil, tok(alice))
	if status != 200 || string(got) != "abcdefghijklmnop" {
		t.Fatalf("download after the slow upload: %d %q", status, got)
	}

	// Keep-alive: the same connection idles longer than the body timeout
	// between requests and is still usable (IdleTimeout governs that).
	time.Sleep(1500 * time.Millisecond)
	status, got, _ = e.Do(t, "GET", "/api/v4/projects/acme%2Ftools/packages/generic/slow/1.0/f.bin", nil, tok(alice))
	if status != 200 || string(got) != "abcdefghijklmnop" {
		t.Fatalf("second download on an idle kept-alive connection: %d %q", status, got)
	}
}
