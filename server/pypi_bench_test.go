package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/servertest"
)

// BenchmarkPyPISimplePage times pip's index request (PEP 691 JSON, pip's
// Accept) for a project name with 1,000 files, read directly from the
// standard project that holds them and through a virtual project with 5
// upstreams where the name lives only in the lowest-priority one (every
// higher upstream is asked first). Run:
//
//	go test ./server -run '^$' -bench PyPISimplePage -benchtime 200x
func BenchmarkPyPISimplePage(b *testing.B) {
	e := servertest.New(b)
	alice := e.CreateUser(b, "alice")
	e.CreateGroup(b, alice, "", "team", "PRIVATE")
	var policies []servertest.Upstream
	var ids []int
	for i := range 5 {
		ids = append(ids, createPyPIProject(b, e, alice, "team", fmt.Sprintf("s%d", i), "STANDARD", ""))
		policies = append(policies, servertest.Upstream{ID: fmt.Sprintf("p%d", i), Path: fmt.Sprintf("team/s%d", i), Priority: 100 - i})
	}
	virtID := createPyPIProject(b, e, alice, "team", "all", "VIRTUAL", "")
	e.SetUpstreams(b, alice, "team/all", policies...)
	// 1,000 files: 500 versions with two sdists each (.tar.gz and .zip).
	holder := ids[4]
	for v := range 500 {
		version := fmt.Sprintf("1.%d", v)
		for _, file := range []string{"big_pkg-" + version + ".tar.gz", "big_pkg-" + version + ".zip"} {
			body, ctype := pypiForm(nil, map[string]string{"name": "big-pkg", "version": version, "requires_python": ">=3.8"}, file, []byte(file))
			status, out, _ := e.Do(b, "POST", fmt.Sprintf("/api/v4/projects/%d/packages/pypi", holder), bytes.NewReader(body),
				map[string]string{"PRIVATE-TOKEN": alice, "Content-Type": ctype})
			if status != 201 {
				b.Fatalf("upload %s: %d %s", file, status, out)
			}
		}
	}
	get := func(project int) time.Duration {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v4/projects/%d/packages/pypi/simple/big-pkg/", e.URL, project), nil)
		req.Header.Set("PRIVATE-TOKEN", alice)
		req.Header.Set("Accept", "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01")
		start := time.Now()
		resp, err := e.Client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("GET: %v %v", err, resp)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n < 1000*200 {
			b.Fatalf("page of %d bytes is too short for 1,000 files", n)
		}
		return time.Since(start)
	}
	median := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	for range 10 {
		get(holder)
		get(virtID)
	}
	var direct, virtual []time.Duration
	b.ResetTimer()
	for range b.N {
		direct = append(direct, get(holder))
		virtual = append(virtual, get(virtID))
	}
	b.StopTimer()
	b.ReportMetric(float64(median(direct).Microseconds()), "direct-median-µs")
	b.ReportMetric(float64(median(virtual).Microseconds()), "virtual5-median-µs")
}
