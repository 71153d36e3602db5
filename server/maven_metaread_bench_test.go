package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/registry/enum"
	"github.com/pkgreg/registry/server/servertest"
)

// mavenBenchVersions are n distinct versions as a real artifact's history
// has them: releases, release candidates, milestones and SNAPSHOTs, in no
// particular order of upload, so that the metadata's ComparableVersion
// sort has real work to do.
func mavenBenchVersions(n int) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		base := fmt.Sprintf("%d.%d.%d", i/100, i/10%10, i%10)
		switch i % 10 {
		case 3:
			out = append(out, base+"-RC1")
		case 6:
			out = append(out, base+"-M2")
		case 9:
			out = append(out, base+"-SNAPSHOT")
		default:
			out = append(out, base)
		}
	}
	// Upload order is not version order: reverse pairs.
	for i := 0; i+1 < len(out); i += 2 {
		out[i], out[i+1] = out[i+1], out[i]
	}
	return out
}

// seedMavenVersions PUTs a small pom for every version of group/artifact
// into the project, with workers concurrent clients.
func seedMavenVersions(b *testing.B, e *servertest.Env, token string, projectID int, group, artifact string, versions []string, workers int) {
	b.Helper()
	base := "/api/v4/projects/" + strconv.Itoa(projectID) + "/packages/maven/" + strings.ReplaceAll(group, ".", "/") + "/" + artifact + "/"
	jobs := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failure string
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range jobs {
				pom := fmt.Sprintf("<project><modelVersion>4.0.0</modelVersion><groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version></project>", group, artifact, v)
				req, _ := http.NewRequest("PUT", e.URL+base+v+"/"+artifact+"-"+v+".pom", strings.NewReader(pom))
				req.Header.Set("PRIVATE-TOKEN", token)
				resp, err := e.Client.Do(req)
				if err != nil {
					mu.Lock()
					failure = err.Error()
					mu.Unlock()
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 201 {
					mu.Lock()
					failure = fmt.Sprintf("PUT %s: %d %s", v, resp.StatusCode, body)
					mu.Unlock()
				}
			}
		}()
	}
	for _, v := range versions {
		jobs <- v
	}
	close(jobs)
	wg.Wait()
	if failure != "" {
		b.Fatal(failure)
	}
}

// BenchmarkMavenMetadataRead1000 times GET of an artifact's
// maven-metadata.xml with 1,000 versions (rendered from the rows on every
// request; the target is a median under 10 ms) and, in the same
// loop, two floors: a GET of one small stored file of the same artifact
// (the pom: auth, project lookup, one file row, a blob read) and the bare
// database query of the artifact's 1,000 version rows through the ent
// client (no HTTP, no rendering). It reports the metadata GET's median and
// p99, the floors' medians and the ratios against them.
//
// "alone": the artifact is the project's only one. "crowded": the same
// project then also holds 9,000 versions of 90 other artifacts of the same
// group (a real repository), which shows whether the cost of a metadata
// read grows with the project rather than with the artifact. Run:
//
//	go test ./server -run '^$' -bench MavenMetadataRead -benchtime 300x
func BenchmarkMavenMetadataRead1000(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds 1,000 versions (10,000 for crowded)")
	}
	e := servertest.New(b)
	alice := e.CreateUser(b, "alice")
	e.CreateGroup(b, alice, "", "acme", "PRIVATE")
	id := e.CreateProjectWith(b, alice, servertest.Project{Namespace: "acme", Path: "libs", Format: "MAVEN", Visibility: "PRIVATE"})
	versions := mavenBenchVersions(1000)
	seedStart := time.Now()
	seedMavenVersions(b, e, alice, id, "com.example", "many", versions, 8)
	b.Logf("seeded %d versions in %s (8 concurrent PUTs)", len(versions), time.Since(seedStart).Round(time.Millisecond))
	b.Run("alone", func(b *testing.B) { benchMavenMetadataRead(b, e, alice, id) })
	seedStart = time.Now()
	for i := range 90 {
		seedMavenVersions(b, e, alice, id, "com.example", fmt.Sprintf("other-%02d", i), mavenBenchVersions(100), 8)
	}
	b.Logf("seeded 9,000 versions of 90 other artifacts in %s", time.Since(seedStart).Round(time.Millisecond))
	b.Run("crowded", func(b *testing.B) { benchMavenMetadataRead(b, e, alice, id) })
}

func benchMavenMetadataRead(b *testing.B, e *servertest.Env, alice string, id int) {
	base := e.URL + "/api/v4/projects/" + strconv.Itoa(id) + "/packages/maven/com/example/many/"
	get := func(url string, check func([]byte) bool) time.Duration {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("PRIVATE-TOKEN", alice)
		start := time.Now()
		resp, err := e.Client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != 200 || !check(body) {
			b.Fatalf("GET %s: %d %.300s", url, resp.StatusCode, body)
		}
		return d
	}
	metaURL := base + "maven-metadata.xml"
	size := 0
	meta := func() time.Duration {
		return get(metaURL, func(body []byte) bool {
			size = len(body)
			return strings.Count(string(body), "<version>") == 1000 && strings.Contains(string(body), "<latest>9.9.9-SNAPSHOT</latest>")
		})
	}
	pomURL := base + "1.0.0/many-1.0.0.pom"
	small := func() time.Duration {
		return get(pomURL, func(body []byte) bool { return strings.Contains(string(body), "<version>1.0.0</version>") })
	}
	ctx := context.Background()
	rows := func() time.Duration {
		start := time.Now()
		pk, err := e.Server.DB.Pkg.Query().Where(pkg.ProjectID(id), pkg.PackageTypeEQ(enum.Maven), pkg.Name("com/example/many")).
			Select(pkg.FieldVersion, pkg.FieldUpdatedAt).All(ctx)
		d := time.Since(start)
		if err != nil || len(pk) != 1000 {
			b.Fatalf("rows: %d, %v", len(pk), err)
		}
		return d
	}
	for range 20 { // warm up connections, statement caches and the page cache
		meta()
		small()
		rows()
	}
	var lm, ls, lr []time.Duration
	cpu0 := processCPU()
	for b.Loop() {
		lm = append(lm, meta())
		ls = append(ls, small())
		lr = append(lr, rows())
	}
	cpu := processCPU() - cpu0
	for _, l := range [][]time.Duration{lm, ls, lr} {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	mMed, sMed, rMed := lm[len(lm)/2], ls[len(ls)/2], lr[len(lr)/2]
	b.ReportMetric(ms(mMed), "ms-median")
	b.ReportMetric(ms(lm[len(lm)*99/100]), "ms-p99")
	b.ReportMetric(ms(sMed), "small-get-ms-median")
	b.ReportMetric(ms(rMed), "rows-ms-median")
	b.ReportMetric(float64(mMed)/float64(sMed), "x-small-get")
	b.ReportMetric(float64(mMed)/float64(rMed), "x-rows")
	b.ReportMetric(ms(cpu)/float64(len(lm)), "cpu-ms/iter")
	b.ReportMetric(float64(size), "bytes")
	verdict := "ok"
	if mMed >= 10*time.Millisecond {
		verdict = "ABOVE TARGET"
	}
	b.Logf("maven-metadata.xml, 1,000 versions (%d bytes): median %.2f ms, p99 %.2f ms (target median < 10 ms: %s); "+
		"small GET median %.2f ms (ratio %.1f); ent query of the 1,000 rows median %.2f ms (ratio %.1f); %s",
		size, ms(mMed), ms(lm[len(lm)*99/100]), verdict, ms(sMed), float64(mMed)/float64(sMed), ms(rMed), float64(mMed)/float64(rMed), servertest.Backends())
}
