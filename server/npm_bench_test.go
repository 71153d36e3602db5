package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/servertest"
)

// benchPublish publishes name@version (with deps) over HTTP, as npm does.
func benchPublish(b testing.TB, e *servertest.Env, token, ref, name, version string, deps map[string]string) {
	b.Helper()
	pj := map[string]any{"name": name, "version": version, "description": "benchmark package", "license": "MIT",
		"main": "index.js", "scripts": map[string]string{"test": "true"}}
	if deps != nil {
		pj["dependencies"] = deps
	}
	raw, _ := json.Marshal(pj)
	doc := publishDoc(name, version, npmTgz(b, string(raw)), func(_, mf, _ map[string]any) {
		for k, v := range pj {
			mf[k] = v
		}
		mf["readme"] = strings.Repeat("A readme line.\n", 20)
	})
	status, body, _ := e.Do(b, "PUT", npmPath(ref, escName(name)), bytes.NewReader(doc), tok(token))
	if status != 200 {
		b.Fatalf("publish %s@%s: %d %s", name, version, status, body)
	}
}

// timed runs f per iteration and reports the median and p99 latency, and
// the CPU time this process (client and server) spent per iteration,
// which other load on the machine does not inflate as it does latency.
func timed(b *testing.B, f func()) {
	var lat []time.Duration
	cpu0 := processCPU()
	for b.Loop() {
		start := time.Now()
		f()
		lat = append(lat, time.Since(start))
	}
	cpu := processCPU() - cpu0
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ms-p99")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(lat)), "cpu-ms/op")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkNPMPackument500 measures the packument of a package with 500
// versions, abbreviated (what npm install asks for) and full (npm view).
func BenchmarkNPMPackument500(b *testing.B) {
	e := servertest.New(b)
	alice := e.CreateUser(b, "alice")
	e.CreateGroup(b, alice, "", "acme", "PRIVATE")
	ref := fmt.Sprint(e.CreateProject(b, alice, "acme", "js", "PRIVATE"))
	for i := range 500 {
		benchPublish(b, e, alice, ref, "many-versions", fmt.Sprintf("1.%d.%d", i/50, i%50), map[string]string{"left-pad": "^1.0.0"})
	}
	for _, form := range []struct{ name, accept string }{
		{"abbreviated", "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"},
		{"full", "application/json"},
	} {
		b.Run(form.name, func(b *testing.B) {
			req, _ := http.NewRequest("GET", e.URL+npmPath(ref, "many-versions"), nil)
			req.Header.Set("Accept", form.accept)
			req.Header.Set("PRIVATE-TOKEN", alice)
			size := 0
			timed(b, func() {
				resp, err := e.Client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				var buf bytes.Buffer
				_, _ = buf.ReadFrom(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(buf.String(), `"1.9.49"`) {
					b.Fatalf("%d %.200s", resp.StatusCode, buf.String())
				}
				size = buf.Len()
			})
			b.ReportMetric(float64(size), "bytes")
		})
	}
}

// BenchmarkNPMInstallTree measures npm install of a 50-package tree (one
// root depending on 49 libraries, all in the STANDARD project) from the
// STANDARD project and from the VIRTUAL project over it and a REMOTE one,
// with a fresh npm cache each time so that every packument and tarball
// comes from the registry. Run with -benchtime=3x: one install is seconds.
func BenchmarkNPMInstallTree(b *testing.B) {
	m := newNPMMirror(b)
	deps := map[string]string{}
	for i := 1; i < 50; i++ {
		name := fmt.Sprintf("tree-lib-%02d", i)
		benchPublish(b, m.e, m.alice, m.std, name, "1.0.0", nil)
		deps[name] = "^1.0.0"
	}
	benchPublish(b, m.e, m.alice, m.std, "tree-root", "1.0.0", deps)
	for _, c := range []struct{ name, ref string }{{"standard", m.std}, {"virtual", m.virtual}} {
		b.Run(c.name, func(b *testing.B) {
			npm := newNPM(b, npmRegistry(m.e, c.ref), m.alice)
			install := func() {
				dir := b.TempDir()
				must0(b, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"app","version":"1.0.0","private":true}`), 0o644))
				must0(b, os.RemoveAll(filepath.Join(npm.home, "cache")))
				out := npm.must(dir, "install", "--no-package-lock", "tree-root")
				if _, err := os.Stat(filepath.Join(dir, "node_modules", "tree-lib-49", "package.json")); err != nil {
					b.Fatalf("tree not installed: %s", out)
				}
			}
			install() // warm: the virtual project's sources are resolved once
			timed(b, install)
		})
	}
}
