package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkgreg/registry/server"
	"github.com/pkgreg/registry/server/servertest"
)

// manyFields is an anonymous query selecting username n times: each pair of
// copies is compared by validation, so its cost is quadratic in n.
func manyFields(n int) string {
	return "{ currentUser { " + strings.Repeat("username ", n) + "} }"
}

func postGraphQL(t *testing.T, base string, body []byte) (int, string, time.Duration) {
	t.Helper()
	start := time.Now()
	resp, err := http.Post(base+"/api/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST /api/graphql: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(start)
}

func TestGraphQLHugeQueriesAreRefusedPromptly(t *testing.T) {
	e := servertest.New(t)
	for _, tc := range []struct {
		name   string
		fields int
		status int
	}{
		{"100,000 fields (900 KB body)", 100_000, http.StatusRequestEntityTooLarge},
		{"10,000 fields (90 KB body)", 10_000, http.StatusUnprocessableEntity},
		{"21 copies of one field", 21, http.StatusUnprocessableEntity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]string{"query": manyFields(tc.fields)})
			status, resp, took := postGraphQL(t, e.URL, body)
			if status != tc.status || !strings.Contains(resp, "QUERY_TOO_LARGE") || !strings.Contains(resp, "limit") {
				t.Fatalf("%d %.300s", status, resp)
			}
			if took > time.Second {
				t.Fatalf("refusing it took %v", took)
			}
		})
	}
	t.Run("GET with 10,000 fields", func(t *testing.T) {
		start := time.Now()
		status, body, _ := e.Do(t, "GET", "/api/graphql?query="+url.QueryEscape(manyFields(10_000)), nil, nil)
		if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), "QUERY_TOO_LARGE") {
			t.Fatalf("%d %.300s", status, body)
		}
		if took := time.Since(start); took > time.Second {
			t.Fatalf("refusing it took %v", took)
		}
	})
	t.Run("legitimate queries still work", func(t *testing.T) {
		r := e.GraphQL(t, servertest.RootToken, "{ currentUser { username id username ...U } } fragment U on User { username }", nil)
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"username":"root"`) {
			t.Fatalf("%+v %s", r.Errors, r.Data)
		}
	})
}

// TestGraphQLHugeQueryDoesNotHoldShutdown sends the 100,000-field query,
// leaves without reading the answer, and shuts the server down: shutdown
// must not wait for the query.
func TestGraphQLHugeQueryDoesNotHoldShutdown(t *testing.T) {
	cfg := servertest.NewConfig(t)
	cfg.ShutdownTimeout = 10 * time.Second
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

	body, _ := json.Marshal(map[string]string{"query": manyFields(100_000)})
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	head := "POST /api/graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	// The server may answer before the whole body is sent; a write error then is fine.
	_, _ = conn.Write(append([]byte(head), body...))
	conn.Close()
	time.Sleep(200 * time.Millisecond) // the request has arrived
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("shutdown took %v", took)
		}
	case <-time.After(cfg.ShutdownTimeout + 5*time.Second):
		t.Fatal("shutdown did not finish")
	}
}

// TestGraphQLDecodeErrorsDoNotEchoTheBody: a body that is not a GraphQL
// request in JSON gets 400 with a message naming the problem, and no part
// of the body (which may carry secrets in its variables) comes back.
func TestGraphQLDecodeErrorsDoNotEchoTheBody(t *testing.T) {
	e := servertest.New(t)
	const secret = "glpat-SECRETVALUE0123456789"
	for name, tc := range map[string]struct{ body, want string }{
		"cut short":     {`{"query": "{ currentUser { username } }", "variables": {"token": "` + secret + `"`, "cut short"},
		"syntax error":  {`{"query": "{ currentUser { username } }", "variables": {"token": "` + secret + `"}} x`, ""},
		"bad character": {`{"query": "{ currentUser { username } }", "variables": {"token": ` + secret + `}}`, "syntax error at byte"},
		"wrong type":    {`{"query": ["` + secret + `"]}`, "must not be a JSON array"},
		"not an object": {`"` + secret + `"`, "it is a JSON string"},
		"empty":         {``, "empty"},
	} {
		t.Run(name, func(t *testing.T) {
			status, resp, _ := postGraphQL(t, e.URL, []byte(tc.body))
			if tc.want == "" { // trailing data after a valid request is ignored, as before
				if status != http.StatusOK || strings.Contains(resp, secret) {
					t.Fatalf("%d %s", status, resp)
				}
				return
			}
			if status != http.StatusBadRequest || !strings.Contains(resp, tc.want) || !strings.Contains(resp, "must be a JSON object") {
				t.Fatalf("%d %s", status, resp)
			}
			if strings.Contains(resp, secret) || strings.Contains(resp, "currentUser") {
				t.Fatalf("the body is echoed: %s", resp)
			}
		})
	}
}
