package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/config"
	"github.com/pkgreg/registry/server/servertest"
)

// throwawayMinIO is a MinIO process of one test's own, so that the test
// can stop or kill it without touching the shared one.
type throwawayMinIO struct {
	Endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
}

// startMinIO starts $(go env GOPATH)/bin/minio on a free loopback port;
// without the binary the test is skipped, except under CI=true.
func startMinIO(t *testing.T) *throwawayMinIO {
	t.Helper()
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "minio")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI requires the MinIO binary at %s", bin)
		}
		t.Skipf("needs a MinIO binary of its own to stop and kill: go install github.com/minio/minio@latest (looked for %s)", bin)
	}
	ports := make([]string, 2)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
	}
	m := &throwawayMinIO{Endpoint: "127.0.0.1:" + ports[0], done: make(chan struct{})}
	m.cmd = exec.Command(bin, "server", "--quiet", "--address", m.Endpoint, "--console-address", "127.0.0.1:"+ports[1], t.TempDir())
	m.cmd.Env = append(os.Environ(), "MINIO_ROOT_USER=throwaway", "MINIO_ROOT_PASSWORD=throwaway-secret-0123", "MINIO_BROWSER=off")
	logs := &syncBuffer{}
	m.cmd.Stdout, m.cmd.Stderr = logs, logs
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = m.cmd.Wait(); close(m.done) }()
	t.Cleanup(func() {
		_ = m.cmd.Process.Signal(syscall.SIGCONT)
		_ = m.cmd.Process.Kill()
		<-m.done
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + m.Endpoint + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("throwaway MinIO did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// s3Config points cfg's blob store at m.
func (m *throwawayMinIO) s3Config() config.S3 {
	return config.S3{Endpoint: m.Endpoint, Bucket: "registry", AccessKey: "throwaway", SecretKey: "throwaway-secret-0123", Region: "us-east-1"}
}

// kill is a crash of the store: connections reset, new ones refused.
func (m *throwawayMinIO) kill() {
	_ = m.cmd.Process.Kill()
	<-m.done
}

// freeze makes the store hang: the kernel still accepts connections, but
// nothing ever answers.
func (m *throwawayMinIO) freeze() {
	_ = m.cmd.Process.Signal(syscall.SIGSTOP)
	// The signal is asynchronous: wait until the process is stopped.
	stat := fmt.Sprintf("/proc/%d/stat", m.cmd.Process.Pid)
	for range 200 {
		b, err := os.ReadFile(stat)
		if err != nil || strings.Contains(string(b), ") T ") {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func readiness(t *testing.T, e *servertest.Env) (int, map[string]string, time.Duration) {
	t.Helper()
	start := time.Now()
	status, body, _ := e.Do(t, "GET", "/-/readiness", nil, nil)
	took := time.Since(start)
	var r struct{ Checks map[string]string }
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("readiness: %d %s", status, body)
	}
	return status, r.Checks, took
}

// TestReadinessReportsDeadBlobStoreFast: a blob store that hangs (frozen
// MinIO: connections accepted, never answered) and one that is gone
// (killed: refused) are both reported as 503 within 2 s.
func TestReadinessReportsDeadBlobStoreFast(t *testing.T) {
	m := startMinIO(t)
	cfg := servertest.NewConfig(t)
	cfg.S3 = m.s3Config()
	e := servertest.NewWithConfig(t, cfg)
	if status, checks, _ := readiness(t, e); status != 200 || checks["blob_store"] != "ok" {
		t.Fatalf("readiness with MinIO up: %d %v", status, checks)
	}
	for _, c := range []struct {
		name string
		stop func()
	}{{"hanging", m.freeze}, {"killed", m.kill}} {
		c.stop()
		status, checks, took := readiness(t, e)
		t.Logf("readiness with a %s blob store: %d %v in %s", c.name, status, checks, took.Round(time.Millisecond))
		if status != http.StatusServiceUnavailable || checks["blob_store"] != "unreachable" || checks["database"] != "ok" {
			t.Errorf("readiness with a %s blob store: %d %v", c.name, status, checks)
		}
		if took > 2*time.Second {
			t.Errorf("readiness took %s to report a %s blob store, want under 2 s", took.Round(time.Millisecond), c.name)
		}
	}
}

// uploadWhileStoreDies streams a large upload at full speed on a raw
// connection, calls die once afterKill bytes are sent, and reports how
// many bytes the client could still send after die returned, the answer
// and how long it took to come.
func uploadWhileStoreDies(t *testing.T, url, token string, size, afterKill int64, die func()) (status int, header http.Header, sentAfter int64, wait time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /api/v4/projects/acme%%2Ftools/packages/generic/doomed/1.0/f.bin HTTP/1.1\r\nHost: x\r\nPRIVATE-TOKEN: %s\r\nContent-Length: %d\r\n\r\n", token, size)
	var sent atomic.Int64
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		buf := make([]byte, 64<<10)
		for sent.Load() < size {
			n, err := conn.Write(buf[:min(int64(len(buf)), size-sent.Load())])
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	for sent.Load() < afterKill {
		time.Sleep(time.Millisecond)
	}
	die()
	killedAt, sentAtKill := time.Now(), sent.Load()
	_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer after the store died: %v (client sent %d bytes after it)", err, sent.Load()-sentAtKill)
	}
	wait = time.Since(killedAt)
	b, _ := io.ReadAll(resp.Body)
	// The server hangs up after its answer; the writer stops with it.
	select {
	case <-writerDone:
	case <-time.After(5 * time.Second):
		t.Errorf("the client could still send 5 s after the answer (%d bytes in all)", sent.Load())
	}
	t.Logf("store died after %d MiB; answer %d %s after %s; the client sent %d MiB after the death",
		sentAtKill>>20, resp.StatusCode, strings.TrimSpace(string(b)), wait.Round(time.Millisecond), (sent.Load()-sentAtKill)>>20)
	return resp.StatusCode, resp.Header, sent.Load() - sentAtKill, wait
}

// TestUploadStopsWhenBlobStoreDies: MinIO is killed in the middle of a
// 2 GiB upload. The registry stops reading the body and answers 503
// within 2 s, instead of holding the client while minio-go retries.
func TestUploadStopsWhenBlobStoreDies(t *testing.T) {
	m := startMinIO(t)
	cfg := servertest.NewConfig(t)
	cfg.S3 = m.s3Config()
	e := servertest.NewWithConfig(t, cfg)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	e.CreateProject(t, alice, "acme", "tools", "PRIVATE")

	status, hdr, after, wait := uploadWhileStoreDies(t, e.URL, alice, 2<<30, 40<<20, m.kill)
	if status != http.StatusServiceUnavailable {
		t.Errorf("upload after the store died: %d, want 503", status)
	}
	if got := hdr.Get("Retry-After"); got == "" {
		t.Errorf("503 without Retry-After: a client cannot tell when to try again")
	}
	if wait > 2*time.Second {
		t.Errorf("the answer came %s after the store died, want under 2 s", wait.Round(time.Millisecond))
	}
	// What the client can still push is what fits in the socket buffers
	// and the upload's read-ahead, not the stream.
	if after > 64<<20 {
		t.Errorf("the client sent %d MiB after the store died", after>>20)
	}
}

// TestUploadStopsWhenDiskFills: the filesystem store's write fails (the
// process's file size limit stands in for a full disk: the same failed
// write, EFBIG instead of ENOSPC) in the middle of a 1 GiB upload. The
// registry answers 503 at once, stops reading, and leaves nothing behind.
func TestUploadStopsWhenDiskFills(t *testing.T) {
	cfg := servertest.NewConfig(t)
	if cfg.S3.Endpoint != "" {
		cfg.S3 = config.S3{} // this one is about the filesystem store
	}
	bin := buildRegistry(t)
	// 16 MiB per file (bash counts 1024-byte blocks); the database stays
	// far below it.
	p := startProc(t, []string{"bash", "-c", `ulimit -f 16384 && exec "$0" serve --gc-interval 0`, bin}, procEnv(cfg))
	e := p.env()
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	id := e.CreateProject(t, alice, "acme", "tools", "PRIVATE")

	status, _, after, wait := uploadWhileStoreDies(t, p.URL, alice, 1<<30, 0, func() {})
	if status != http.StatusServiceUnavailable {
		t.Errorf("upload into a full filesystem: %d, want 503", status)
	}
	if wait > 5*time.Second {
		t.Errorf("the answer took %s", wait.Round(time.Millisecond))
	}
	// 16 MiB reach the disk; the rest of what the client could send is
	// socket buffers and read-ahead.
	if after > 64<<20 {
		t.Errorf("the client sent %d MiB into a full filesystem", after>>20)
	}
	if n, b := leftovers(t, cfg); n != 0 {
		t.Errorf("the failed upload left %d staging files (%d bytes)", n, b)
	}
	status, got, _ := e.Do(t, "GET", fmt.Sprintf("/api/v4/projects/%d/packages", id), nil, tok(alice))
	if status != 200 || strings.TrimSpace(string(got)) != "[]" {
		t.Fatalf("packages after the failed upload: %d %s", status, got)
	}
}
