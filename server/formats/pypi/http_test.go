package pypi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pkgreg/registry/ent"
)

func TestNegotiate(t *testing.T) {
	for accept, want := range map[string]string{
		"":          "text/html", // pip before PEP 691, curl
		"text/html": "text/html",
		"*/*":       "text/html",
		mediaJSON:   mediaJSON,
		"application/vnd.pypi.simple.latest+json": mediaJSON,
		"application/vnd.pypi.simple.latest+html": mediaHTML,
		// pip's own Accept: JSON preferred.
		"application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01": mediaJSON,
		"application/vnd.pypi.simple.v1+json; q=0.2, text/html":                                              "text/html",
		"application/json":                    "", // nothing we serve: 406
		"application/vnd.pypi.simple.v2+json": "",
		"garbage;;, text/html;q=0.5":          "text/html",
	} {
		if got := negotiate(accept); got != want {
			t.Errorf("negotiate(%q) = %q, want %q", accept, got, want)
		}
	}
}

func testPage() *Page {
	up := time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC)
	return &Page{Name: "my-pkg", Files: []File{
		{FileName: "my_pkg-1.0.tar.gz", Version: "1.0", SHA256: sha1, Size: 10, UploadTime: &up, RequiresPython: ">=3.8,<4"},
		{FileName: "my_pkg-1.1-py3-none-any.whl", Version: "1.1", SHA256: sha2, Size: -1, Yanked: true, YankedReason: `"broken" <b>`, CoreMetadataSHA256: sha3},
		{FileName: "my_pkg-1.2-py3-none-any.whl", Version: "1.2", SHA256: sha3, Size: 5, Yanked: true},
	}}
}

func testFileURL(f File) string { return "https://reg.example/files/" + f.SHA256 + "/" + f.FileName }

func TestPageJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	writeIndex(rec, httptest.NewRequest("GET", "/", nil), mediaJSON, pageJSON(testPage(), testFileURL))
	if ct := rec.Header().Get("Content-Type"); ct != mediaJSON {
		t.Errorf("Content-Type %q", ct)
	}
	body := rec.Body.String()
	if !strings.Contains(body, `"requires-python":">=3.8,<4"`) {
		t.Errorf("requires-python is HTML-escaped or missing: %s", body)
	}
	var page struct {
		Meta     map[string]string `json:"meta"`
		Name     string            `json:"name"`
		Versions []string          `json:"versions"`
		Files    []map[string]any  `json:"files"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		t.Fatal(err)
	}
	if page.Meta["api-version"] != "1.1" || page.Name != "my-pkg" || strings.Join(page.Versions, " ") != "1.0 1.1 1.2" || len(page.Files) != 3 {
		t.Fatalf("page: %+v", page)
	}
	f0, f1, f2 := page.Files[0], page.Files[1], page.Files[2]
	if f0["url"] != testFileURL(testPage().Files[0]) || f0["size"] != 10.0 || f0["upload-time"] != "2024-01-02T03:04:05.000000Z" ||
		f0["yanked"] != false || f0["core-metadata"] != false || f0["dist-info-metadata"] != false {
		t.Errorf("sdist: %v", f0)
	}
	if _, ok := f1["size"]; ok || f1["yanked"] != `"broken" <b>` || f1["core-metadata"].(map[string]any)["sha256"] != sha3 ||
		f1["dist-info-metadata"].(map[string]any)["sha256"] != sha3 {
		t.Errorf("yanked wheel with core metadata (no size when unknown): %v", f1)
	}
	if f2["yanked"] != true {
		t.Errorf("yanked without a reason is true: %v", f2)
	}
}

func TestPageHTML(t *testing.T) {
	html := pageHTML(testPage(), testFileURL)
	for _, want := range []string{
		`<meta name="pypi:repository-version" content="1.1">`,
		`<h1>Links for my-pkg</h1>`,
		`<a href="https://reg.example/files/` + sha1 + `/my_pkg-1.0.tar.gz#sha256=` + sha1 + `" data-requires-python="&gt;=3.8,&lt;4">my_pkg-1.0.tar.gz</a>`,
		`data-yanked="&#34;broken&#34; &lt;b&gt;" data-core-metadata="sha256=` + sha3 + `" data-dist-info-metadata="sha256=` + sha3 + `">`,
		`#sha256=` + sha3 + `" data-yanked="">my_pkg-1.2-py3-none-any.whl</a>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s:\n%s", want, html)
		}
	}
}

func TestWriteIndexRevalidates(t *testing.T) {
	rec := httptest.NewRecorder()
	writeIndex(rec, httptest.NewRequest("GET", "/", nil), mediaHTML, "<html></html>")
	etag := rec.Header().Get("ETag")
	if rec.Code != 200 || etag == "" || rec.Header().Get("Content-Type") != mediaHTML+"; charset=utf-8" ||
		rec.Header().Get("Cache-Control") != "private, max-age=0, must-revalidate" {
		t.Fatalf("first response: %d %v", rec.Code, rec.Header())
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	writeIndex(rec, r, mediaHTML, "<html></html>")
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("revalidation: %d with %d bytes, want 304 and no body", rec.Code, rec.Body.Len())
	}
	rec = httptest.NewRecorder()
	writeIndex(rec, r, "text/html", "<html></html>")
	if rec.Code != 200 {
		t.Errorf("another representation revalidated with the same tag: %d", rec.Code)
	}
}

func TestDownloadPath(t *testing.T) {
	f := &Format{}
	wheel := &ent.PackageFile{FileName: "my_pkg-1.0-py3-none-any.whl", Sha256: sha1}
	meta := &ent.PackageFile{FileName: "my_pkg-1.0-py3-none-any.whl.metadata", Sha256: sha2, Metadata: []byte(`{"dist_sha256":"` + sha1 + `"}`)}
	odd := &ent.PackageFile{FileName: "a b+c.tar.gz", Sha256: sha3}
	for _, c := range []struct {
		file *ent.PackageFile
		want string
	}{
		{wheel, "pypi/files/" + sha1 + "/my_pkg-1.0-py3-none-any.whl"},
		{meta, "pypi/files/" + sha1 + "/my_pkg-1.0-py3-none-any.whl.metadata"}, // under its wheel's digest (PEP 658)
		{odd, "pypi/files/" + sha3 + "/a%20b+c.tar.gz"},
	} {
		if got := f.DownloadPath(&ent.Pkg{}, c.file); got != c.want {
			t.Errorf("DownloadPath(%s) = %q, want %q", c.file.FileName, got, c.want)
		}
	}
}
