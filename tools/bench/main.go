// Command bench measures the registry's data path against the blob store it
// sits on, in one process on one machine: upload and download throughput
// through the registry's HTTP API versus the same bytes written to and
// served from the same backend directly, and the peak RSS of a large upload.
// It measures; it never fails because a target is missed.
//
//	go run ./tools/bench                       # local filesystem, 1 GiB, 3 runs
//	go run ./tools/bench --backend s3 --s3-endpoint 127.0.0.1:9000 \
//	    --s3-access-key minioadmin --s3-secret-key minioadmin
//
// See README.md in this directory.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server"
	"github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/config"
)

const rootToken = "glpat-bench-root-token-0123456789"

type options struct {
	backend     string
	dir         string
	size        int64
	rssSize     int64
	runs        int
	only        string
	target      float64
	databaseURL string
	s3Endpoint  string
	s3AccessKey string
	s3SecretKey string
	s3Bucket    string
	s3Region    string
	s3UseSSL    bool
	cpuprofile  string
	verbose     bool
	// small-downloads
	smallFiles   int
	smallSize    int64
	smallClients int
	smallTarget  float64
	smallClient  string
	// maven-upload
	mavenSize int64
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func parseFlags(args []string) (options, error) {
	o := options{size: 1 << 30, rssSize: 5 << 30, smallSize: 4 << 10, mavenSize: 100 << 20}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&o.backend, "backend", "fs", "blob backend: fs or s3")
	fs.StringVar(&o.dir, "dir", "", "parent directory of the temporary data dir (SQLite, secret key, fs blobs); default $TMPDIR or /tmp")
	fs.Var(sizeFlag{&o.size}, "size", "bytes per throughput run (units: KiB MiB GiB, KB MB GB)")
	fs.Var(sizeFlag{&o.rssSize}, "rss-size", "bytes of the peak-RSS upload; 0 skips it")
	fs.IntVar(&o.runs, "runs", 3, "measured runs per path and metric (plus one warm-up each)")
	fs.StringVar(&o.only, "only", "upload,download,rss", "comma-separated subset of upload, download, rss, small-downloads, maven-upload")
	fs.IntVar(&o.smallFiles, "small-files", 2000, "small-downloads: files uploaded and downloaded per run")
	fs.Var(sizeFlag{&o.smallSize}, "small-size", "small-downloads: bytes per file")
	fs.IntVar(&o.smallClients, "small-clients", 8, "small-downloads: parallel clients")
	fs.StringVar(&o.smallClient, "small-client", "go", "small-downloads: go (net/http, keep-alive) or curl (one curl process per GET)")
	fs.Float64Var(&o.smallTarget, "small-target", 0.70, "small-downloads: registry/raw req/s ratio to report against")
	fs.Var(sizeFlag{&o.mavenSize}, "maven-size", "maven-upload: bytes of the deployed .jar and of the generic upload it is compared with")
	fs.Float64Var(&o.target, "target", 0.90, "registry/direct throughput ratio to report against")
	fs.StringVar(&o.databaseURL, "database-url", "", "database for the registry (default: SQLite in the temp dir); use a throwaway database")
	fs.StringVar(&o.s3Endpoint, "s3-endpoint", os.Getenv("REGISTRY_TEST_S3_ENDPOINT"), "S3 host:port (env REGISTRY_TEST_S3_ENDPOINT)")
	fs.StringVar(&o.s3AccessKey, "s3-access-key", os.Getenv("REGISTRY_TEST_S3_ACCESS_KEY"), "S3 access key (env REGISTRY_TEST_S3_ACCESS_KEY)")
	fs.StringVar(&o.s3SecretKey, "s3-secret-key", os.Getenv("REGISTRY_TEST_S3_SECRET_KEY"), "S3 secret key (env REGISTRY_TEST_S3_SECRET_KEY)")
	fs.StringVar(&o.s3Bucket, "s3-bucket", envOr("REGISTRY_TEST_S3_BUCKET", "registry-bench"), "S3 bucket, created if missing (env REGISTRY_TEST_S3_BUCKET)")
	fs.StringVar(&o.s3Region, "s3-region", "us-east-1", "S3 region")
	fs.BoolVar(&o.s3UseSSL, "s3-use-ssl", false, "reach S3 over HTTPS")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write CPU profiles to PREFIX.<metric>-<path>.pprof (one per path; the measured runs of a metric then run path by path instead of interleaved)")
	fs.BoolVar(&o.verbose, "verbose", false, "show the registry's logs on stderr")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case o.backend != "fs" && o.backend != "s3":
		return o, fmt.Errorf("--backend must be fs or s3, not %q", o.backend)
	case o.size <= 0:
		return o, errors.New("--size must be positive")
	case o.rssSize < 0:
		return o, errors.New("--rss-size must be 0 (skip) or positive")
	case o.runs < 1:
		return o, errors.New("--runs must be at least 1")
	case o.smallFiles < 1 || o.smallSize <= 0 || o.smallClients < 1:
		return o, errors.New("--small-files, --small-size and --small-clients must be positive")
	case o.mavenSize <= 0:
		return o, errors.New("--maven-size must be positive")
	case o.smallClient != "go" && o.smallClient != "curl":
		return o, fmt.Errorf("--small-client must be go or curl, not %q", o.smallClient)
	case o.backend == "s3" && (o.s3Endpoint == "" || o.s3AccessKey == "" || o.s3SecretKey == ""):
		return o, errors.New("--backend s3 needs --s3-endpoint, --s3-access-key and --s3-secret-key (or REGISTRY_TEST_S3_* env)")
	}
	for m := range strings.SplitSeq(o.only, ",") {
		if m = strings.TrimSpace(m); m != "upload" && m != "download" && m != "rss" && m != "small-downloads" && m != "maven-upload" {
			return o, fmt.Errorf("--only: unknown metric %q (want upload, download, rss, small-downloads, maven-upload)", m)
		}
	}
	return o, nil
}

func (o options) wants(metric string) bool {
	for m := range strings.SplitSeq(o.only, ",") {
		if strings.TrimSpace(m) == metric {
			return true
		}
	}
	return false
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// bench is one registry and one direct file server over one blob store.
type bench struct {
	o         options
	srv       *server.Server
	store     blob.Store
	regURL    string
	directURL string
	projectID int
	client    *http.Client
	pattern   []byte
	seq       int
	dlURL     string // the registry URL of the download object
	dlKey     string // its storage key, served by the direct download server
	// maven-upload (maven.go)
	mavenProjectID int
	mavenSidecar   []time.Duration // each maven run's sidecar PUT
}

func run(ctx context.Context, o options, out io.Writer) (err error) {
	tmp, err := os.MkdirTemp(o.dir, "registry-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	cfg := config.Defaults()
	cfg.DataDir = tmp
	cfg.Addr = "127.0.0.1:0"
	cfg.InitialRootToken = rootToken
	cfg.MaxFileSize = 0
	cfg.DatabaseURL = o.databaseURL
	if o.backend == "s3" {
		cfg.S3 = config.S3{
			Endpoint: o.s3Endpoint, Bucket: o.s3Bucket, AccessKey: o.s3AccessKey, SecretKey: o.s3SecretKey,
			Region: o.s3Region, UseSSL: o.s3UseSSL, Prefix: fmt.Sprintf("bench-%016x/", randomUint64()),
		}
		removeBucket, err := noteBucket(ctx, o)
		if err != nil {
			return err
		}
		defer removeBucket()
	}

	logOut := io.Discard
	if o.verbose {
		logOut = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The registry lives until the cleanup below is done, even after ^C.
	srvCtx, stopSrv := context.WithCancel(context.Background())
	defer stopSrv()
	srv, err := server.New(srvCtx, cfg, log, server.Options{})
	if err != nil {
		return fmt.Errorf("starting the registry: %w", err)
	}
	// Everything this run wrote to the store goes, whatever happened, once
	// the registry has stopped (in-flight handlers finished).
	defer cleanupStore(srv.Blobs, o.verbose)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = srv.Close()
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(srvCtx, ln) }()
	defer func() {
		stopSrv()
		if serr := <-served; serr != nil && err == nil {
			err = fmt.Errorf("registry shutdown: %w", serr)
		}
	}()

	b := &bench{
		o: o, srv: srv, store: srv.Blobs, regURL: "http://" + ln.Addr().String(), pattern: newPattern(),
		client: &http.Client{Transport: &http.Transport{
			Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: 4,
			DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		}},
	}
	dln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	direct := &http.Server{Handler: http.HandlerFunc(b.serveDirect), ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = direct.Serve(dln) }()
	defer direct.Close()
	b.directURL = "http://" + dln.Addr().String()

	if err := b.setup(ctx); err != nil {
		return err
	}
	header(out, o, tmp, srv)

	var tput []*series
	var ratios []string
	if o.wants("upload") {
		s, err := b.measure(ctx, "upload", []variant{{"registry", b.uploadRegistry}, {"direct", b.uploadDirect}})
		if err != nil {
			return err
		}
		tput = append(tput, s...)
		ratios = append(ratios, ratioLine("upload", s, o.target))
	}
	if o.wants("download") {
		if err := b.prepareDownload(ctx); err != nil {
			return err
		}
		s, err := b.measure(ctx, "download", []variant{{"registry", b.downloadRegistry}, {"direct", b.downloadDirect}})
		if err != nil {
			return err
		}
		tput = append(tput, s...)
		ratios = append(ratios, ratioLine("download", s, o.target))
	}
	if o.wants("maven-upload") {
		s, line, err := b.measureMaven(ctx)
		if err != nil {
			return err
		}
		tput = append(tput, s...)
		ratios = append(ratios, line)
	}
	var rss []rssResult
	if o.wants("rss") && o.rssSize > 0 {
		if rss, err = b.measureRSS(ctx); err != nil {
			return err
		}
	}

	var small []smallResult
	if o.wants("small-downloads") {
		if small, err = b.measureSmall(ctx, tmp); err != nil {
			return err
		}
	}

	fmt.Fprintln(out)
	printThroughput(out, tput, o)
	if len(small) > 0 {
		printSmall(out, small, o)
	}
	if len(rss) > 0 {
		fmt.Fprintln(out)
		printRSS(out, rss, o)
	}
	fmt.Fprintln(out)
	for _, l := range ratios {
		fmt.Fprintln(out, l)
	}
	if len(rss) == 2 {
		fmt.Fprintf(out, "upload peak RSS %.0f MiB through the registry, %.0f MiB direct (%s file, baseline %.0f MiB)\n",
			rss[0].peakMiB, rss[1].peakMiB, formatSize(o.rssSize), rss[0].baseMiB)
	}
	return nil
}

// noteBucket remembers whether the bucket exists so that a bucket this run
// creates is removed again at the end (if it is empty by then).
func noteBucket(ctx context.Context, o options) (func(), error) {
	mc, err := minio.New(o.s3Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(o.s3AccessKey, o.s3SecretKey, ""), Secure: o.s3UseSSL, Region: o.s3Region,
	})
	if err != nil {
		return nil, err
	}
	existed, err := mc.BucketExists(ctx, o.s3Bucket)
	if err != nil {
		return nil, fmt.Errorf("S3 at %s: %w", o.s3Endpoint, err)
	}
	return func() {
		if existed {
			return
		}
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = mc.RemoveBucket(cctx, o.s3Bucket)
	}, nil
}

// cleanupStore deletes every object under the store's root (fs: the temp
// dir, which goes anyway; s3: the run's random prefix).
func cleanupStore(store blob.Store, verbose bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var keys []string
	_ = store.Walk(ctx, "", func(i blob.Info) error {
		keys = append(keys, i.Key)
		return nil
	})
	for _, k := range keys {
		if err := store.Delete(ctx, k); err != nil {
			fmt.Fprintf(os.Stderr, "bench: cleanup: deleting %s: %v\n", k, err)
		}
	}
	if verbose {
		fmt.Fprintf(os.Stderr, "bench: cleanup: deleted %d objects\n", len(keys))
	}
}

// setup creates the group and project uploads go to.
func (b *bench) setup(ctx context.Context) error {
	if _, err := b.graphQL(ctx, `mutation { createGroup(input: {path: "bench"}) { group { id } errors } }`); err != nil {
		return err
	}
	id, err := b.createProject(ctx, "p", "")
	if err != nil {
		return err
	}
	b.projectID = id
	return nil
}

// createProject creates bench/<path> (extra: more input fields, such as
// `format: MAVEN`) and returns its numeric id.
func (b *bench) createProject(ctx context.Context, path, extra string) (int, error) {
	data, err := b.graphQL(ctx, `mutation { createProject(input: {namespacePath: "bench", path: "`+path+`"`+extra+`}) { project { id } errors } }`)
	if err != nil {
		return 0, err
	}
	var res struct {
		CreateProject struct {
			Project struct{ ID string }
			Errors  []string
		} `json:"createProject"`
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return 0, fmt.Errorf("createProject: %w", err)
	}
	if len(res.CreateProject.Errors) > 0 {
		return 0, fmt.Errorf("createProject: %v", res.CreateProject.Errors)
	}
	gid := res.CreateProject.Project.ID
	id, err := strconv.Atoi(gid[strings.LastIndexByte(gid, '/')+1:])
	if err != nil {
		return 0, fmt.Errorf("createProject returned id %q", gid)
	}
	return id, nil
}

func (b *bench) graphQL(ctx context.Context, query string) (json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.regURL+"/api/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("PRIVATE-TOKEN", rootToken)
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct{ Message string }
	}
	if err := json.Unmarshal(raw, &r); err != nil || resp.StatusCode != http.StatusOK || len(r.Errors) > 0 {
		return nil, fmt.Errorf("graphql answered %d: %s", resp.StatusCode, raw)
	}
	return r.Data, nil
}

// variant is one path of a metric; run performs one timed transfer of
// b.o.size bytes and cleans up after itself outside the timed part.
type variant struct {
	path string
	run  func(ctx context.Context, size int64) (time.Duration, error)
}

type series struct {
	metric, path string
	mbps         []float64 // measured runs, in order
}

func (s *series) best() float64 { return slices.Max(s.mbps) }

func (s *series) median() float64 {
	v := slices.Clone(s.mbps)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func mbps(n int64, d time.Duration) float64 { return float64(n) / 1e6 / d.Seconds() }

// measure runs one warm-up per path, then o.runs measured runs per path,
// interleaved (alternating which path goes first) so that drift in the
// machine's state hits both paths alike. With --cpuprofile the measured runs
// of each path run back to back under their own profile.
func (b *bench) measure(ctx context.Context, metric string, vs []variant) ([]*series, error) {
	out := make([]*series, len(vs))
	for i, v := range vs {
		out[i] = &series{metric: metric, path: v.path}
	}
	one := func(i, run int) error {
		d, err := vs[i].run(ctx, b.o.size)
		if err != nil {
			return fmt.Errorf("%s %s: %w", metric, vs[i].path, err)
		}
		label := "warm-up"
		if run > 0 {
			label = fmt.Sprintf("run %d/%d", run, b.o.runs)
			out[i].mbps = append(out[i].mbps, mbps(b.o.size, d))
		}
		fmt.Fprintf(os.Stderr, "%-8s %-8s %-9s %7.3f s %9.1f MB/s\n", metric, vs[i].path, label, d.Seconds(), mbps(b.o.size, d))
		return nil
	}
	for i := range vs {
		if err := one(i, 0); err != nil {
			return nil, err
		}
	}
	if b.o.cpuprofile != "" {
		for i := range vs {
			name := fmt.Sprintf("%s.%s-%s.pprof", b.o.cpuprofile, metric, vs[i].path)
			f, err := os.Create(name)
			if err != nil {
				return nil, err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
				return nil, err
			}
			for run := 1; run <= b.o.runs; run++ {
				if err = one(i, run); err != nil {
					break
				}
			}
			pprof.StopCPUProfile()
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(os.Stderr, "wrote %s\n", name)
		}
		return out, nil
	}
	for run := 1; run <= b.o.runs; run++ {
		order := []int{0, 1}
		if run%2 == 0 {
			order = []int{1, 0}
		}
		for _, i := range order {
			if err := one(i, run); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (b *bench) next() int { b.seq++; return b.seq }

func (b *bench) genericURL(name, version, file string) string {
	return fmt.Sprintf("%s/api/v4/projects/%d/packages/generic/%s/%s/%s", b.regURL, b.projectID, name, version, file)
}

// stored is a package file the registry recorded.
type stored struct {
	url        string
	packageID  int
	storageKey string
}

// putRegistry streams size generated bytes to the registry as a new generic
// package file and returns the time until the 201 arrived.
func (b *bench) putRegistry(ctx context.Context, size int64) (time.Duration, stored, error) {
	n := b.next()
	name, version, file := fmt.Sprintf("bench-%d", n), "1.0."+strconv.Itoa(n), fmt.Sprintf("blob-%d.bin", n)
	u := b.genericURL(name, version, file)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, newGen(b.pattern, randomUint64(), size))
	if err != nil {
		return 0, stored{}, err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("PRIVATE-TOKEN", rootToken)
	start := time.Now()
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, stored{}, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	elapsed := time.Since(start)
	if resp.StatusCode != http.StatusCreated {
		return 0, stored{}, fmt.Errorf("PUT answered %d: %s", resp.StatusCode, body)
	}
	pf, err := b.srv.DB.PackageFile.Query().
		Where(packagefile.FileName(file), packagefile.HasPkgWith(pkg.Name(name), pkg.Version(version))).
		WithBlob().Only(ctx)
	if err != nil {
		return 0, stored{}, fmt.Errorf("finding the uploaded file: %w", err)
	}
	if pf.Size != size {
		return 0, stored{}, fmt.Errorf("registry stored %d bytes, sent %d", pf.Size, size)
	}
	return elapsed, stored{url: u, packageID: pf.PackageID, storageKey: pf.Edges.Blob.StorageKey}, nil
}

// deleteRegistry removes the package through the API and its object from
// the store at once (the registry itself leaves it to the orphan sweeper).
func (b *bench) deleteRegistry(ctx context.Context, s stored) error {
	u := fmt.Sprintf("%s/api/v4/projects/%d/packages/%d", b.regURL, b.projectID, s.packageID)
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("PRIVATE-TOKEN", rootToken)
	resp, err := b.client.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("DELETE package answered %d: %s", resp.StatusCode, body)
	}
	return b.store.Delete(ctx, s.storageKey)
}

func (b *bench) uploadRegistry(ctx context.Context, size int64) (time.Duration, error) {
	d, s, err := b.putRegistry(ctx, size)
	if err != nil {
		return 0, err
	}
	return d, b.deleteRegistry(ctx, s)
}

// putDirect is the floor the registry is compared with: the same generator
// into the same store's Put, hashing SHA-256 on the way as the registry does.
func (b *bench) putDirect(ctx context.Context, size int64) (time.Duration, string, error) {
	key := fmt.Sprintf("bench/direct-%d", b.next())
	h := sha256.New()
	start := time.Now()
	n, err := b.store.Put(ctx, key, io.TeeReader(newGen(b.pattern, randomUint64(), size), h), size)
	_ = hex.EncodeToString(h.Sum(nil)) // as the registry does with its digest
	elapsed := time.Since(start)
	if err != nil {
		return 0, "", err
	}
	if n != size {
		return 0, "", fmt.Errorf("Put stored %d bytes, sent %d", n, size)
	}
	return elapsed, key, nil
}

func (b *bench) uploadDirect(ctx context.Context, size int64) (time.Duration, error) {
	d, key, err := b.putDirect(ctx, size)
	if err != nil {
		return 0, err
	}
	return d, b.store.Delete(ctx, key)
}

// prepareDownload uploads the one object both download paths serve.
func (b *bench) prepareDownload(ctx context.Context) error {
	fmt.Fprintf(os.Stderr, "download: uploading the %s object both paths serve\n", formatSize(b.o.size))
	_, s, err := b.putRegistry(ctx, b.o.size)
	if err != nil {
		return fmt.Errorf("preparing the download: %w", err)
	}
	b.dlURL, b.dlKey = s.url, s.storageKey
	return nil
}

// serveDirect is the floor for downloads: open the object in the store and
// hand it to http.ServeContent, the *os.File itself on local disk (sendfile).
func (b *bench) serveDirect(w http.ResponseWriter, r *http.Request) {
	obj, err := b.store.Open(r.Context(), b.dlKey)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer obj.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	modtime := obj.Info().ModTime
	if fb, ok := obj.(blob.FileBacked); ok {
		http.ServeContent(w, r, "blob", modtime, fb.OSFile())
		return
	}
	http.ServeContent(w, r, "blob", modtime, obj)
}

func (b *bench) get(ctx context.Context, u string, size int64) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("PRIVATE-TOKEN", rootToken)
	start := time.Now()
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, fmt.Errorf("GET answered %d: %s", resp.StatusCode, body)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	elapsed := time.Since(start)
	if err != nil {
		return 0, err
	}
	if n != size {
		return 0, fmt.Errorf("GET returned %d bytes, want %d", n, size)
	}
	return elapsed, nil
}

func (b *bench) downloadRegistry(ctx context.Context, size int64) (time.Duration, error) {
	return b.get(ctx, b.dlURL, size)
}

func (b *bench) downloadDirect(ctx context.Context, size int64) (time.Duration, error) {
	return b.get(ctx, b.directURL+"/blob", size)
}

type rssResult struct {
	path             string
	peakMiB, baseMiB float64
	mbps             float64
}

// measureRSS uploads o.rssSize bytes once per path with the peak RSS reset
// before, and reads the peak (VmHWM) after.
func (b *bench) measureRSS(ctx context.Context) ([]rssResult, error) {
	paths := []struct {
		name string
		run  func(context.Context, int64) (time.Duration, error)
	}{{"registry", b.uploadRegistry}, {"direct", b.uploadDirect}}
	var out []rssResult
	for _, p := range paths {
		runtime.GC()
		debug.FreeOSMemory()
		base, err := procStatusMiB("VmRSS")
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			return nil, fmt.Errorf("resetting the peak RSS: %w", err)
		}
		d, err := p.run(ctx, b.o.rssSize)
		if err != nil {
			return nil, fmt.Errorf("rss %s: %w", p.name, err)
		}
		peak, err := procStatusMiB("VmHWM")
		if err != nil {
			return nil, err
		}
		r := rssResult{path: p.name, peakMiB: peak, baseMiB: base, mbps: mbps(b.o.rssSize, d)}
		fmt.Fprintf(os.Stderr, "rss      %-8s %-9s %7.3f s %9.1f MB/s  peak %.1f MiB (baseline %.1f MiB)\n",
			p.name, formatSize(b.o.rssSize), d.Seconds(), r.mbps, peak, base)
		out = append(out, r)
	}
	return out, nil
}

// procStatusMiB reads a "kB" field of /proc/self/status in MiB.
func procStatusMiB(field string) (float64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != field {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/self/status %s: %q", field, v)
		}
		return kb / 1024, nil
	}
	return 0, fmt.Errorf("/proc/self/status has no %s", field)
}

func header(out io.Writer, o options, tmp string, srv *server.Server) {
	where := "data dir " + tmp
	if o.backend == "s3" {
		where = fmt.Sprintf("%s bucket %s prefix %s", o.s3Endpoint, o.s3Bucket, srv.Config.S3.Prefix)
	}
	cpu := "?"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.Lines(string(raw)) {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		if bytes.Contains(raw, []byte(" sha_ni")) {
			cpu += ", sha_ni"
		}
	}
	fmt.Fprintf(out, "registry bench: backend %s (%s), database %s\n", srv.Blobs.Name(), where, srv.Dialect)
	fmt.Fprintf(out, "size %s per run, %d measured runs + 1 warm-up per path, %s, GOMAXPROCS %d, %s/%s\n",
		formatSize(o.size), o.runs, runtime.Version(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(out, "cpu: %s; temp dir under %s\n", cpu, filepath.Dir(tmp))
}

func printThroughput(out io.Writer, ss []*series, o options) {
	if len(ss) == 0 {
		return
	}
	w := 9
	for _, s := range ss {
		w = max(w, len(s.metric))
	}
	fmt.Fprintf(out, "%-*s %-9s %10s %12s  runs (MB/s, %s each)\n", w, "metric", "path", "best MB/s", "median MB/s", formatSize(o.size))
	for _, s := range ss {
		runs := make([]string, len(s.mbps))
		for i, v := range s.mbps {
			runs[i] = fmt.Sprintf("%.1f", v)
		}
		each := ""
		if s.metric == "maven-upload" && o.mavenSize != o.size {
			each = fmt.Sprintf("  (%s each)", formatSize(o.mavenSize))
		}
		fmt.Fprintf(out, "%-*s %-9s %10.1f %12.1f  %s%s\n", w, s.metric, s.path, s.best(), s.median(), strings.Join(runs, " "), each)
	}
}

func printRSS(out io.Writer, rs []rssResult, o options) {
	fmt.Fprintf(out, "%-9s %-9s %10s %12s  MB/s (one %s upload)\n", "peak RSS", "path", "VmHWM MiB", "baseline MiB", formatSize(o.rssSize))
	for _, r := range rs {
		fmt.Fprintf(out, "%-9s %-9s %10.1f %12.1f  %.1f\n", "upload", r.path, r.peakMiB, r.baseMiB, r.mbps)
	}
}

// ratioLine compares the medians of the registry and direct series.
func ratioLine(metric string, ss []*series, target float64) string {
	var reg, dir *series
	for _, s := range ss {
		switch s.path {
		case "registry":
			reg = s
		case "direct":
			dir = s
		}
	}
	r := reg.median() / dir.median()
	verdict := "ok"
	if r < target {
		verdict = "BELOW TARGET"
	}
	return fmt.Sprintf("%s ratio %.2f (target >= %.2f) %s  [registry/direct, medians; bests %.2f]",
		metric, r, target, verdict, reg.best()/dir.best())
}
