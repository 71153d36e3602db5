package server_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkgreg/registry/server"
	"github.com/pkgreg/registry/server/servertest"
)

// TestGracefulShutdownFinishesInFlightRequests starts a request, shuts the
// server down while the request body is still arriving, and checks that the
// request is answered and new connections are refused.
func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	cfg := servertest.NewConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"query":"{ currentUser { username } }"}`
	head := "POST /api/graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nPRIVATE-TOKEN: " + servertest.RootToken +
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := conn.Write([]byte(head + body[:10])); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the server start reading the request
	cancel()
	time.Sleep(100 * time.Millisecond) // shutdown has begun and stopped accepting
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("new connections are still accepted during shutdown")
	}
	if _, err := conn.Write([]byte(body[10:])); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request was cut off: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"username":"root"`) {
		t.Fatalf("in-flight request: %d %s", resp.StatusCode, b)
	}
	conn.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("shutdown did not finish")
	}
}
