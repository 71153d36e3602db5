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
	"sync"
	"sync/atomic"
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
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := newSignalListener(inner)
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
	sent := head + body[:10]
	ln.sent.Store(int64(len(sent)))
	if _, err := conn.Write([]byte(sent)); err != nil {
		t.Fatal(err)
	}
	// The server asks for more than was sent only once the handler reads
	// the body: the request has been accepted (past net/http's check that
	// drops a request whose head arrives after shutdown began).
	waitClosed(t, ln.wantsMore, "the handler to read the request body")
	cancel()
	// Shutdown has begun: it closes the listener first.
	waitClosed(t, ln.closed, "shutdown to close the listener")
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

// signalListener tells the test when the server, having read every byte
// the client sent (sent), asks a connection for more (wantsMore), and when
// the listener was closed (the first thing http.Server.Shutdown does).
type signalListener struct {
	net.Listener
	sent                atomic.Int64
	wantsMore, closed   chan struct{}
	readOnce, closeOnce sync.Once
}

func newSignalListener(ln net.Listener) *signalListener {
	return &signalListener{Listener: ln, wantsMore: make(chan struct{}), closed: make(chan struct{})}
}

func (l *signalListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &signalConn{Conn: c, l: l}, nil
}

func (l *signalListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.closed) })
	return err
}

type signalConn struct {
	net.Conn
	l    *signalListener
	read int64 // bytes read so far (net/http reads a connection from one goroutine at a time)
}

func (c *signalConn) Read(p []byte) (int, error) {
	if sent := c.l.sent.Load(); sent > 0 && c.read >= sent {
		c.l.readOnce.Do(func() { close(c.l.wantsMore) })
	}
	n, err := c.Conn.Read(p)
	c.read += int64(n)
	return n, err
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(15 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}
