package main

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// The small-downloads metric: many small files fetched by a few parallel
// clients, where per-request overhead (auth, queries, locks, writes on the
// read path) dominates and bandwidth does not matter. Each measured run
// uploads o.smallFiles new generic packages (one file each) so that every
// registry GET is the first download of its package, then downloads them
// all from the registry and from a raw http.FileServer over a temp dir
// holding the same bytes, with the same client.

// smallFile is one uploaded file: its registry URL, its raw-server path and
// its content (to check what comes back).
type smallFile struct {
	regURL, rawPath string
	body            []byte
}

// smallResult is one pass of o.smallFiles requests by o.smallClients
// clients.
type smallResult struct {
	metric, path string
	reqs         int
	elapsed      time.Duration
	lat          []time.Duration // sorted
}

func (r smallResult) rps() float64 { return float64(r.reqs) / r.elapsed.Seconds() }

func (r smallResult) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
}

// smallBench holds the raw file server and the clients' transport.
type smallBench struct {
	*bench
	rawDir string
	rawURL string
	client *http.Client
	run    int
}

func (b *bench) measureSmall(ctx context.Context, tmp string) ([]smallResult, error) {
	sb := &smallBench{bench: b, rawDir: filepath.Join(tmp, "raw")}
	if err := os.MkdirAll(sb.rawDir, 0o700); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	raw := &http.Server{Handler: http.FileServer(http.Dir(sb.rawDir)), ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = raw.Serve(ln) }()
	defer raw.Close()
	sb.rawURL = "http://" + ln.Addr().String()
	// One keep-alive connection per client, as 8 separate clients would
	// hold; the same transport for both servers.
	n := b.o.smallClients
	sb.client = &http.Client{Transport: &http.Transport{
		Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: n, MaxConnsPerHost: n,
		DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	}}
	defer sb.client.CloseIdleConnections()

	var out []smallResult
	for run := 1; run <= b.o.runs; run++ {
		sb.run = run
		files, put, err := sb.upload(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, put)
		if err := sb.analyze(ctx); err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "small    upload   run %d/%d %7.3f s %9.1f req/s  p50 %s p99 %s\n",
			run, b.o.runs, put.elapsed.Seconds(), put.rps(), put.pct(0.50).Round(10*time.Microsecond), put.pct(0.99).Round(10*time.Microsecond))
		paths := []string{"registry", "raw"}
		if run%2 == 0 {
			slices.Reverse(paths)
		}
		for _, p := range paths {
			r, err := sb.download(ctx, p, files)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
			fmt.Fprintf(os.Stderr, "small    %-8s run %d/%d %7.3f s %9.1f req/s  p50 %s p99 %s\n",
				p, run, b.o.runs, r.elapsed.Seconds(), r.rps(), r.pct(0.50).Round(10*time.Microsecond), r.pct(0.99).Round(10*time.Microsecond))
		}
	}
	return out, nil
}

// analyze refreshes PostgreSQL's planner statistics after the upload pass.
// Autovacuum does that within about a minute of a bulk insert; without it,
// the downloads of packages inserted seconds ago are planned as if the
// table were empty, and PostgreSQL may pick the (project, type, status)
// index and filter every package of the project per download (2 ms instead
// of 0.07 ms at 6,000 packages, a slowdown that grows with each run). The
// benchmark measures the steady state a running registry is in.
func (sb *smallBench) analyze(ctx context.Context) error {
	u := sb.o.databaseURL
	if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		return nil
	}
	db, err := sql.Open("pgx", u)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("ANALYZE after the uploads: %w", err)
	}
	return nil
}

// parallel runs do(i) for i in [0, n) on o.smallClients goroutines and
// returns the wall time and each call's latency.
func (sb *smallBench) parallel(ctx context.Context, n int, do func(context.Context, int) error) (time.Duration, []time.Duration, error) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, sb.o.smallClients)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	for range sb.o.smallClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				t := time.Now()
				if err := do(ctx, i); err != nil {
					errs <- err
					cancel()
					return
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, nil, err
	}
	slices.Sort(lat)
	return elapsed, lat, nil
}

// upload PUTs o.smallFiles new packages of o.smallSize random bytes each
// (timed, as a metric of its own) and writes the same bytes under rawDir.
func (sb *smallBench) upload(ctx context.Context) ([]smallFile, smallResult, error) {
	files := make([]smallFile, sb.o.smallFiles)
	seed := randomUint64()
	for i := range files {
		body := make([]byte, sb.o.smallSize)
		_, _ = rand.NewChaCha8(seedBytes(seed, uint64(i))).Read(body)
		name, version := fmt.Sprintf("small-%d-%d", sb.run, i), "1.0.0"
		rel := fmt.Sprintf("%d/%d/file.bin", sb.run, i)
		if err := os.MkdirAll(filepath.Join(sb.rawDir, filepath.Dir(rel)), 0o700); err != nil {
			return nil, smallResult{}, err
		}
		if err := os.WriteFile(filepath.Join(sb.rawDir, rel), body, 0o600); err != nil {
			return nil, smallResult{}, err
		}
		files[i] = smallFile{regURL: sb.genericURL(name, version, "file.bin"), rawPath: "/" + rel, body: body}
	}
	elapsed, lat, err := sb.parallel(ctx, len(files), func(ctx context.Context, i int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, files[i].regURL, bytes.NewReader(files[i].body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("PRIVATE-TOKEN", rootToken)
		resp, err := sb.client.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("PUT %s answered %d: %s", files[i].regURL, resp.StatusCode, body)
		}
		return nil
	})
	if err != nil {
		return nil, smallResult{}, fmt.Errorf("small upload: %w", err)
	}
	return files, smallResult{metric: "small PUT", path: "registry", reqs: len(files), elapsed: elapsed, lat: lat}, nil
}

func seedBytes(a, b uint64) [32]byte {
	var s [32]byte
	for k := range 8 {
		s[k] = byte(a >> (8 * k))
		s[8+k] = byte(b >> (8 * k))
	}
	return s
}

// download GETs every file once from path ("registry" or "raw"), reading
// and checking each body. With --cpuprofile the registry pass also writes a
// CPU profile and mutex and block profiles.
func (sb *smallBench) download(ctx context.Context, path string, files []smallFile) (smallResult, error) {
	url := func(f smallFile) string { return f.regURL }
	if path == "raw" {
		url = func(f smallFile) string { return sb.rawURL + f.rawPath }
	}
	stop, err := sb.startProfiles(path)
	if err != nil {
		return smallResult{}, err
	}
	get := func(ctx context.Context, i int) error {
		if sb.o.smallClient == "curl" {
			return curlGet(ctx, url(files[i]), files[i].body)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url(files[i]), nil)
		if err != nil {
			return err
		}
		req.Header.Set("PRIVATE-TOKEN", rootToken)
		resp, err := sb.client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, files[i].body) {
			return fmt.Errorf("GET %s answered %d with %d bytes (want 200 with %d)", url(files[i]), resp.StatusCode, len(body), len(files[i].body))
		}
		return nil
	}
	elapsed, lat, err := sb.parallel(ctx, len(files), get)
	if perr := stop(); err == nil {
		err = perr
	}
	if err != nil {
		return smallResult{}, fmt.Errorf("small download %s: %w", path, err)
	}
	return smallResult{metric: "small GET", path: path, reqs: len(files), elapsed: elapsed, lat: lat}, nil
}

// startProfiles starts the CPU profile and mutex/block sampling for a
// registry pass when --cpuprofile is set; stop writes them.
func (sb *smallBench) startProfiles(path string) (func() error, error) {
	if sb.o.cpuprofile == "" || path != "registry" {
		return func() error { return nil }, nil
	}
	prefix := fmt.Sprintf("%s.small-downloads-%s-run%d", sb.o.cpuprofile, path, sb.run)
	f, err := os.Create(prefix + ".cpu.pprof")
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	runtime.SetMutexProfileFraction(1)
	runtime.SetBlockProfileRate(int(10 * time.Microsecond))
	return func() error {
		pprof.StopCPUProfile()
		err := f.Close()
		for _, name := range []string{"mutex", "block"} {
			pf, cerr := os.Create(prefix + "." + name + ".pprof")
			if cerr == nil {
				cerr = pprof.Lookup(name).WriteTo(pf, 0)
				if e := pf.Close(); cerr == nil {
					cerr = e
				}
			}
			if err == nil {
				err = cerr
			}
		}
		runtime.SetMutexProfileFraction(0)
		runtime.SetBlockProfileRate(0)
		fmt.Fprintf(os.Stderr, "wrote %s.{cpu,mutex,block}.pprof\n", prefix)
		return err
	}, nil
}

// printSmall prints the medians of the runs per metric and path, and the
// registry/raw ratio.
func printSmall(out io.Writer, rs []smallResult, o options) {
	type key struct{ metric, path string }
	var order []key
	by := map[key][]smallResult{}
	for _, r := range rs {
		k := key{r.metric, r.path}
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = append(by[k], r)
	}
	median := func(k key) smallResult {
		v := slices.Clone(by[k])
		slices.SortFunc(v, func(a, b smallResult) int { return cmp.Compare(a.elapsed, b.elapsed) })
		return v[len(v)/2]
	}
	fmt.Fprintf(out, "%-9s %-9s %12s %10s %10s  runs (req/s; %d files of %s, %d %s clients)\n",
		"metric", "path", "median req/s", "p50", "p99", o.smallFiles, formatSize(o.smallSize), o.smallClients, o.smallClient)
	for _, k := range order {
		m := median(k)
		var runs []string
		for _, r := range by[k] {
			runs = append(runs, strconv.FormatFloat(r.rps(), 'f', 1, 64))
		}
		fmt.Fprintf(out, "%-9s %-9s %12.1f %10s %10s  %s\n", k.metric, k.path, m.rps(),
			m.pct(0.50).Round(10*time.Microsecond), m.pct(0.99).Round(10*time.Microsecond), strings.Join(runs, " "))
	}
	reg, raw := by[key{"small GET", "registry"}], by[key{"small GET", "raw"}]
	if len(reg) > 0 && len(raw) > 0 {
		r := median(key{"small GET", "registry"}).rps() / median(key{"small GET", "raw"}).rps()
		verdict := "ok"
		if r < o.smallTarget {
			verdict = "BELOW TARGET"
		}
		fmt.Fprintf(out, "\nsmall-downloads ratio %.2f (target >= %.2f) %s  [registry/raw req/s, medians]\n", r, o.smallTarget, verdict)
	}
}

// curlGet downloads u with one curl process (a new process and connection
// per request, as a shell loop of curl does) and checks the body.
func curlGet(ctx context.Context, u string, want []byte) error {
	out, err := exec.CommandContext(ctx, "curl", "-sS", "--fail", "-H", "PRIVATE-TOKEN: "+rootToken, u).Output()
	if err != nil {
		return fmt.Errorf("curl %s: %w", u, err)
	}
	if !bytes.Equal(out, want) {
		return fmt.Errorf("curl %s: got %d bytes, want %d", u, len(out), len(want))
	}
	return nil
}
