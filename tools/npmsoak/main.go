// Command npmsoak measures what a cold npm install through a REMOTE npm
// project costs the registry: its memory (VmRSS, VmHWM) and what it leaves
// in the database and the blob store.
//
// It serves real packuments and tarballs from a fixture directory on a
// loopback "upstream" (nothing goes to a public registry), starts the
// registry binary given with --registry (so that two builds can be
// compared: main = before, a branch = after) on a fresh data dir, creates
// a REMOTE npm project over the upstream, runs npm install with a clean
// npm cache, then reads the full and abbreviated packuments of the largest
// names (what npm view and older clients ask for), sampling the server's
// RSS throughout.
//
// The fixture directory (see README.md) has full/<name>.json (the full
// packument, scoped names as @scope%2fname), tgz/<name>/<file>.tgz and a
// package.json (+ package-lock.json) of the tree to install.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const token = "glpat-npmsoak-0123456789abcdef"

func main() {
	registryBin := flag.String("registry", "", "registry binary to measure (go build -o registry .)")
	fixtures := flag.String("fixtures", "/tmp/npmfix", "fixture directory: full/, tgz/, package.json, package-lock.json")
	large := flag.Int("large", 30, "after the install, read the full and abbreviated packuments of this many of the largest names")
	keep := flag.Bool("keep", false, "keep the data dir")
	extra := flag.String("registry-args", "", "extra arguments for the registry, space separated")
	npmArgs := flag.String("npm-args", "", "extra arguments for npm install, space separated (--before=2100-01-01 makes npm ask for full packuments)")
	flag.Parse()
	if *registryBin == "" {
		log.Fatal("--registry is required")
	}
	up := &upstream{dir: *fixtures, counts: map[string]int{}}
	upLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	up.base = "http://" + upLn.Addr().String()
	go http.Serve(upLn, up)

	work, err := os.MkdirTemp("", "npmsoak-")
	if err != nil {
		log.Fatal(err)
	}
	if !*keep {
		defer os.RemoveAll(work)
	} else {
		fmt.Printf("work dir (kept): %s\n", work)
	}
	dataDir := filepath.Join(work, "data")
	addr := freeAddr()
	args := []string{"serve", "--addr", addr, "--data-dir", dataDir, "--gc-interval", "0", "--log-level", "warn"}
	if *extra != "" {
		args = append(args, strings.Fields(*extra)...)
	}
	srv := exec.Command(*registryBin, args...)
	srv.Env = append(os.Environ(), "REGISTRY_INITIAL_ROOT_TOKEN="+token)
	srv.Stdout, srv.Stderr = os.Stderr, os.Stderr
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill(); _, _ = srv.Process.Wait() }()
	base := "http://" + addr
	waitHealthy(base)
	pid := srv.Process.Pid
	fmt.Printf("registry %s (pid %d), upstream %s, fixtures %s\n", *registryBin, pid, up.base, *fixtures)
	fmt.Printf("fresh:            VmRSS %s\n", mib(procStatus(pid, "VmRSS")))

	gql(base, `mutation { createGroup(input: {path: "soak", visibility: PUBLIC}) { errors } }`)
	gql(base, fmt.Sprintf(`mutation { createProject(input: {namespacePath: "soak", path: "npm-remote", visibility: PUBLIC, repositoryMode: REMOTE, format: NPM, remoteUrl: %q}) { errors } }`, up.base))
	reg := base + "/api/v4/projects/soak%2Fnpm-remote/packages/npm/"

	var peak atomic.Int64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		for {
			if v := procStatus(pid, "VmRSS"); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()

	proj := filepath.Join(work, "proj")
	must(os.MkdirAll(proj, 0o755))
	for _, f := range []string{"package.json", "package-lock.json"} {
		if b, err := os.ReadFile(filepath.Join(*fixtures, f)); err == nil {
			must(os.WriteFile(filepath.Join(proj, f), b, 0o644))
		}
	}
	host := strings.TrimPrefix(reg, "http:")
	must(os.WriteFile(filepath.Join(proj, ".npmrc"), []byte("registry="+reg+"\n"+host+":_authToken="+token+"\n"), 0o600))
	npm := exec.Command("npm", "install", "--cache", filepath.Join(work, "npm-cache"), "--ignore-scripts", "--no-audit",
		"--no-fund", "--prefer-online")
	npm.Args = append(npm.Args, strings.Fields(*npmArgs)...)
	npm.Dir = proj
	npm.Env = append(os.Environ(), "npm_config_userconfig="+filepath.Join(work, "no-user-npmrc"))
	start := time.Now()
	out, err := npm.CombinedOutput()
	elapsed := time.Since(start)
	if err != nil {
		log.Fatalf("npm install: %v\n%s", err, out)
	}
	installed := countInstalled(proj)
	fmt.Printf("npm install:      %d packages in %.1fs; upstream: %d packument requests (%d names), %d tarballs\n",
		installed, elapsed.Seconds(), up.docRequests.Load(), up.names(), up.tarballs.Load())
	fmt.Printf("after install:    VmRSS %s, peak VmRSS %s, VmHWM %s\n", mib(procStatus(pid, "VmRSS")), mib(peak.Load()),
		mib(procStatus(pid, "VmHWM")))
	reportStorage(dataDir)

	if *large > 0 {
		names := up.largest(*large)
		for _, n := range names {
			for _, accept := range []string{"application/json", "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"} {
				get(reg+strings.Replace(n, "/", "%2f", 1), accept)
			}
		}
		time.Sleep(time.Second)
		fmt.Printf("+%d large names:  VmRSS %s, peak VmRSS %s, VmHWM %s; upstream: %d packument requests\n", len(names),
			mib(procStatus(pid, "VmRSS")), mib(peak.Load()), mib(procStatus(pid, "VmHWM")), up.docRequests.Load())
		reportStorage(dataDir)
	}
	close(stop)
	sampler.Wait()
}

// upstream serves the fixtures as an npm registry would: the full
// packument, or for Accept: application/vnd.npm.install-v1+json the
// abbreviated one (derived here, as the public registry derives it),
// tarball URLs pointing back at it.
type upstream struct {
	dir, base   string
	mu          sync.Mutex
	counts      map[string]int
	docRequests atomic.Int64
	tarballs    atomic.Int64
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	if name, file, ok := strings.Cut(path, "/-/"); ok {
		u.tarballs.Add(1)
		http.ServeFile(w, r, filepath.Join(u.dir, "tgz", strings.Replace(name, "/", "%2f", 1), file))
		return
	}
	esc := strings.Replace(strings.Replace(path, "%2F", "%2f", 1), "/", "%2f", 1)
	body, err := os.ReadFile(filepath.Join(u.dir, "full", esc+".json"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	u.docRequests.Add(1)
	u.mu.Lock()
	u.counts[esc]++
	u.mu.Unlock()
	body = bytes.ReplaceAll(body, []byte("https://registry.npmjs.org/"), []byte(u.base+"/"))
	ctype := "application/json"
	if strings.Contains(r.Header.Get("Accept"), "application/vnd.npm.install-v1+json") {
		body, ctype = abbreviate(body), "application/vnd.npm.install-v1+json"
	}
	w.Header().Set("Content-Type", ctype)
	w.Write(body)
}

func (u *upstream) names() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.counts)
}

// largest lists the n largest fixture packuments' names.
func (u *upstream) largest(n int) []string {
	entries, _ := os.ReadDir(filepath.Join(u.dir, "full"))
	type sized struct {
		name string
		size int64
	}
	var all []sized
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			all = append(all, sized{strings.Replace(strings.TrimSuffix(e.Name(), ".json"), "%2f", "/", 1), info.Size()})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].size > all[j].size })
	var out []string
	for i := 0; i < n && i < len(all); i++ {
		out = append(out, all[i].name)
	}
	return out
}

var corgiFields = []string{"name", "version", "deprecated", "dependencies", "optionalDependencies", "devDependencies",
	"bundleDependencies", "bundledDependencies", "peerDependencies", "peerDependenciesMeta", "bin", "directories",
	"dist", "engines", "os", "cpu", "libc", "_hasShrinkwrap", "hasInstallScript", "funding", "license"}

// abbreviate is npm's install-v1 form of a full packument.
func abbreviate(full []byte) []byte {
	var doc struct {
		Name     string                                `json:"name"`
		DistTags json.RawMessage                       `json:"dist-tags"`
		Versions map[string]map[string]json.RawMessage `json:"versions"`
		Time     map[string]json.RawMessage            `json:"time"`
	}
	if json.Unmarshal(full, &doc) != nil {
		return full
	}
	versions := map[string]map[string]json.RawMessage{}
	for v, m := range doc.Versions {
		out := map[string]json.RawMessage{}
		for _, k := range corgiFields {
			if x, ok := m[k]; ok {
				out[k] = x
			}
		}
		versions[v] = out
	}
	b, _ := json.Marshal(map[string]any{"name": doc.Name, "dist-tags": doc.DistTags, "versions": versions, "modified": doc.Time["modified"]})
	return b
}

func reportStorage(dataDir string) {
	db := filepath.Join(dataDir, "registry.db")
	var dbSize int64
	for _, suffix := range []string{"", "-wal"} {
		if info, err := os.Stat(db + suffix); err == nil {
			dbSize += info.Size()
		}
	}
	var blobs int64
	_ = filepath.Walk(filepath.Join(dataDir, "blobs"), func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			blobs += info.Size()
		}
		return nil
	})
	docs := sqlite(db, "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = 'remote_documents'")
	fmt.Printf("storage:          database %s (remote_documents: %s bytes), blobs %s\n", mib(dbSize), docs, mib(blobs))
}

// sqlite runs one query with the sqlite3 shell ("?" when it is missing).
func sqlite(db, q string) string {
	out, err := exec.Command("sqlite3", "-readonly", db, q).Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func countInstalled(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if err != nil {
		return 0
	}
	var lock struct {
		Packages map[string]json.RawMessage `json:"packages"`
	}
	_ = json.Unmarshal(b, &lock)
	return len(lock.Packages)
}

func get(u, accept string) {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept", accept)
	req.Header.Set("PRIVATE-TOKEN", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != 200 {
		log.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
}

func gql(base, query string) {
	body, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequest("POST", base+"/api/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("PRIVATE-TOKEN", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || strings.Contains(string(b), `"errors":[{`) || strings.Contains(string(b), `"errors":["`) {
		log.Fatalf("graphql %s: %d %s", query, resp.StatusCode, b)
	}
}

func waitHealthy(base string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := http.Get(base + "/-/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	log.Fatal("the registry did not become healthy")
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// procStatus reads a kB field of /proc/<pid>/status, in bytes.
func procStatus(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
