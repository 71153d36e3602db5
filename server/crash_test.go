package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/pkgreg/registry/server"
	"github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/config"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/servertest"
)

// buildRegistry compiles the registry binary (the root main package) so a
// test can run it as a real process and kill it.
func buildRegistry(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "registry")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = ".." // the module root, from the server package's directory
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is one running registry process.
type proc struct {
	cmd  *exec.Cmd
	URL  string
	logs *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// procEnv is the environment that makes the binary use cfg's data dir,
// database and blob store, and nothing from the test's own environment.
func procEnv(cfg config.Config) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"REGISTRY_ADDR=127.0.0.1:0", "REGISTRY_DATA_DIR=" + cfg.DataDir,
		"REGISTRY_INITIAL_ROOT_TOKEN=" + servertest.RootToken,
		"REGISTRY_SHUTDOWN_TIMEOUT=5s",
	}
	if cfg.DatabaseURL != "" {
		env = append(env, "REGISTRY_DATABASE_URL="+cfg.DatabaseURL)
	}
	if cfg.S3.Endpoint != "" {
		env = append(env, "REGISTRY_S3_ENDPOINT="+cfg.S3.Endpoint, "REGISTRY_S3_BUCKET="+cfg.S3.Bucket,
			"REGISTRY_S3_ACCESS_KEY="+cfg.S3.AccessKey, "REGISTRY_S3_SECRET_KEY="+cfg.S3.SecretKey,
			"REGISTRY_S3_REGION="+cfg.S3.Region, "REGISTRY_S3_PREFIX="+cfg.S3.Prefix)
	}
	return env
}

var listenAddr = regexp.MustCompile(`msg="registry listening" addr=(\S+)`)

// startProc runs bin (through argv0, e.g. a shell that sets limits first)
// and waits until it listens.
func startProc(t *testing.T, argv []string, env []string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(argv[0], argv[1:]...), logs: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout = p.logs
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("registry process log:\n%s", p.logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := listenAddr.FindStringSubmatch(p.logs.String()); m != nil {
			p.URL = "http://" + m[1]
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("registry exited at start:\n%s", p.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("registry did not start listening:\n%s", p.logs.String())
	return nil
}

// kill is kill -9: no shutdown, no cleanup, nothing flushed.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *proc) env() *servertest.Env {
	return &servertest.Env{URL: p.URL, Client: &http.Client{Timeout: time.Minute}}
}

// leftovers lists the staging data of unfinished uploads: the files in the
// filesystem store's staging directory, or the incomplete multipart
// uploads (with their stored bytes) under the S3 prefix.
func leftovers(t *testing.T, cfg config.Config) (n int, bytes int64) {
	t.Helper()
	if cfg.S3.Endpoint == "" {
		entries, err := os.ReadDir(filepath.Join(cfg.DataDir, "blobs", ".tmp"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if info, err := e.Info(); err == nil {
				n, bytes = n+1, bytes+info.Size()
			}
		}
		return n, bytes
	}
	c, err := minio.New(cfg.S3.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.S3.AccessKey, cfg.S3.SecretKey, ""), Region: cfg.S3.Region})
	if err != nil {
		t.Fatal(err)
	}
	core := minio.Core{Client: c}
	// MinIO lists incomplete uploads only by exact object name; the
	// store's upload markers (.uploads/<key>) name them, and a prefix
	// listing finds them on AWS S3.
	names := map[string]bool{}
	for oi := range c.ListObjects(t.Context(), cfg.S3.Bucket, minio.ListObjectsOptions{Prefix: cfg.S3.Prefix + ".uploads/", Recursive: true}) {
		if oi.Err != nil {
			t.Fatal(oi.Err)
		}
		names[cfg.S3.Prefix+strings.TrimPrefix(oi.Key, cfg.S3.Prefix+".uploads/")] = true
	}
	for u := range c.ListIncompleteUploads(t.Context(), cfg.S3.Bucket, cfg.S3.Prefix, true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		names[u.Key] = true
	}
	for name := range names {
		for u := range c.ListIncompleteUploads(t.Context(), cfg.S3.Bucket, name, false) {
			if u.Err != nil {
				t.Fatal(u.Err)
			}
			if u.Key != name {
				continue
			}
			parts, err := core.ListObjectParts(t.Context(), cfg.S3.Bucket, u.Key, u.UploadID, 0, 1000)
			if minio.ToErrorResponse(err).Code == "NoSuchUpload" {
				continue // aborted meanwhile
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
			for _, p := range parts.ObjectParts {
				bytes += p.Size
			}
		}
	}
	return n, bytes
}

// storedObjects counts the objects (visible files) in cfg's blob store.
func storedObjects(t *testing.T, cfg config.Config) int {
	t.Helper()
	bs, err := server.OpenBlobStore(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := bs.Walk(t.Context(), registry.ObjectPrefix, func(blob.Info) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// rawUpload starts a generic upload of size bytes on its own connection
// and sends the first sent bytes of it; the caller sends more or not.
func rawUpload(t *testing.T, url, token, file string, size, sent int64) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "PUT /api/v4/projects/acme%%2Ftools/packages/generic/%s HTTP/1.1\r\nHost: x\r\nPRIVATE-TOKEN: %s\r\nContent-Length: %d\r\n\r\n", file, token, size)
	if _, err := io.CopyN(conn, zeros{}, sent); err != nil {
		t.Fatal(err)
	}
	return conn
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCrashMidUploadLeftoversAreSwept kills the registry process (kill -9)
// in the middle of an upload, checks that the upload's staging data
// survived the crash (a partial staging file on the filesystem, an
// incomplete multipart upload with stored parts on S3), restarts it with a
// short --gc-grace and --gc-interval, and checks that the sweep removes the
// leftover while the crashed upload never became visible, and that a live
// upload pausing longer than the grace is not mistaken for a leftover.
func TestCrashMidUploadLeftoversAreSwept(t *testing.T) {
	bin := buildRegistry(t)
	cfg := servertest.NewConfig(t)
	env := procEnv(cfg)
	p := startProc(t, []string{bin, "serve", "--gc-interval", "0"}, env)
	e := p.env()
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	id := e.CreateProject(t, alice, "acme", "tools", "PRIVATE")

	// 40 MiB announced, 20 MiB sent: past the first 16 MiB multipart part
	// on S3, several MiB into the staging file on the filesystem.
	const size, sent = 40 << 20, 20 << 20
	rawUpload(t, p.URL, alice, "big/1.0/big.bin", size, sent)
	waitFor(t, "the upload's staging data", 20*time.Second, func() bool {
		_, b := leftovers(t, cfg)
		return b >= 8<<20
	})
	p.kill()
	n, b := leftovers(t, cfg)
	t.Logf("on %s, kill -9 mid-upload left %d staging upload(s) holding %d bytes", servertest.Backends(), n, b)
	if n != 1 || b < 8<<20 {
		t.Fatalf("expected one leftover of at least 8 MiB after the crash, got %d holding %d bytes", n, b)
	}

	// Restart with a short grace: the sweep reclaims the leftover.
	p = startProc(t, []string{bin, "serve", "--gc-grace", "1s", "--gc-interval", "200ms"}, env)
	e = p.env()
	// Meanwhile a live upload pauses for longer than the grace before its
	// first chunk is complete (nothing written to its staging file, no S3
	// part stored: 17 MiB is multipart); every sweep during the pause
	// must leave it alone.
	const liveSize, liveFirst = 17 << 20, 300 << 10
	live := rawUpload(t, p.URL, alice, "live/1.0/live.bin", liveSize, liveFirst)
	waitFor(t, "the sweep to reclaim the crashed upload", 15*time.Second, func() bool {
		_, b := leftovers(t, cfg)
		return b < 8<<20
	})
	time.Sleep(2500 * time.Millisecond) // > grace, many sweeps
	if n, _ := leftovers(t, cfg); n != 1 {
		t.Fatalf("%d staging uploads during the live upload's pause, want the live one", n)
	}
	if _, err := io.CopyN(live, zeros{}, liveSize-liveFirst); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(live), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("a live upload that paused past the grace: %d %s", resp.StatusCode, body)
	}
	if n, b := leftovers(t, cfg); n != 0 {
		t.Fatalf("after the sweep %d staging upload(s) holding %d bytes remain", n, b)
	}
	if !strings.Contains(p.logs.String(), "stale_uploads=1") {
		t.Errorf("the sweep did not log what it reclaimed:\n%s", p.logs.String())
	}

	// Nothing of the crashed upload is visible: no package, no object but
	// the live upload's.
	status, got, _ := e.Do(t, "GET", "/api/v4/projects/acme%2Ftools/packages/generic/big/1.0/big.bin", nil, tok(alice))
	if status != http.StatusNotFound {
		t.Fatalf("crashed upload downloadable: %d %.200s", status, got)
	}
	status, got, _ = e.Do(t, "GET", fmt.Sprintf("/api/v4/projects/%d/packages", id), nil, tok(alice))
	if status != 200 || strings.Contains(string(got), `"big"`) || !strings.Contains(string(got), `"live"`) {
		t.Fatalf("package listing after the crash: %d %s", status, got)
	}
	if n := storedObjects(t, cfg); n != 1 {
		t.Fatalf("%d objects stored, want only the live upload's", n)
	}
}
