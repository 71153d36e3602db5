package pypi

import (
	"net/url"
	"strings"
	"testing"
)

var (
	sha1 = strings.Repeat("a", 64)
	sha2 = strings.Repeat("b", 64)
	sha3 = strings.Repeat("c", 64)
)

func TestParseJSON(t *testing.T) {
	base, _ := url.Parse("https://up.example/simple/pkg/")
	body := `{"meta":{"api-version":"1.1"},"name":"pkg","files":[
	 {"filename":"pkg-1.0.tar.gz","url":"../../files/pkg-1.0.tar.gz#sha256=x","hashes":{"sha256":"` + strings.ToUpper(sha1) + `"},
	  "requires-python":">=3.8","size":10,"upload-time":"2024-01-02T03:04:05.000000Z","yanked":false},
	 {"filename":"pkg-1.1-py3-none-any.whl","url":"https://cdn.example/pkg-1.1-py3-none-any.whl","hashes":{"sha256":"` + sha2 + `"},
	  "yanked":"broken","core-metadata":{"sha256":"` + sha3 + `"}},
	 {"filename":"pkg-1.2-py3-none-any.whl","url":"pkg-1.2-py3-none-any.whl","hashes":{"sha256":"` + sha3 + `"},
	  "yanked":true,"core-metadata":true,"dist-info-metadata":{"sha256":"` + sha1 + `"}},
	 {"filename":"pkg-1.3.tar.gz","url":"pkg-1.3.tar.gz","hashes":{"md5":"00"}},
	 {"filename":"pkg-1.3.egg","url":"pkg-1.3.egg","hashes":{"sha256":"` + sha1 + `"}}
	]}`
	files, err := parseJSON([]byte(body), base)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("got %d files, want 3 (no file without a SHA-256, no egg): %+v", len(files), files)
	}
	f := files[0]
	if f.FileName != "pkg-1.0.tar.gz" || f.Version != "1.0" || f.SHA256 != sha1 || f.RequiresPython != ">=3.8" ||
		f.Size != 10 || f.UploadTime == nil || f.Yanked || f.CoreMetadataSHA256 != "" {
		t.Errorf("sdist: %+v", f)
	}
	if f.upstreamURL != "https://up.example/files/pkg-1.0.tar.gz" {
		t.Errorf("relative URL: got %q, want it resolved against the page, without its fragment", f.upstreamURL)
	}
	if f := files[1]; !f.Yanked || f.YankedReason != "broken" || f.CoreMetadataSHA256 != sha3 || f.Size != -1 ||
		f.upstreamURL != "https://cdn.example/pkg-1.1-py3-none-any.whl" {
		t.Errorf("yanked wheel with core metadata: %+v", f)
	}
	if f := files[2]; !f.Yanked || f.YankedReason != "" || f.CoreMetadataSHA256 != sha1 {
		t.Errorf("PEP 658's dist-info-metadata as the fallback digest: %+v", f)
	}
	if _, err := parseJSON([]byte("<html>"), base); err == nil {
		t.Error("an HTML body parsed as JSON")
	}
}

func TestParseHTML(t *testing.T) {
	base, _ := url.Parse("https://up.example/simple/pkg/")
	body := `<!DOCTYPE html><html><body>
<a href="../../files/pkg-1.0.tar.gz#sha256=` + strings.ToUpper(sha1) + `" data-requires-python="&gt;=3.8,&lt;4">pkg-1.0.tar.gz</a><br/>
<a href="https://cdn.example/pkg-1.1-py3-none-any.whl#sha256=` + sha2 + `" data-yanked="" data-dist-info-metadata="sha256=` + sha3 + `">x</a>
<a href="pkg-1.2-py3-none-any.whl#sha256=` + sha3 + `" data-yanked="bad build" data-core-metadata="true">x</a>
<a href="pkg-1.3.tar.gz#md5=00">pkg-1.3.tar.gz</a>
<a href="/elsewhere/">not a file</a>
</body></html>`
	files, err := parseHTML([]byte(body), base)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("got %d files, want 3 (no file without a SHA-256, no link that is not a distribution): %+v", len(files), files)
	}
	if f := files[0]; f.FileName != "pkg-1.0.tar.gz" || f.Version != "1.0" || f.SHA256 != sha1 || f.RequiresPython != ">=3.8,<4" ||
		f.Size != -1 || f.upstreamURL != "https://up.example/files/pkg-1.0.tar.gz" {
		t.Errorf("sdist (entities unescaped, digest lower-cased, URL resolved): %+v", f)
	}
	if f := files[1]; f.FileName != "pkg-1.1-py3-none-any.whl" || !f.Yanked || f.YankedReason != "" || f.CoreMetadataSHA256 != sha3 {
		t.Errorf("yanked wheel, name from the URL: %+v", f)
	}
	if f := files[2]; !f.Yanked || f.YankedReason != "bad build" || f.CoreMetadataSHA256 != "" {
		t.Errorf("core metadata without a digest is not passed on: %+v", f)
	}
}

func TestPageVersions(t *testing.T) {
	pg := &Page{Files: []File{{Version: "1.0"}, {Version: "1.1"}, {Version: "1.0"}, {Version: "0.9"}}}
	if got := strings.Join(pg.Versions(), " "); got != "1.0 1.1 0.9" {
		t.Errorf("Versions() = %q, want first-seen order without repeats", got)
	}
}
