package server_test

import (
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgreg/registry/ent/blob"
	blobstore "github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/servertest"
)

// fakeNPMUpstream is a loopback npm registry serving generated packuments
// (full form only, whatever the Accept header, as some mirrors do) and
// their tarballs, counting packument requests per name.
type fakeNPMUpstream struct {
	srv *httptest.Server
	mu  sync.Mutex
	// docs are the packuments by name; versions the count to generate.
	docs     map[string][]byte
	requests map[string]int
}

func newFakeNPMUpstream(t *testing.T) *fakeNPMUpstream {
	u := &fakeNPMUpstream{docs: map[string][]byte{}, requests: map[string]int{}}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.EscapedPath(), "/")
		if name, file, ok := strings.Cut(path, "/-/"); ok {
			w.Write(fakeTarball(strings.Replace(name, "%2f", "/", 1), file))
			return
		}
		name := strings.Replace(path, "%2f", "/", 1)
		u.mu.Lock()
		doc, ok := u.docs[name]
		u.requests[name]++
		u.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func fakeTarball(name, file string) []byte { return []byte("tarball of " + name + " " + file) }

// publish replaces a name's packument: versions 1.0.0 .. 1.0.<n-1>, each
// with a readme-sized description (pad bytes) that the abbreviated form
// leaves out.
func (u *fakeNPMUpstream) publish(name string, n, pad int) []byte {
	unscoped := name[strings.LastIndex(name, "/")+1:]
	versions := map[string]any{}
	times := map[string]string{"created": "2020-01-01T00:00:00.000Z"}
	for i := range n {
		v := fmt.Sprintf("1.0.%d", i)
		file := unscoped + "-" + v + ".tgz"
		tb := fakeTarball(name, file)
		s1, s512 := sha1.Sum(tb), sha512.Sum512(tb)
		versions[v] = map[string]any{
			"name": name, "version": v, "description": strings.Repeat("x", pad),
			"dependencies": map[string]string{"dep-of-" + unscoped: "^1.0.0"},
			"scripts":      map[string]string{"test": "true", "postinstall": "node x.js"},
			"dist": map[string]any{"tarball": u.srv.URL + "/" + strings.Replace(name, "/", "%2f", 1) + "/-/" + file,
				"shasum": hex.EncodeToString(s1[:]), "integrity": "sha512-" + base64.StdEncoding.EncodeToString(s512[:])},
		}
		times[v] = time.Date(2020, 1, 1, 0, 0, i, 0, time.UTC).Format(time.RFC3339Nano)
	}
	doc, _ := json.Marshal(map[string]any{"_id": name, "name": name, "readme": strings.Repeat("r", pad),
		"dist-tags": map[string]string{"latest": fmt.Sprintf("1.0.%d", n-1)}, "versions": versions, "time": times})
	u.mu.Lock()
	u.docs[name] = doc
	u.mu.Unlock()
	return doc
}

func (u *fakeNPMUpstream) count(name string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.requests[name]
}

// newRemoteNPM creates REMOTE npm projects acme/<path> over upstream.
func newRemoteNPM(t *testing.T, e *servertest.Env, token, upstream string, paths ...string) []string {
	var refs []string
	for _, p := range paths {
		refs = append(refs, strconv.Itoa(e.CreateRemoteProject(t, token, "acme", p, "NPM", upstream)))
	}
	return refs
}

const (
	npmFullAccept  = "application/json"
	npmCorgiAccept = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
)

func getPackumentAs(t *testing.T, e *servertest.Env, token, ref, name, accept string) map[string]any {
	t.Helper()
	status, body, h := e.Do(t, "GET", npmPath(ref, escName(name)), nil, map[string]string{"PRIVATE-TOKEN": token, "Accept": accept})
	if status != 200 {
		t.Fatalf("GET %s (%s): %d %s", name, accept, status, body)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("GET %s: not JSON (%v), content type %s", name, err, h.Get("Content-Type"))
	}
	return doc
}

// npm 11 asks for the full packument, older npm and tarball fills for the
// abbreviated one: either way a name costs one upstream request per TTL,
// and the abbreviated form is derived from the full one correctly.
func TestRemoteNPMOneUpstreamFetchPerName(t *testing.T) {
	up := newFakeNPMUpstream(t)
	up.publish("full-first", 120, 300)
	up.publish("@scope/corgi-first", 3, 300)
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	ref := newRemoteNPM(t, e, alice, up.srv.URL, "npm-remote")[0]
	reg := npmRegistry(e, ref)

	full := getPackumentAs(t, e, alice, ref, "full-first", npmFullAccept)
	corgi := getPackumentAs(t, e, alice, ref, "full-first", npmCorgiAccept)
	status, body, _ := e.Do(t, "GET", npmPath(ref, "full-first/-/full-first-1.0.7.tgz"), nil, tok(alice))
	if status != 200 || string(body) != string(fakeTarball("full-first", "full-first-1.0.7.tgz")) {
		t.Fatalf("tarball through the remote: %d %q", status, body)
	}
	if n := up.count("full-first"); n != 1 {
		t.Fatalf("full, then abbreviated, then a tarball: %d upstream packument requests, want 1", n)
	}

	for _, doc := range []map[string]any{full, corgi} {
		vs, _ := doc["versions"].(map[string]any)
		if len(vs) != 120 || doc["dist-tags"].(map[string]any)["latest"] != "1.0.119" {
			t.Fatalf("packument: %d versions, dist-tags %v", len(vs), doc["dist-tags"])
		}
		v := vs["1.0.7"].(map[string]any)
		dist := v["dist"].(map[string]any)
		if dist["tarball"] != reg+"full-first/-/full-first-1.0.7.tgz" || dist["integrity"] == "" {
			t.Fatalf("dist not rewritten: %v", dist)
		}
		if v["dependencies"].(map[string]any)["dep-of-full-first"] != "^1.0.0" {
			t.Fatalf("dependencies lost: %v", v)
		}
	}
	v := corgi["versions"].(map[string]any)["1.0.7"].(map[string]any)
	if _, ok := v["description"]; ok || v["hasInstallScript"] != true || v["scripts"] != nil {
		t.Fatalf("abbreviated manifest: %v", v)
	}
	if fv := full["versions"].(map[string]any)["1.0.7"].(map[string]any); fv["description"] == nil || fv["scripts"] == nil {
		t.Fatalf("full manifest lost fields: %v", fv)
	}
	if full["time"].(map[string]any)["1.0.7"] != "2020-01-01T00:00:07Z" {
		t.Fatalf("time: %v", full["time"])
	}

	// The other order: abbreviated first (older npm), then full (npm view).
	getPackumentAs(t, e, alice, ref, "@scope/corgi-first", npmCorgiAccept)
	doc := getPackumentAs(t, e, alice, ref, "@scope/corgi-first", npmFullAccept)
	if n := up.count("@scope/corgi-first"); n != 1 || len(doc["versions"].(map[string]any)) != 3 {
		t.Fatalf("abbreviated, then full: %d upstream requests (want 1), %d versions", n, len(doc["versions"].(map[string]any)))
	}
	status, body, _ = e.Do(t, "GET", npmPath(ref, "full-first/1.0.2"), nil, tok(alice))
	if status != 200 || !strings.Contains(string(body), `"description":"xxx`) || !strings.Contains(string(body), reg+"full-first/-/full-first-1.0.2.tgz") {
		t.Fatalf("one version's manifest: %d %.300s", status, body)
	}

	// After the TTL: one more request, and both forms follow it.
	up.publish("full-first", 121, 300)
	e.Clock.Advance(25 * time.Hour)
	if vs := getPackumentAs(t, e, alice, ref, "full-first", npmCorgiAccept)["versions"].(map[string]any); len(vs) != 121 {
		t.Fatalf("after the TTL: %d versions", len(vs))
	}
	if vs := getPackumentAs(t, e, alice, ref, "full-first", npmFullAccept)["versions"].(map[string]any); len(vs) != 121 {
		t.Fatalf("after the TTL, full: %d versions", len(vs))
	}
	if n := up.count("full-first"); n != 2 {
		t.Fatalf("after the TTL: %d upstream requests, want 2", n)
	}
}

// blobObjects counts the objects in the blob store.
func blobObjects(t *testing.T, e *servertest.Env) int {
	n := 0
	err := e.Server.Blobs.Walk(t.Context(), registry.ObjectPrefix, func(blobstore.Info) error { n++; return nil })
	must0(t, err)
	return n
}

// Cached upstream documents are blobs: identical bodies cached by several
// REMOTE projects are one blob, and a body no project points at any more
// is reclaimed by the sweeper after the grace period.
func TestRemoteDocumentBodiesInBlobStore(t *testing.T) {
	up := newFakeNPMUpstream(t)
	doc1 := up.publish("shared", 40, 2000)
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	refs := newRemoteNPM(t, e, alice, up.srv.URL, "mirror-a", "mirror-b", "mirror-c")
	for _, ref := range refs {
		getPackumentAs(t, e, alice, ref, "shared", npmFullAccept)
	}
	ctx := t.Context()
	db := e.Server.DB
	if n := db.RemoteDocument.Query().CountX(ctx); n != 3 {
		t.Fatalf("%d cached documents, want one per project", n)
	}
	if n := db.Blob.Query().Where(blob.Sha256(sha(doc1))).CountX(ctx); n != 1 {
		t.Fatalf("%d blobs hold the document, want 1", n)
	}
	if n := blobObjects(t, e); n != 1 {
		t.Fatalf("%d objects in the blob store, want 1 (shared by three projects)", n)
	}

	// The sweeper leaves bodies that documents point at alone.
	e.Clock.Advance(2 * time.Hour)
	if _, err := e.Server.Sweeper.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := blobObjects(t, e); n != 1 {
		t.Fatalf("the sweeper removed a cached document's body: %d objects", n)
	}

	// The upstream changes; after the TTL every project points at the new
	// body, and the old one is swept a grace period later.
	doc2 := up.publish("shared", 41, 2000)
	e.Clock.Advance(25 * time.Hour)
	for _, ref := range refs {
		if vs := getPackumentAs(t, e, alice, ref, "shared", npmCorgiAccept)["versions"].(map[string]any); len(vs) != 41 {
			t.Fatalf("refreshed: %d versions", len(vs))
		}
	}
	if _, err := e.Server.Sweeper.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := blobObjects(t, e); n != 2 {
		t.Fatalf("within the grace period: %d objects, want the old and the new body", n)
	}
	e.Clock.Advance(2 * time.Hour)
	if _, err := e.Server.Sweeper.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := blobObjects(t, e); n != 1 || db.Blob.Query().Where(blob.Sha256(sha(doc1))).CountX(ctx) != 0 ||
		db.Blob.Query().Where(blob.Sha256(sha(doc2))).CountX(ctx) != 1 {
		t.Fatalf("after the grace period: %d objects; the old body must be gone, the new one kept", n)
	}
	if vs := getPackumentAs(t, e, alice, refs[0], "shared", npmFullAccept)["versions"].(map[string]any); len(vs) != 41 {
		t.Fatalf("after the sweep: %d versions", len(vs))
	}
	if n := up.count("shared"); n != 6 {
		t.Fatalf("%d upstream requests, want 2 per project", n)
	}
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// Memory does not grow with the npm metadata read: many large packuments
// read through a REMOTE project leave at most the metadata cache's budget
// behind, and a packument larger than the budget is still served whole.
func TestRemoteNPMMemoryBounded(t *testing.T) {
	up := newFakeNPMUpstream(t)
	const names = 12
	for i := range names {
		up.publish(fmt.Sprintf("big-%d", i), 400, 10000) // about 4 MB each
	}
	huge := up.publish("huge", 1500, 10000) // about 15 MB, more than the budget
	cfg := servertest.NewConfig(t)
	cfg.MetadataCacheBytes = 8 << 20
	e := servertest.NewWithConfig(t, cfg)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	ref := newRemoteNPM(t, e, alice, up.srv.URL, "npm-remote")[0]

	before := liveHeap()
	for i := range names {
		for _, accept := range []string{npmFullAccept, npmCorgiAccept} {
			status, _, _ := e.Do(t, "GET", npmPath(ref, fmt.Sprintf("big-%d", i)), nil, map[string]string{"PRIVATE-TOKEN": alice, "Accept": accept})
			if status != 200 {
				t.Fatalf("big-%d: %d", i, status)
			}
		}
	}
	doc := getPackumentAs(t, e, alice, ref, "huge", npmFullAccept)
	if vs := doc["versions"].(map[string]any); len(vs) != 1500 || len(huge) < 12<<20 {
		t.Fatalf("huge packument: %d versions (upstream %d bytes)", len(vs), len(huge))
	}
	doc = nil
	grown := int64(liveHeap()) - int64(before)
	t.Logf("live heap grew by %.1f MiB after reading %d MB of packuments", float64(grown)/(1<<20), (names*4+15)*2)
	if grown > 24<<20 {
		t.Fatalf("live heap grew by %d MiB; the metadata cache's budget is 8 MiB", grown>>20)
	}
}
