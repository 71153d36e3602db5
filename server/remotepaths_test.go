package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/servertest"
)

// TestRemoteNegativeCacheExpires checks both sides of the remembered miss:
// within its minute a file missing upstream is answered 404 without asking
// again, and once it expires a file published upstream in the meantime is
// found.
func TestRemoteNegativeCacheExpires(t *testing.T) {
	var published atomic.Bool
	var asked atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if !published.Load() || !strings.HasSuffix(r.URL.Path, "/tool/1.0/late.bin") {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("published late"))
	}))
	t.Cleanup(upstream.Close)
	e, alice, g := newGenericMirror(t, upstream.URL+"/generic")
	if status, _, _ := g.get(tok(alice), "mirror%2Fgen", "tool/1.0/late.bin"); status != 404 || asked.Load() != 1 {
		t.Fatalf("first read: %d (upstream asked %d times)", status, asked.Load())
	}
	published.Store(true)
	e.Clock.Advance(59 * time.Second)
	if status, _, _ := g.get(tok(alice), "mirror%2Fgen", "tool/1.0/late.bin"); status != 404 || asked.Load() != 1 {
		t.Fatalf("within the minute: %d (upstream asked %d times)", status, asked.Load())
	}
	e.Clock.Advance(2 * time.Second)
	if status, body, _ := g.get(tok(alice), "mirror%2Fgen", "tool/1.0/late.bin"); status != 200 || body != "published late" || asked.Load() != 2 {
		t.Fatalf("after the minute: %d %q (upstream asked %d times)", status, body, asked.Load())
	}
}

// TestRemotePyPIOverHTMLOnlyIndex checks a REMOTE PyPI project whose
// upstream speaks only PEP 503 HTML (as many mirrors and devpi setups do):
// relative links resolve against the page, the sha256 fragment is the
// digest the file is verified against, entities in data-requires-python
// are unescaped, and links without a sha256 are not offered (they could
// not be verified). A file that does not match its digest is a 502 and is
// not cached.
func TestRemotePyPIOverHTMLOnlyIndex(t *testing.T) {
	good := []byte("wheel bytes of acme-utils 1.0")
	bad := []byte("wheel bytes of acme-utils 1.1, tampered")
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/simple/acme-utils/":
			// Whatever the Accept header asks for: HTML.
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!DOCTYPE html><html><body>
<a href="../../packages/acme_utils-1.0-py3-none-any.whl#sha256=%s" data-requires-python="&gt;=3.8">acme_utils-1.0-py3-none-any.whl</a>
<a href="/packages/acme_utils-1.1-py3-none-any.whl#sha256=%s">acme_utils-1.1-py3-none-any.whl</a>
<a href="../../packages/acme_utils-0.9.tar.gz">acme_utils-0.9.tar.gz</a>
</body></html>`, sha(good), sha([]byte("what 1.1 should have been")))
		case "/packages/acme_utils-1.0-py3-none-any.whl":
			w.Write(good)
		case "/packages/acme_utils-1.1-py3-none-any.whl":
			w.Write(bad)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(upstream.Close)
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	id := createPyPIProject(t, e, alice, "acme", "remote", "REMOTE", upstream.URL+"/simple")
	pageURL := fmt.Sprintf("/api/v4/projects/%d/packages/pypi/simple/acme-utils/", id)
	status, body, _ := e.Do(t, "GET", pageURL, nil, tok(alice))
	page := string(body)
	if status != 200 || !strings.Contains(page, "acme_utils-1.0-py3-none-any.whl") || strings.Contains(page, "acme_utils-0.9.tar.gz") ||
		!strings.Contains(page, "sha256="+sha(good)) || !strings.Contains(page, `data-requires-python="&gt;=3.8"`) {
		t.Fatalf("project page over an HTML-only upstream: %d %s", status, page)
	}
	link := func(file string) string {
		t.Helper()
		m := regexp.MustCompile(`href="([^"#]*` + regexp.QuoteMeta(file) + `)`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no link to %s in %s", file, page)
		}
		return strings.TrimPrefix(m[1], e.URL)
	}
	before := e.StoredState(t)
	if status, body, _ := e.Do(t, "GET", link("acme_utils-1.1-py3-none-any.whl"), nil, tok(alice)); status != 502 {
		t.Fatalf("a file that does not match the page's sha256: %d %s", status, body)
	}
	if after := e.StoredState(t); after != before {
		t.Fatalf("a file that failed its digest was cached: %s -> %s", before, after)
	}
	if status, body, _ := e.Do(t, "GET", link("acme_utils-1.0-py3-none-any.whl"), nil, tok(alice)); status != 200 || string(body) != string(good) {
		t.Fatalf("download through the remote: %d %q", status, body)
	}
}
