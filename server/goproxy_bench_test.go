package server_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/server/servertest"
)

// BenchmarkGoProxyList measures GET @v/list for a module with 300
// published versions, from the STANDARD project and through a VIRTUAL
// project over it (medians, over real HTTP on loopback). Run:
//
//	go test ./server -run '^$' -bench GoProxyList -benchtime 500x
func BenchmarkGoProxyList(b *testing.B) {
	e := servertest.New(b)
	alice := e.CreateUser(b, "alice")
	e.CreateGroup(b, alice, "", "team", "PRIVATE")
	e.CreateProject(b, alice, "team", "gomods", "PRIVATE")
	e.CreateVirtualProject(b, alice, "team", "all", "GOLANG", servertest.Upstream{ID: "m", Path: "team/gomods", Priority: 1})
	const mod = "example.com/bench/many"
	for i := range 300 {
		v := fmt.Sprintf("v1.%d.%d", i/10, i%10)
		mustGoPublish(b, e, alice, "team%2Fgomods", mod, v, greetModule(b, mod, v, v))
	}
	get := func(project string) time.Duration {
		req, _ := http.NewRequest("GET", e.URL+goPath(project, mod, "@v/list"), nil)
		req.Header.Set("PRIVATE-TOKEN", alice)
		start := time.Now()
		resp, err := e.Client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("GET list from %s: %v %v", project, err, resp)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n < 300*7 {
			b.Fatalf("the list is only %d bytes", n)
		}
		return time.Since(start)
	}
	for range 20 { // warm up connections and caches
		get("team%2Fgomods")
		get("team%2Fall")
	}
	var direct, virtual []time.Duration
	b.ResetTimer()
	for range b.N {
		direct = append(direct, get("team%2Fgomods"))
		virtual = append(virtual, get("team%2Fall"))
	}
	b.StopTimer()
	b.ReportMetric(float64(medianDuration(direct).Microseconds()), "standard-median-µs")
	b.ReportMetric(float64(medianDuration(virtual).Microseconds()), "virtual-median-µs")
}

func medianDuration(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

// BenchmarkGoProxyZipDownload compares downloading a 64 MiB module zip
// with GET @v/<version>.zip (real HTTP on loopback, with authentication and
// the module lookup) with reading the same object straight from the blob
// store in the same process (and with the same bytes as a generic package,
// the registry's plain download path). Run:
//
//	go test ./server -run '^$' -bench GoProxyZipDownload -benchtime 20x
func BenchmarkGoProxyZipDownload(b *testing.B) {
	e := servertest.New(b)
	alice := e.CreateUser(b, "alice")
	e.CreateGroup(b, alice, "", "team", "PRIVATE")
	e.CreateProject(b, alice, "team", "gomods", "PRIVATE")
	const mod = "example.com/bench/big"
	data := make([]byte, 64<<20)
	rand.NewChaCha8([32]byte{7}).Read(data) // incompressible: the zip is as large
	zipData := goModuleZip(b, mod, "v1.0.0", map[string]string{"go.mod": "module " + mod + "\n", "data.bin": string(data)})
	mustGoPublish(b, e, alice, "team%2Fgomods", mod, "v1.0.0", zipData)
	pf := e.Server.DB.PackageFile.Query().Where(packagefile.FileName("v1.0.0.zip")).WithBlob().OnlyX(b.Context())
	key := pf.Edges.Blob.StorageKey

	// The same bytes as a generic package: the registry's plain download
	// path, to tell the protocol's cost from HTTP's.
	if status, body, _ := e.Do(b, "PUT", "/api/v4/projects/team%2Fgomods/packages/generic/big/1.0.0/big.zip", bytes.NewReader(zipData), tok(alice)); status != 201 {
		b.Fatalf("generic upload: %d %s", status, body)
	}
	get := func(path string) time.Duration {
		req, _ := http.NewRequest("GET", e.URL+path, nil)
		req.Header.Set("PRIVATE-TOKEN", alice)
		start := time.Now()
		resp, err := e.Client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("GET %s: %v %v", path, err, resp)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n != int64(len(zipData)) {
			b.Fatalf("got %d of %d bytes", n, len(zipData))
		}
		return time.Since(start)
	}
	fromStore := func() time.Duration {
		start := time.Now()
		obj, err := e.Server.Blobs.Open(b.Context(), key)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, obj)
		obj.Close()
		if n != int64(len(zipData)) {
			b.Fatalf("read %d of %d bytes", n, len(zipData))
		}
		return time.Since(start)
	}
	goZip := goPath("team%2Fgomods", mod, "@v/v1.0.0.zip")
	genericZip := "/api/v4/projects/team%2Fgomods/packages/generic/big/1.0.0/big.zip"
	get(goZip)
	get(genericZip)
	fromStore()
	var goTimes, genericTimes, storeTimes []time.Duration
	b.ResetTimer()
	for range b.N {
		goTimes = append(goTimes, get(goZip))
		genericTimes = append(genericTimes, get(genericZip))
		storeTimes = append(storeTimes, fromStore())
	}
	b.StopTimer()
	mbps := func(d time.Duration) float64 { return float64(len(zipData)) / d.Seconds() / 1e6 }
	g, gen, s := mbps(medianDuration(goTimes)), mbps(medianDuration(genericTimes)), mbps(medianDuration(storeTimes))
	b.ReportMetric(g, "goproxy-MB/s")
	b.ReportMetric(gen, "generic-MB/s")
	b.ReportMetric(s, "blobstore-MB/s")
	b.ReportMetric(g/s, "goproxy/blobstore")
}
