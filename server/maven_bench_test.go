package server_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/servertest"
)

// BenchmarkMavenResolveTree measures a warm mvn dependency:resolve of a
// 30-artifact tree (a binary tree of poms and jars, all in the STANDARD
// project acme/libs) from acme/libs and through the VIRTUAL project over
// it and a REMOTE one, from an empty local repository each time, so that
// every pom and jar comes from the registry (cpu-ms/op is the registry's).
// Run with -benchtime=3x: one resolve is seconds, most of it the JVM.
//
//	go test ./server -run '^$' -bench MavenResolveTree -benchtime 3x
func BenchmarkMavenResolveTree(b *testing.B) {
	m := newMavenMirror(b)
	const n = 30
	for i := n - 1; i >= 0; i-- {
		var deps []string
		for _, c := range []int{2*i + 1, 2*i + 2} {
			if c < n {
				deps = append(deps, fmt.Sprintf("com.example.tree:node%02d:1.0.%d", c, c))
			}
		}
		mavenSeed(b, m.e, m.alice, m.ref, "com.example.tree", fmt.Sprintf("node%02d", i), fmt.Sprintf("1.0.%d", i), deps...)
	}
	for _, c := range []struct{ name, ref string }{{"standard", m.ref}, {"virtual", m.virtualRef}} {
		b.Run(c.name, func(b *testing.B) {
			mvn := servertest.NewMaven(b, servertest.MavenServer{ID: mavenRepoID, Header: "Private-Token", Token: m.alice})
			dir := servertest.WriteMavenProject(b, mavenConsumer(m.e.MavenURL(c.ref),
				servertest.MavenDependency{GroupID: "com.example.tree", ArtifactID: "node00", Version: "1.0.0"}))
			resolve := func() {
				mvn.FreshLocalRepo()
				mvn.Must(dir, "dependency:resolve")
				leaf := fmt.Sprintf("com/example/tree/node%02d/1.0.%d/node%02d-1.0.%d.jar", n-1, n-1, n-1, n-1)
				if _, err := os.Stat(filepath.Join(mvn.LocalRepo, leaf)); err != nil {
					b.Fatalf("tree not resolved: %v", err)
				}
			}
			resolve() // warm: the virtual project's sources are resolved once
			timed(b, resolve)
		})
	}
}

// BenchmarkMavenDeploy100MiB compares, in one run, a 100 MiB jar deployed
// to the Maven repository (the jar PUT and its .sha1, as mvn sends them)
// with a generic upload of the same bytes, and mvn deploy:deploy-file of
// the jar (the client's own cost included). Fresh random bytes and a new
// version each time: no deduplication helps either side.
//
//	go test ./server -run '^$' -bench MavenDeploy100MiB -benchtime 3x
func BenchmarkMavenDeploy100MiB(b *testing.B) {
	m := newMavenLibs(b)
	const size = 100 << 20
	body := make([]byte, size)
	put := func(path string, data []byte) {
		req, err := http.NewRequest("PUT", m.e.URL+path, bytes.NewReader(data))
		must0(b, err)
		req.Header.Set("Private-Token", m.alice)
		resp, err := m.e.Client.Do(req)
		must0(b, err)
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			b.Fatalf("PUT %s: %d", path, resp.StatusCode)
		}
	}
	version := 0
	next := func() string {
		b.StopTimer()
		_, _ = rand.Read(body)
		version++
		b.StartTimer()
		return fmt.Sprintf("1.0.%d", version)
	}
	b.Run("maven", func(b *testing.B) {
		for b.Loop() {
			v := next()
			p := m.path(servertest.MavenPath("com.example", "big", v, "big-"+v+".jar"))
			put(p, body)
			put(p+".sha1", []byte(hexSum(sha1.New(), body)))
		}
		b.SetBytes(size)
	})
	b.Run("generic", func(b *testing.B) {
		for b.Loop() {
			v := next()
			put("/api/v4/projects/"+m.ref+"/packages/generic/big/"+v+"/big.jar", body)
		}
		b.SetBytes(size)
	})
	b.Run("mvn-deploy-file", func(b *testing.B) {
		mvn := servertest.NewMaven(b, servertest.MavenServer{ID: mavenRepoID, Header: "Private-Token", Token: m.alice})
		jar := filepath.Join(b.TempDir(), "big.jar")
		for b.Loop() {
			v := next()
			b.StopTimer()
			must0(b, os.WriteFile(jar, body, 0o644))
			b.StartTimer()
			start := time.Now()
			mvn.Must(b.TempDir(), servertest.MavenPlugin("maven-deploy-plugin")+":deploy-file", "-Dfile="+jar, "-DgroupId=com.example",
				"-DartifactId=big-mvn", "-Dversion="+v, "-Dpackaging=jar", "-DrepositoryId="+mavenRepoID, "-Durl="+m.url)
			b.Logf("mvn deploy-file of 100 MiB: %v", time.Since(start))
		}
		b.SetBytes(size)
	})
}
