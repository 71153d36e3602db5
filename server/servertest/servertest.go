// Package servertest starts a real registry on loopback for tests: a real
// HTTP server, a real database and a real blob store. By default SQLite in a
// temp dir and the local filesystem; with REGISTRY_TEST_POSTGRES_URL a fresh
// PostgreSQL database per test, and with REGISTRY_TEST_S3_ENDPOINT (plus
// keys) MinIO/S3 under a fresh key prefix per test.
package servertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/pkgreg/registry/server"
	"github.com/pkgreg/registry/server/config"
	"github.com/pkgreg/registry/server/middleware"
)

// RootToken is the initial root token of every test server.
const RootToken = "glpat-test-root-token-0123456789"

// Clock is an injectable clock: tests move time instead of sleeping.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Env is one running registry.
type Env struct {
	URL    string
	Server *server.Server
	Config config.Config
	Clock  *Clock
	Client *http.Client
	// Queries counts SQL statements run for requests (reset it to measure one).
	Queries atomic.Int64
}

// Backends names the stack the tests run on, for log lines and skips.
func Backends() string {
	db, bs := "sqlite", "fs"
	if os.Getenv("REGISTRY_TEST_POSTGRES_URL") != "" {
		db = "postgres"
	}
	if os.Getenv("REGISTRY_TEST_S3_ENDPOINT") != "" {
		bs = "s3"
	}
	return db + "+" + bs
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// NewConfig returns a configuration for a fresh, isolated registry: its own
// data dir, its own database, its own blob prefix.
func NewConfig(t testing.TB) config.Config {
	t.Helper()
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Addr = "127.0.0.1:0"
	cfg.InitialRootToken = RootToken
	cfg.ShutdownTimeout = 10 * time.Second
	// Test upstreams listen on loopback; tests of the default refusal
	// clear this.
	cfg.RemoteAllowCIDRs = "127.0.0.0/8,::1/128"
	requireCIBackends(t)
	if admin := os.Getenv("REGISTRY_TEST_POSTGRES_URL"); admin != "" {
		cfg.DatabaseURL = freshPostgresDB(t, admin)
	}
	if ep := os.Getenv("REGISTRY_TEST_S3_ENDPOINT"); ep != "" {
		cfg.S3 = config.S3{
			Endpoint: ep, AccessKey: os.Getenv("REGISTRY_TEST_S3_ACCESS_KEY"), SecretKey: os.Getenv("REGISTRY_TEST_S3_SECRET_KEY"),
			Bucket: os.Getenv("REGISTRY_TEST_S3_BUCKET"), Region: "us-east-1", Prefix: "t-" + randomSuffix() + "/",
		}
		if cfg.S3.Bucket == "" {
			cfg.S3.Bucket = "registry-test"
		}
	}
	return cfg
}

// requireCIBackends fails the test under CI=true unless both production
// backends are configured: CI must prove the suite on PostgreSQL and
// MinIO/S3, and silently falling back to SQLite or the filesystem would
// report a pass that proved nothing about them.
func requireCIBackends(t testing.TB) {
	t.Helper()
	if os.Getenv("CI") != "true" {
		return
	}
	for _, v := range []string{"REGISTRY_TEST_POSTGRES_URL", "REGISTRY_TEST_S3_ENDPOINT"} {
		if os.Getenv(v) == "" {
			t.Fatalf("CI=true requires %s: the server suite runs on PostgreSQL and MinIO/S3 in CI, never on the SQLite/filesystem fallback (unset CI to run on the embedded defaults)", v)
		}
	}
}

// freshPostgresDB creates a database for one test and drops it afterwards.
func freshPostgresDB(t testing.TB, adminURL string) string {
	t.Helper()
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	name := "registry_test_" + randomSuffix()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("postgres: creating test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", adminURL)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatalf("REGISTRY_TEST_POSTGRES_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// New starts a registry on loopback with a fresh configuration.
func New(t testing.TB) *Env {
	t.Helper()
	return NewWithConfig(t, NewConfig(t))
}

// NewWithConfig starts a registry on loopback with cfg.
func NewWithConfig(t testing.TB, cfg config.Config) *Env {
	t.Helper()
	clock := &Clock{now: time.Now().UTC().Truncate(time.Second)}
	var logOut io.Writer = io.Discard
	if os.Getenv("REGISTRY_TEST_VERBOSE") != "" {
		logOut = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	env := &Env{Config: cfg, Clock: clock, Client: &http.Client{Timeout: 2 * time.Minute}}
	srv, err := server.New(ctx, cfg, log, server.Options{Now: clock.Now, OnQuery: func(ctx context.Context) {
		// Count the statements of requests only, not background work.
		if middleware.RequestID(ctx) != "" {
			env.Queries.Add(1)
		}
	}})
	if err != nil {
		cancel()
		t.Fatalf("starting the registry (%s): %v", Backends(), err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("registry shutdown: %v", err)
		}
	})
	env.URL, env.Server = "http://"+ln.Addr().String(), srv
	return env
}

// GQLError is one GraphQL error.
type GQLError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// GQLResponse is a decoded GraphQL response.
type GQLResponse struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []GQLError      `json:"errors"`
}

// Code returns the extensions.code of the first error, or "".
func (r *GQLResponse) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// Decode unmarshals Data into v.
func (r *GQLResponse) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decoding GraphQL data %s: %v", r.Data, err)
	}
}

// GraphQL posts a query with the token as PRIVATE-TOKEN ("" = anonymous).
func (e *Env) GraphQL(t testing.TB, token, query string, vars map[string]any) *GQLResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/api/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("PRIVATE-TOKEN", token)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		t.Fatalf("graphql: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := &GQLResponse{Status: resp.StatusCode}
	if resp.StatusCode >= 500 {
		t.Fatalf("graphql answered %d: %s", resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("graphql answered %d with non-JSON %q", resp.StatusCode, raw)
	}
	return out
}

// MustGraphQL is GraphQL that fails the test on any top-level error and on
// any non-empty payload "errors" list under the given mutation field.
func (e *Env) MustGraphQL(t testing.TB, token, query string, vars map[string]any) *GQLResponse {
	t.Helper()
	r := e.GraphQL(t, token, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("graphql errors: %+v\nquery: %s", r.Errors, query)
	}
	var payloads map[string]json.RawMessage
	_ = json.Unmarshal(r.Data, &payloads)
	for field, p := range payloads {
		var withErrs struct {
			Errors []string `json:"errors"`
		}
		if json.Unmarshal(p, &withErrs) == nil && len(withErrs.Errors) > 0 {
			t.Fatalf("%s: payload errors %v", field, withErrs.Errors)
		}
	}
	return r
}

// CreateUser creates a user (as root) and returns an api-scoped personal
// access token for it.
func (e *Env) CreateUser(t testing.TB, username string) string {
	t.Helper()
	e.MustGraphQL(t, RootToken, `mutation($u: String!) { createUser(input: {username: $u}) { user { id } errors } }`, map[string]any{"u": username})
	return e.CreateToken(t, RootToken, username, "API")
}

// CreateToken creates a personal access token for username with scopes.
func (e *Env) CreateToken(t testing.TB, asToken, username string, scopes ...string) string {
	t.Helper()
	r := e.MustGraphQL(t, asToken, `mutation($u: String!, $s: [TokenScope!]!) {
		createPersonalAccessToken(input: {username: $u, name: "test", scopes: $s}) { token errors } }`,
		map[string]any{"u": username, "s": scopes})
	var out struct {
		CreatePersonalAccessToken struct{ Token string } `json:"createPersonalAccessToken"`
	}
	r.Decode(t, &out)
	return out.CreatePersonalAccessToken.Token
}

// CreateGroup creates a group (parent "" for top level).
func (e *Env) CreateGroup(t testing.TB, token, parent, path, visibility string) {
	t.Helper()
	vars := map[string]any{"p": path, "v": visibility}
	if parent != "" {
		vars["parent"] = parent
	}
	e.MustGraphQL(t, token, `mutation($p: String!, $parent: ID, $v: Visibility) {
		createGroup(input: {path: $p, parentPath: $parent, visibility: $v}) { group { id } errors } }`, vars)
}

// CreateProject creates a STANDARD project and returns its numeric id.
func (e *Env) CreateProject(t testing.TB, token, namespace, path, visibility string) int {
	t.Helper()
	return e.CreateProjectWith(t, token, Project{Namespace: namespace, Path: path, Visibility: visibility})
}

// AddMember grants username a role on a group or project.
func (e *Env) AddMember(t testing.TB, token, source, username, level string) {
	t.Helper()
	e.MustGraphQL(t, token, `mutation($s: ID!, $u: String!, $l: AccessLevel!) {
		addMember(input: {sourcePath: $s, username: $u, accessLevel: $l}) { member { id } errors } }`,
		map[string]any{"s": source, "u": username, "l": level})
}

// Do sends a request with optional headers and returns status and body.
func (e *Env) Do(t testing.TB, method, path string, body io.Reader, headers map[string]string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}
