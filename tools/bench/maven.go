package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/pkg"
)

// The maven-upload metric: a Maven deploy of one --maven-size .jar (the jar
// PUT, then its .sha1 sidecar PUT, as mvn deploy sends them) to a MAVEN
// project, against a generic upload of the same number of bytes from the
// same generator to the generic project, on the same backend in the same
// run. Each upload has new content (no deduplication) and is deleted
// outside the timed part. The sidecar's digest is computed before the
// timed part, as mvn has it before it uploads.

// setupMaven creates the MAVEN project the maven-upload metric deploys to.
func (b *bench) setupMaven(ctx context.Context) error {
	id, err := b.createProject(ctx, "m", ", format: MAVEN")
	if err != nil {
		return err
	}
	b.mavenProjectID = id
	return nil
}

// put streams body to u and checks the status.
func (b *bench) put(ctx context.Context, u string, body io.Reader, size int64, want int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, body)
	if err != nil {
		return err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("PRIVATE-TOKEN", rootToken)
	resp, err := b.client.Do(req)
	if err != nil {
		return err
	}
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("PUT %s answered %d (want %d): %s", u, resp.StatusCode, want, out)
	}
	return nil
}

// uploadMaven deploys one new jar and its .sha1 and returns the time from
// the jar PUT's start until the sidecar PUT's answer.
func (b *bench) uploadMaven(ctx context.Context, size int64) (time.Duration, error) {
	n := b.next()
	artifact, version := fmt.Sprintf("bench-%d", n), "1.0."+strconv.Itoa(n)
	file := artifact + "-" + version + ".jar"
	u := fmt.Sprintf("%s/api/v4/projects/%d/packages/maven/com/example/bench/%s/%s/%s", b.regURL, b.mavenProjectID, artifact, version, file)
	stream := randomUint64()
	h := sha1.New()
	if _, err := io.Copy(h, newGen(b.pattern, stream, size)); err != nil {
		return 0, err
	}
	sum := hex.EncodeToString(h.Sum(nil))

	start := time.Now()
	if err := b.put(ctx, u, newGen(b.pattern, stream, size), size, http.StatusCreated); err != nil {
		return 0, err
	}
	jar := time.Since(start)
	if err := b.put(ctx, u+".sha1", strings.NewReader(sum), int64(len(sum)), http.StatusNoContent); err != nil {
		return 0, fmt.Errorf("sidecar: %w", err)
	}
	elapsed := time.Since(start)
	b.mavenSidecar = append(b.mavenSidecar, elapsed-jar)

	pf, err := b.srv.DB.PackageFile.Query().
		Where(packagefile.FileName(file), packagefile.HasPkgWith(pkg.ProjectID(b.mavenProjectID), pkg.Version(version))).
		WithBlob().Only(ctx)
	if err != nil {
		return 0, fmt.Errorf("finding the deployed jar: %w", err)
	}
	if pf.Size != size {
		return 0, fmt.Errorf("registry stored %d bytes, sent %d", pf.Size, size)
	}
	if pf.Sha1 == nil || *pf.Sha1 != sum {
		return 0, fmt.Errorf("registry recorded sha1 %v, sent %s", pf.Sha1, sum)
	}
	s := stored{packageID: pf.PackageID, storageKey: pf.Edges.Blob.StorageKey}
	return elapsed, b.deletePackage(ctx, b.mavenProjectID, s)
}

// deletePackage removes a package of project through the API and its
// object from the store at once.
func (b *bench) deletePackage(ctx context.Context, project int, s stored) error {
	u := fmt.Sprintf("%s/api/v4/projects/%d/packages/%d", b.regURL, project, s.packageID)
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

// measureMaven runs the maven-upload metric with --maven-size bytes.
func (b *bench) measureMaven(ctx context.Context) ([]*series, string, error) {
	if err := b.setupMaven(ctx); err != nil {
		return nil, "", err
	}
	saved := b.o.size
	b.o.size = b.o.mavenSize
	defer func() { b.o.size = saved }()
	b.mavenSidecar = nil
	s, err := b.measure(ctx, "maven-upload", []variant{{"maven", b.uploadMaven}, {"generic", b.uploadRegistry}})
	if err != nil {
		return nil, "", err
	}
	return s, mavenRatioLine(s, b.o.mavenSize, b.mavenSidecar), nil
}

// mavenRatioLine compares the median times of the maven and generic paths.
func mavenRatioLine(ss []*series, size int64, sidecar []time.Duration) string {
	var mvn, gen *series
	for _, s := range ss {
		switch s.path {
		case "maven":
			mvn = s
		case "generic":
			gen = s
		}
	}
	secs := func(mbps float64) float64 { return float64(size) / 1e6 / mbps }
	tm, tg := secs(mvn.median()), secs(gen.median())
	var sc time.Duration
	if len(sidecar) > 0 {
		if len(sidecar) > 1 {
			sidecar = sidecar[1:] // not the warm-up
		}
		sc = slices.Sorted(slices.Values(sidecar))[len(sidecar)/2]
	}
	return fmt.Sprintf("maven-upload: %s .jar + .sha1 %.3f s, generic %.3f s; time ratio maven/generic %.2f  [medians; bests %.2f; sidecar PUT median %.1f ms of the maven time]",
		formatSize(size), tm, tg, tm/tg, gen.best()/mvn.best(), float64(sc.Microseconds())/1000)
}
