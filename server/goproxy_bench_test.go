package server_test

import (
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
	e.MustGraphQL(b, alice, `mutation { createProject(input: {namespacePath: "team", path: "all", repositoryMode: VIRTUAL, format: GOLANG}) { errors } }`, nil)
	e.MustGraphQL(b, alice, `mutation { updateVirtualRepositoryUpstreams(input: {projectPath: "team/all", upstreamPolicies: [{id: "m", repositoryPath: "team/gomods", priority: 1}]}) { errors } }`, nil)
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
// store in the same process. Run:
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

	viaHTTP := func() time.Duration {
		req, _ := http.NewRequest("GET", e.URL+goPath("team%2Fgomods", mod, "@v/v1.0.0.zip"), nil)
		req.Header.Set("PRIVATE-TOKEN", alice)
		start := time.Now()
		resp, err := e.Client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("GET zip: %v %v", err, resp)
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
	viaHTTP()
	fromStore()
	var httpTimes, storeTimes []time.Duration
	b.SetBytes(int64(len(zipData)))
	b.ResetTimer()
	for range b.N {
		httpTimes = append(httpTimes, viaHTTP())
		storeTimes = append(storeTimes, fromStore())
	}
	b.StopTimer()
	mbps := func(d time.Duration) float64 { return float64(len(zipData)) / d.Seconds() / 1e6 }
	h, s := mbps(medianDuration(httpTimes)), mbps(medianDuration(storeTimes))
	b.ReportMetric(h, "proxy-MB/s")
	b.ReportMetric(s, "blobstore-MB/s")
	b.ReportMetric(h/s, "ratio")
}
