package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/servertest"
)

// BenchmarkVirtualReadLatency compares a small-file GET through a virtual
// project with 10 upstreams (the file in the last one) with a GET from the
// standard project that holds it. Run:
//
//	go test ./server -run '^$' -bench VirtualReadLatency -benchtime 2000x
func BenchmarkVirtualReadLatency(b *testing.B) {
	e := servertest.New(b)
	alice := e.CreateUser(b, "alice")
	e.CreateGroup(b, alice, "", "team", "PRIVATE")
	var policies []servertest.Upstream
	for i := range 10 {
		e.CreateProject(b, alice, "team", fmt.Sprintf("s%d", i), "PRIVATE")
		policies = append(policies, servertest.Upstream{ID: fmt.Sprintf("p%d", i), Path: fmt.Sprintf("team/s%d", i), Priority: 100 - i})
	}
	e.CreateVirtualProject(b, alice, "team", "all", "GENERIC")
	e.SetUpstreams(b, alice, "team/all", policies...)
	status, body, _ := e.Do(b, "PUT", "/api/v4/projects/team%2Fs9/packages/generic/p/1.0/f.bin", bytes.NewReader(make([]byte, 1024)), tok(alice))
	if status != 201 {
		b.Fatalf("upload: %d %s", status, body)
	}
	get := func(project string) time.Duration {
		req, _ := http.NewRequest("GET", e.URL+"/api/v4/projects/"+project+"/packages/generic/p/1.0/f.bin", nil)
		req.Header.Set("PRIVATE-TOKEN", alice)
		start := time.Now()
		resp, err := e.Client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("GET %s: %v %v", project, err, resp)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(start)
	}
	median := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	for range 50 { // warm up connections and caches
		get("team%2Fs9")
		get("team%2Fall")
	}
	var direct, virtual []time.Duration
	b.ResetTimer()
	for range b.N {
		direct = append(direct, get("team%2Fs9"))
		virtual = append(virtual, get("team%2Fall"))
	}
	b.StopTimer()
	md, mv := median(direct), median(virtual)
	b.ReportMetric(float64(md.Microseconds()), "direct-median-µs")
	b.ReportMetric(float64(mv.Microseconds()), "virtual-median-µs")
	b.ReportMetric(float64((mv - md).Microseconds()), "added-median-µs")
}

// BenchmarkRemoteColdMiss compares reading a 64 MiB file through a REMOTE
// project that has not cached it with downloading it from the upstream
// registry directly.
// BenchmarkRemoteColdMiss compares a cold-miss read through a REMOTE
// project (fetch, hash, store and stream to the client at once) with a
// direct download from the same upstream, over the raw loopback and over a
// link paced at 100 MB/s (a LAN or WAN upstream, where the cache's own
// work should hide behind the network).
func BenchmarkRemoteColdMiss(b *testing.B) {
	for _, rate := range []int{0, 100e6} {
		name := "loopback"
		if rate > 0 {
			name = fmt.Sprintf("%dMBps", rate/1e6)
		}
		b.Run(name, func(b *testing.B) { benchRemoteColdMiss(b, rate) })
	}
}

func benchRemoteColdMiss(b *testing.B, rate int) {
	up := servertest.New(b)
	owner := up.CreateUser(b, "owner")
	up.CreateGroup(b, owner, "", "up", "PUBLIC")
	pubID := up.CreateProject(b, owner, "up", "pub", "PUBLIC")
	const size = 64 << 20
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if status, body, _ := up.Do(b, "PUT", "/api/v4/projects/up%2Fpub/packages/generic/big/1.0/f.bin", bytes.NewReader(data), tok(owner)); status != 201 {
		b.Fatalf("upload: %d %s", status, body)
	}
	upstreamURL := up.URL
	if rate > 0 {
		upstreamURL = pacedProxy(b, up.URL, rate)
	}
	e := servertest.New(b)
	alice := e.CreateUser(b, "alice")
	e.CreateGroup(b, alice, "", "m", "PRIVATE")
	read := func(base, token, path string) time.Duration {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("PRIVATE-TOKEN", token)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("GET %s: %v %v", path, err, resp)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n != size {
			b.Fatalf("read %d bytes", n)
		}
		return time.Since(start)
	}
	var direct, cold time.Duration
	for i := range b.N {
		direct += read(upstreamURL, owner, "/api/v4/projects/up%2Fpub/packages/generic/big/1.0/f.bin")
		path := fmt.Sprintf("r%d", i)
		e.CreateRemoteProject(b, alice, "m", path, "GENERIC", fmt.Sprintf("%s/api/v4/projects/%d/packages/generic", upstreamURL, pubID))
		cold += read(e.URL, alice, "/api/v4/projects/m%2F"+path+"/packages/generic/big/1.0/f.bin")
	}
	mb := float64(size) * float64(b.N) / 1e6
	b.ReportMetric(mb/direct.Seconds(), "direct-MB/s")
	b.ReportMetric(mb/cold.Seconds(), "cold-miss-MB/s")
	b.ReportMetric(direct.Seconds()/cold.Seconds(), "ratio")
}

// pacedProxy forwards to target, sending response bodies at about rate
// bytes per second.
func pacedProxy(b *testing.B, target string, rate int) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), nil)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		start, sent := time.Now(), 0
		buf := make([]byte, 256<<10)
		for {
			n, err := resp.Body.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return
				}
				sent += n
				if ahead := time.Duration(float64(sent)/float64(rate)*float64(time.Second)) - time.Since(start); ahead > 0 {
					time.Sleep(ahead)
				}
			}
			if err != nil {
				return
			}
		}
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}
