package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/servertest"
)

// REMOTE and VIRTUAL Maven projects and group-level reads, driven with
// plain HTTP calls. The "public" upstream is a STANDARD Maven project of a
// second registry on loopback (Maven Central is not reachable), reached
// through a FaultProxy that counts and breaks requests.

// mavenUpstream is a second registry with the public Maven project
// pub/central, seen through a FaultProxy and a recorder of conditional
// requests.
type mavenUpstream struct {
	env   *servertest.Env
	m     mvn // deploys to pub/central as its owner
	proxy *servertest.FaultProxy
	url   string // the REMOTE projects' remoteUrl

	mu          sync.Mutex
	conditional map[string]int // requests with If-None-Match, by path
}

func newMavenUpstream(t *testing.T, extra ...string) *mavenUpstream {
	t.Helper()
	up := servertest.New(t)
	owner := up.CreateUser(t, "owner")
	up.CreateGroup(t, owner, "", "pub", "PUBLIC")
	id := up.CreateProjectWith(t, owner, servertest.Project{Namespace: "pub", Path: "central", Format: "MAVEN", Visibility: "PUBLIC"})
	u := &mavenUpstream{env: up, m: mvn{e: up, t: t, project: strconv.Itoa(id), token: owner}, conditional: map[string]int{}}
	u.proxy = servertest.NewFaultProxy(t, up.URL)
	target, _ := url.Parse(u.proxy.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") != "" {
			u.mu.Lock()
			u.conditional[r.URL.Path]++
			u.mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.Close)
	u.url = fmt.Sprintf("%s/api/v4/projects/%d/packages/maven", rec.URL, id)
	return u
}

func (u *mavenUpstream) conditionals(suffix string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for p, c := range u.conditional {
		if strings.HasSuffix(p, suffix) {
			n += c
		}
	}
	return n
}

// artifact deploys pom and jar of groupPath/artifact/version, as mvn
// deploy does, and returns the jar's bytes.
func (m mvn) artifact(name, version, content string) []byte {
	m.t.Helper()
	a := name[strings.LastIndexByte(name, '/')+1:]
	dir := name + "/" + version + "/"
	jar := []byte("jar of " + name + " " + version + ": " + content)
	m.deploy(dir+a+"-"+version+".pom", []byte("<project><version>"+version+"</version></project>"))
	m.deploy(dir+a+"-"+version+".jar", jar)
	return jar
}

func TestMavenRemotePullThrough(t *testing.T) {
	up := newMavenUpstream(t)
	jar := up.m.artifact("org/public/lib", "1.0", "public")
	up.m.artifact("org/public/lib", "1.1", "public")
	up.m.artifact("org/public/bad", "1.0", "swapped body")
	up.m.artifact("org/public/badsha", "1.0", "wrong sha1")
	up.m.artifact("org/public/badhdr", "1.0", "wrong sha-256 header")

	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "mirror", "PRIVATE")
	id := e.CreateRemoteProject(t, alice, "mirror", "central", "MAVEN", up.url)
	m := mvn{e: e, t: t, project: strconv.Itoa(id), token: alice}
	proxy := up.proxy

	t.Run("a cold miss fills, verified, with checksum headers", func(t *testing.T) {
		status, body, h := m.get("org/public/lib/1.0/lib-1.0.jar")
		if status != 200 || body != string(jar) {
			t.Fatalf("cold miss: %d %q", status, body)
		}
		if h.Get("X-Checksum-Sha1") != sha1hex(jar) || h.Get("X-Checksum-MD5") != md5hex(jar) ||
			h.Get("X-Checksum-Sha256") != sha(jar) || h.Get("X-Checksum-Sha512") != sha512hex(jar) {
			t.Fatalf("checksum headers: %v", h)
		}
		if n, s := proxy.Count("/lib-1.0.jar"), proxy.Count("/lib-1.0.jar.sha1"); n != 1 || s != 1 {
			t.Fatalf("upstream asked %d times for the jar, %d for its .sha1", n, s)
		}
	})
	t.Run("a cached file is served without the upstream, forever", func(t *testing.T) {
		e.Clock.Advance(48 * time.Hour) // past any TTL: artifacts do not expire
		proxy.Set(servertest.Fail500)
		defer proxy.Set(servertest.NoFault)
		for range 3 {
			if status, body, h := m.get("org/public/lib/1.0/lib-1.0.jar"); status != 200 || body != string(jar) || h.Get("X-Checksum-Sha1") != sha1hex(jar) {
				t.Fatalf("warm read: %d %q %v", status, body, h)
			}
		}
		for alg, want := range map[string]string{"sha1": sha1hex(jar), "md5": md5hex(jar), "sha256": sha(jar), "sha512": sha512hex(jar)} {
			if status, body, _ := m.get("org/public/lib/1.0/lib-1.0.jar." + alg); status != 200 || body != want {
				t.Fatalf(".%s of a cached file: %d %q, want %s", alg, status, body, want)
			}
		}
		if status, _, _ := e.Do(t, "HEAD", m.url("org/public/lib/1.0/lib-1.0.jar"), nil, tok(alice)); status != 200 {
			t.Fatalf("HEAD: %d", status)
		}
		if n := proxy.Count("/lib-1.0.jar") + proxy.Count("/lib-1.0.jar.sha1"); n != 2 {
			t.Fatalf("the upstream was asked again: %d requests in all", n)
		}
	})
	t.Run("a sidecar GET before the file fills it", func(t *testing.T) {
		pom := []byte("<project><version>1.1</version></project>")
		if status, body, _ := m.get("org/public/lib/1.1/lib-1.1.pom.sha1"); status != 200 || body != sha1hex(pom) {
			t.Fatalf(".sha1 of an uncached pom: %d %q", status, body)
		}
		if status, body, _ := m.get("org/public/lib/1.1/lib-1.1.pom"); status != 200 || body != string(pom) || proxy.Count("/lib-1.1.pom") != 1 {
			t.Fatalf("pom after its .sha1: %d %q, upstream asked %d times", status, body, proxy.Count("/lib-1.1.pom"))
		}
	})
	t.Run("a large cold miss streams, verified against the .sha1", func(t *testing.T) {
		big := []byte(strings.Repeat("0123456789abcdef", 40<<10)) // 640 KiB: past the core's live threshold
		up.m.deploy("org/public/big/1.0/big-1.0.jar", big)
		status, body, h := m.get("org/public/big/1.0/big-1.0.jar")
		if status != 200 || body != string(big) || h.Get("X-Checksum-Sha1") != sha1hex(big) || h.Get("ETag") != "" {
			t.Fatalf("streamed cold miss: %d, %d bytes, %v", status, len(body), h)
		}
		status, body, h = m.get("org/public/big/1.0/big-1.0.jar")
		if status != 200 || body != string(big) || h.Get("X-Checksum-Sha1") != sha1hex(big) || proxy.Count("/big-1.0.jar") != 1 {
			t.Fatalf("warm read: %d, %d bytes, %v, upstream asked %d times", status, len(body), h, proxy.Count("/big-1.0.jar"))
		}
		// A swapped large body fails mid-stream: the client never gets a
		// complete response, and nothing is stored.
		up.m.deploy("org/public/big/1.1/big-1.1.jar", big)
		proxy.SwapBody = func(r *http.Request) ([]byte, bool) {
			if strings.HasSuffix(r.URL.Path, "/big-1.1.jar") {
				return append([]byte("X"), big[1:]...), true
			}
			return nil, false
		}
		proxy.Set(servertest.Swap)
		defer proxy.Set(servertest.NoFault)
		before := e.StoredState(t)
		req, _ := http.NewRequest("GET", e.URL+m.url("org/public/big/1.1/big-1.1.jar"), nil)
		req.Header.Set("Private-Token", alice)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && rerr == nil && len(b) == len(big) {
				t.Fatalf("a body that failed its .sha1 was delivered complete")
			}
		}
		if after := e.StoredState(t); after != before {
			t.Fatalf("a failed streamed fill stored something: %s -> %s", before, after)
		}
	})
	t.Run("a corrupted upstream is a 502 and nothing is stored", func(t *testing.T) {
		proxy.SwapBody = func(r *http.Request) ([]byte, bool) {
			switch {
			case strings.HasSuffix(r.URL.Path, "/bad-1.0.jar"):
				return []byte("jar of org/public/bad 1.0: SWAPPED body"), true
			case strings.HasSuffix(r.URL.Path, "/badsha-1.0.jar.sha1"):
				return []byte(strings.Repeat("ab", 20) + "  badsha-1.0.jar\n"), true
			}
			return nil, false
		}
		proxy.Set(servertest.Swap)
		before := e.StoredState(t)
		for _, p := range []string{"org/public/bad/1.0/bad-1.0.jar", "org/public/badsha/1.0/badsha-1.0.jar"} {
			if status, body, _ := m.get(p); status != 502 || !strings.Contains(body, "checksum") {
				t.Fatalf("GET %s: %d %s", p, status, body)
			}
		}
		proxy.Set(servertest.BadChecksum)
		if status, body, _ := m.get("org/public/badhdr/1.0/badhdr-1.0.jar"); status != 502 {
			t.Fatalf("a wrong X-Checksum-SHA256: %d %s", status, body)
		}
		if after := e.StoredState(t); after != before {
			t.Fatalf("a refused fill stored something: %s -> %s", before, after)
		}
		// A failure is not remembered: once the upstream is sound, it fills.
		proxy.Set(servertest.NoFault)
		if status, body, _ := m.get("org/public/bad/1.0/bad-1.0.jar"); status != 200 || body != "jar of org/public/bad 1.0: swapped body" {
			t.Fatalf("after recovery: %d %q", status, body)
		}
	})
	t.Run("missing paths are cheap, and show up after the negative TTL", func(t *testing.T) {
		p := "org/public/lib/1.0/lib-1.0-sources.jar"
		for range 5 {
			if status, _, _ := m.get(p); status != 404 {
				t.Fatalf("a missing sources jar: %d", status)
			}
		}
		if n, s := proxy.Count("/lib-1.0-sources.jar"), proxy.Count("/lib-1.0-sources.jar.sha1"); n != 1 || s != 1 {
			t.Fatalf("five probes asked the upstream %d times for the file and %d for its .sha1", n, s)
		}
		sources := []byte("sources published later")
		up.m.deploy(p, sources)
		if status, _, _ := m.get(p); status != 404 {
			t.Fatalf("within the negative TTL: %d", status)
		}
		e.Clock.Advance(61 * time.Second)
		if status, body, _ := m.get(p); status != 200 || body != string(sources) {
			t.Fatalf("after the negative TTL: %d %q", status, body)
		}
	})
	t.Run("upstream metadata is served, cached and revalidated after the TTL", func(t *testing.T) {
		upDoc := func() string {
			_, b, _ := up.m.get("org/public/lib/maven-metadata.xml")
			return b
		}
		want := upDoc()
		md := m.metadata("org/public/lib") // checks its .sha1 too
		if md.raw != want || !slices.Equal(md.Versioning.Versions, []string{"1.0", "1.1"}) {
			t.Fatalf("metadata through the remote:\n%s\nupstream's:\n%s", md.raw, want)
		}
		_, _, h := m.get("org/public/lib/maven-metadata.xml")
		if h.Get("X-Checksum-Sha1") != sha1hex([]byte(want)) {
			t.Fatalf("metadata X-Checksum-Sha1 %q", h.Get("X-Checksum-Sha1"))
		}
		asked := proxy.Count("/lib/maven-metadata.xml")
		up.m.artifact("org/public/lib", "2.0", "public")
		if md := m.metadata("org/public/lib"); md.raw != want || proxy.Count("/lib/maven-metadata.xml") != asked {
			t.Fatalf("within the TTL the cached copy is served: upstream asked %d more times\n%s", proxy.Count("/lib/maven-metadata.xml")-asked, md.raw)
		}
		e.Clock.Advance(25 * time.Hour) // the default TTL is a day
		md = m.metadata("org/public/lib")
		if !slices.Equal(md.Versioning.Versions, []string{"1.0", "1.1", "2.0"}) || md.Versioning.Latest != "2.0" {
			t.Fatalf("after the TTL:\n%s", md.raw)
		}
		// Unchanged upstream: the revalidation is conditional (a 304).
		e.Clock.Advance(25 * time.Hour)
		before := up.conditionals("/lib/maven-metadata.xml")
		if md2 := m.metadata("org/public/lib"); md2.raw != md.raw || up.conditionals("/lib/maven-metadata.xml") != before+1 {
			t.Fatalf("revalidation: %d conditional requests\n%s", up.conditionals("/lib/maven-metadata.xml")-before, md2.raw)
		}
		// Past the TTL with the upstream down: served stale (the default).
		e.Clock.Advance(25 * time.Hour)
		proxy.Set(servertest.Fail500)
		defer proxy.Set(servertest.NoFault)
		if md3 := m.metadata("org/public/lib"); md3.raw != md.raw {
			t.Fatalf("stale metadata:\n%s", md3.raw)
		}
		if status, _, _ := m.get("org/public/nothing/maven-metadata.xml"); status != 502 {
			t.Fatalf("uncached metadata with the upstream down: %d", status)
		}
	})
	t.Run("SNAPSHOT version metadata and timestamped files", func(t *testing.T) {
		dir := "org/public/snap/1.0-SNAPSHOT/"
		up.m.deploy(dir+"snap-1.0-20261201.120000-1.jar", []byte("snap 1"))
		up.m.deploy(dir+"snap-1.0-20261201.130000-2.jar", []byte("snap 2"))
		up.m.deploy(dir+"snap-1.0-20261201.130000-2.pom", []byte("<project/>"))
		_, want, _ := up.m.get(dir + "maven-metadata.xml")
		md := m.metadata(strings.TrimSuffix(dir, "/"))
		if md.raw != want || md.Versioning.Snapshot.BuildNumber != 2 {
			t.Fatalf("SNAPSHOT metadata through the remote:\n%s", md.raw)
		}
		if status, body, _ := m.get(dir + "snap-1.0-20261201.130000-2.jar"); status != 200 || body != "snap 2" {
			t.Fatalf("timestamped jar: %d %q", status, body)
		}
	})
	t.Run("no SHA-1 upstream: refused, nothing stored; X-Checksum-Sha1 is enough", func(t *testing.T) {
		files := map[string]string{"/r/org/x/plain/1.0/plain-1.0.jar": "no checksum anywhere", "/r/org/x/hdr/1.0/hdr-1.0.jar": "checksum in a header"}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, ok := files[r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			if strings.Contains(r.URL.Path, "/hdr-") {
				w.Header().Set("X-Checksum-Sha1", sha1hex([]byte(body)))
			}
			_, _ = w.Write([]byte(body))
		}))
		defer srv.Close()
		id := e.CreateRemoteProject(t, alice, "mirror", "plain", "MAVEN", srv.URL+"/r")
		pm := mvn{e: e, t: t, project: strconv.Itoa(id), token: alice}
		before := e.StoredState(t)
		if status, body, _ := pm.get("org/x/plain/1.0/plain-1.0.jar"); status != 502 || !strings.Contains(body, "SHA-1") {
			t.Fatalf("a file without any SHA-1: %d %s", status, body)
		}
		if after := e.StoredState(t); after != before {
			t.Fatalf("an unverified file was stored: %s -> %s", before, after)
		}
		if status, body, h := pm.get("org/x/hdr/1.0/hdr-1.0.jar"); status != 200 || body != "checksum in a header" || h.Get("X-Checksum-MD5") != md5hex([]byte(body)) {
			t.Fatalf("a file with X-Checksum-Sha1: %d %q %v", status, body, h)
		}
	})
	t.Run("uploads to a REMOTE project are refused", func(t *testing.T) {
		if status, body := m.put("org/public/lib/9.0/lib-9.0.jar", []byte("x")); status != 405 {
			t.Fatalf("PUT: %d %s", status, body)
		}
	})
}

// newMavenVirtual is a registry where alice's private group acme has the
// STANDARD projects private and private2, the REMOTE project central (over
// up) and the VIRTUAL project all over them; it returns the virtual
// project's client and the STANDARD ones'.
func newMavenVirtual(t *testing.T, up *mavenUpstream, upstreams ...servertest.Upstream) (e *servertest.Env, v, priv, priv2 mvn) {
	t.Helper()
	e = servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	pid := e.CreateProjectWith(t, alice, servertest.Project{Namespace: "acme", Path: "private", Format: "MAVEN", Visibility: "PRIVATE"})
	pid2 := e.CreateProjectWith(t, alice, servertest.Project{Namespace: "acme", Path: "private2", Format: "MAVEN", Visibility: "PRIVATE"})
	e.CreateRemoteProject(t, alice, "acme", "central", "MAVEN", up.url)
	if len(upstreams) == 0 {
		upstreams = []servertest.Upstream{{ID: "private", Path: "acme/private"}, {ID: "private2", Path: "acme/private2"}, {ID: "central", Path: "acme/central"}}
	}
	vid := e.CreateVirtualProject(t, alice, "acme", "all", "MAVEN", upstreams...)
	return e, mvn{e: e, t: t, project: strconv.Itoa(vid), token: alice},
		mvn{e: e, t: t, project: strconv.Itoa(pid), token: alice}, mvn{e: e, t: t, project: strconv.Itoa(pid2), token: alice}
}

func TestMavenVirtualNameOwnership(t *testing.T) {
	up := newMavenUpstream(t)
	// The public mirror has the private artifact's coordinates too, with a
	// higher version (dependency confusion), and an artifact of its own.
	up.m.artifact("com/acme/core", "1.0", "PUBLIC impostor")
	up.m.artifact("com/acme/core", "9.9", "PUBLIC impostor")
	up.m.deploy("com/acme/core/9.9-SNAPSHOT/core-9.9-20261201.120000-1.jar", []byte("PUBLIC snapshot"))
	pubJar := up.m.artifact("org/public/lib", "2.0", "public")

	e, v, priv, priv2 := newMavenVirtual(t, up) // all at priority 0: STANDARD before REMOTE
	privJar := priv.artifact("com/acme/core", "1.0", "private")
	priv.artifact("com/acme/core", "1.1", "private")
	priv2.artifact("com/acme/core", "1.2", "private")
	proxy := up.proxy

	t.Run("the private tier owns the artifact: only its versions", func(t *testing.T) {
		md := v.metadata("com/acme/core")
		if !slices.Equal(md.Versioning.Versions, []string{"1.0", "1.1", "1.2"}) || md.Versioning.Latest != "1.2" || md.Versioning.Release != "1.2" {
			t.Fatalf("virtual metadata of a private artifact:\n%s", md.raw)
		}
		if status, body, _ := v.get("com/acme/core/1.0/core-1.0.jar"); status != 200 || body != string(privJar) {
			t.Fatalf("private jar through the virtual: %d %q", status, body)
		}
		for _, p := range []string{"com/acme/core/9.9/core-9.9.jar", "com/acme/core/9.9/core-9.9.pom", "com/acme/core/9.9/core-9.9.jar.sha1",
			"com/acme/core/9.9-SNAPSHOT/maven-metadata.xml", "com/acme/core/9.9-SNAPSHOT/core-9.9-20261201.120000-1.jar"} {
			if status, body, _ := v.get(p); status != 404 {
				t.Fatalf("the public-only %s through the virtual: %d %q", p, status, body)
			}
		}
		if n := proxy.Count("/core-9.9.jar") + proxy.Count("/core-9.9.pom") + proxy.Count("/core-9.9.jar.sha1") + proxy.Count("-1.jar"); n != 0 {
			t.Fatalf("the upstream was asked %d times for files of a private artifact", n)
		}
	})
	t.Run("a public-only artifact comes from the remote", func(t *testing.T) {
		md := v.metadata("org/public/lib")
		if !slices.Equal(md.Versioning.Versions, []string{"2.0"}) {
			t.Fatalf("public metadata through the virtual:\n%s", md.raw)
		}
		status, body, h := v.get("org/public/lib/2.0/lib-2.0.jar")
		if status != 200 || body != string(pubJar) || h.Get("X-Registry-Upstream") != "acme/central" || h.Get("X-Checksum-Sha1") != sha1hex(pubJar) {
			t.Fatalf("public jar through the virtual: %d %q %v", status, body, h)
		}
		if status, _, _ := v.get("org/public/none/1.0/none-1.0.jar"); status != 404 {
			t.Fatalf("an artifact nobody has: %d", status)
		}
	})
	t.Run("uploads to a VIRTUAL project are refused", func(t *testing.T) {
		if status, body := v.put("com/acme/core/2.0/core-2.0.jar", []byte("x")); status != 405 {
			t.Fatalf("PUT: %d %s", status, body)
		}
	})
	t.Run("a higher priority on the mirror hands it the name", func(t *testing.T) {
		alice := v.token
		e.SetUpstreams(t, alice, "acme/all", servertest.Upstream{ID: "central", Path: "acme/central", Priority: 10},
			servertest.Upstream{ID: "private", Path: "acme/private"})
		md := v.metadata("com/acme/core")
		if !slices.Equal(md.Versioning.Versions, []string{"1.0", "9.9-SNAPSHOT", "9.9"}) {
			t.Fatalf("metadata with the mirror first:\n%s", md.raw)
		}
		if status, body, _ := v.get("com/acme/core/1.0/core-1.0.jar"); status != 200 || !strings.Contains(body, "PUBLIC") {
			t.Fatalf("jar with the mirror first: %d %q", status, body)
		}
	})
}

func TestMavenVirtualMergesMirrorsOfOneTier(t *testing.T) {
	up := newMavenUpstream(t)
	up.m.artifact("org/public/lib", "2.0", "public")
	up2 := newMavenUpstream(t)
	up2.m.artifact("org/public/lib", "2.1", "public, second mirror")
	up2.m.artifact("org/public/lib", "2.1-SNAPSHOT", "x")

	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	e.CreateRemoteProject(t, alice, "acme", "one", "MAVEN", up.url)
	e.CreateRemoteProject(t, alice, "acme", "two", "MAVEN", up2.url)
	vid := e.CreateVirtualProject(t, alice, "acme", "all", "MAVEN",
		servertest.Upstream{ID: "one", Path: "acme/one"}, servertest.Upstream{ID: "two", Path: "acme/two"})
	v := mvn{e: e, t: t, project: strconv.Itoa(vid), token: alice}
	md := v.metadata("org/public/lib")
	if !slices.Equal(md.Versioning.Versions, []string{"2.0", "2.1-SNAPSHOT", "2.1"}) || md.Versioning.Latest != "2.1" || md.Versioning.Release != "2.1" ||
		md.GroupID != "org.public" || md.ArtifactID != "lib" || len(md.Versioning.LastUpdated) != 14 {
		t.Fatalf("merged metadata of two mirrors:\n%s", md.raw)
	}
	if status, body, _ := v.get("org/public/lib/2.1/lib-2.1.jar"); status != 200 || !strings.Contains(body, "second mirror") {
		t.Fatalf("a jar only the second mirror has: %d %q", status, body)
	}
}

func TestMavenGroupRead(t *testing.T) {
	up := newMavenUpstream(t)
	up.m.artifact("com/acme/core", "9.9", "PUBLIC impostor")
	pubJar := up.m.artifact("org/public/lib", "2.0", "public")
	e, _, priv, priv2 := newMavenVirtual(t, up)
	priv.artifact("com/acme/core", "1.0", "private")
	priv.artifact("com/acme/core", "1.1", "private")
	// private2 is newer: its copy of 1.0 is the one served.
	newer := priv2.artifact("com/acme/core", "1.0", "private2's copy")
	priv2.artifact("com/acme/core", "1.2", "private")
	alice := priv.token
	get := func(token, path string) (int, string, http.Header) {
		t.Helper()
		h := map[string]string{}
		if token != "" {
			h = tok(token)
		}
		status, b, hdr := e.Do(t, "GET", "/api/v4/groups/acme/-/packages/maven/"+path, nil, h)
		return status, string(b), hdr
	}

	status, body, h := get(alice, "com/acme/core/maven-metadata.xml")
	if status != 200 || !strings.Contains(body, "<version>1.0</version>\n      <version>1.1</version>\n      <version>1.2</version>") ||
		strings.Contains(body, "9.9") || h.Get("X-Checksum-Sha1") != sha1hex([]byte(body)) {
		t.Fatalf("group metadata: %d\n%s", status, body)
	}
	if status, sum, _ := get(alice, "com/acme/core/maven-metadata.xml.sha1"); status != 200 || sum != sha1hex([]byte(body)) {
		t.Fatalf("group metadata .sha1: %d %q", status, sum)
	}
	if status, body, h := get(alice, "com/acme/core/1.0/core-1.0.jar"); status != 200 || body != string(newer) || h.Get("X-Checksum-Sha1") != sha1hex(newer) {
		t.Fatalf("group file (newest project first): %d %q", status, body)
	}
	if status, sum, _ := get(alice, "com/acme/core/1.0/core-1.0.jar.md5"); status != 200 || sum != md5hex(newer) {
		t.Fatalf("group file .md5: %d %q", status, sum)
	}
	if status, _, _ := get(alice, "com/acme/core/9.9/core-9.9.jar"); status != 404 {
		t.Fatalf("the mirror's version of a private artifact: %d", status)
	}
	if status, body, _ := get(alice, "org/public/lib/2.0/lib-2.0.jar"); status != 200 || body != string(pubJar) {
		t.Fatalf("a public artifact through the group's mirror: %d %q", status, body)
	}
	if status, _, _ := e.Do(t, "HEAD", "/api/v4/groups/acme/-/packages/maven/com/acme/core/1.2/core-1.2.jar", nil, tok(alice)); status != 200 {
		t.Fatalf("HEAD: %d", status)
	}
	if status, _, _ := get(alice, "com/acme/bad%24name/1.1/x.jar"); status != 400 {
		t.Fatalf("a bad path: %d", status)
	}
	// The numeric id works as the path does.
	var g struct {
		Group struct{ ID string } `json:"group"`
	}
	e.MustGraphQL(t, alice, `{ group(fullPath: "acme") { id } }`, nil).Decode(t, &g)
	gid := g.Group.ID[strings.LastIndexByte(g.Group.ID, '/')+1:]
	if status, _, _ := e.Do(t, "GET", "/api/v4/groups/"+gid+"/-/packages/maven/com/acme/core/1.2/core-1.2.jar", nil, tok(alice)); status != 200 {
		t.Fatalf("by numeric id %s: %d", gid, status)
	}

	// An invisible group: the Basic challenge for an anonymous caller, 404
	// for a signed-in one, whether or not the path exists or is valid.
	bob := e.CreateUser(t, "bob")
	for _, p := range []string{"com/acme/core/maven-metadata.xml", "com/acme/core/1.0/core-1.0.jar", "com/acme/bad%24name/1.0/x.jar"} {
		if status, body, h := get("", p); status != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") || strings.Contains(body, "private") {
			t.Fatalf("anonymous %s: %d %v %s", p, status, h, body)
		}
		if status, _, _ := get(bob, p); status != 404 {
			t.Fatalf("outsider %s: %d", p, status)
		}
	}
	if status, _, _ := get(alice, "com/acme/core/1.0/"); status != 404 {
		t.Fatalf("a directory: %d", status)
	}
}

// An upstream repository without maven-metadata.xml for an artifact still
// serves its files through a virtual project when no tier has the name,
// and a private artifact of the same name still shadows it.
func TestMavenVirtualUpstreamWithoutMetadata(t *testing.T) {
	files := map[string]string{
		"/r/org/x/lib/1.0/lib-1.0.jar":    "a jar of a repository without metadata",
		"/r/com/acme/own/1.0/own-1.0.jar": "PUBLIC impostor",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, sidecar := strings.CutSuffix(r.URL.Path, ".sha1")
		body, ok := files[name]
		switch {
		case !ok:
			http.NotFound(w, r)
		case sidecar:
			_, _ = w.Write([]byte(sha1hex([]byte(body))))
		default:
			_, _ = w.Write([]byte(body))
		}
	}))
	defer srv.Close()
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	pid := e.CreateProjectWith(t, alice, servertest.Project{Namespace: "acme", Path: "private", Format: "MAVEN", Visibility: "PRIVATE"})
	e.CreateRemoteProject(t, alice, "acme", "bare", "MAVEN", srv.URL+"/r")
	vid := e.CreateVirtualProject(t, alice, "acme", "all", "MAVEN",
		servertest.Upstream{ID: "private", Path: "acme/private"}, servertest.Upstream{ID: "bare", Path: "acme/bare"})
	priv := mvn{e: e, t: t, project: strconv.Itoa(pid), token: alice}
	v := mvn{e: e, t: t, project: strconv.Itoa(vid), token: alice}
	priv.artifact("com/acme/own", "0.1", "private")

	if status, body, _ := v.get("org/x/lib/1.0/lib-1.0.jar"); status != 200 || body != files["/r/org/x/lib/1.0/lib-1.0.jar"] {
		t.Fatalf("a file of an upstream without metadata: %d %q", status, body)
	}
	if status, _, _ := v.get("org/x/lib/maven-metadata.xml"); status != 404 {
		t.Fatalf("metadata nobody has: %d", status)
	}
	if status, body, _ := v.get("com/acme/own/1.0/own-1.0.jar"); status != 404 {
		t.Fatalf("a private name's version only the upstream has: %d %q", status, body)
	}
}
