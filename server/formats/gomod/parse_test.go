package gomod

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	modzip "golang.org/x/mod/zip"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry"
)

func TestParseModulePath(t *testing.T) {
	for _, tc := range []struct {
		esc, want string
		errHas    string // "" = valid
	}{
		{"example.com/mod", "example.com/mod", ""},
		// The go command case-encodes upper-case letters.
		{"github.com/!azure/!s!d!k", "github.com/Azure/SDK", ""},
		{"example.com/mod/v2", "example.com/mod/v2", ""},
		{"github.com/Azure/sdk", "", `must be case-encoded as "!"`},
		{"example.com/!!x", "", "invalid module path"},
		// The first element needs a dot: not a module path.
		{"example/mod", "", "invalid module path"},
		{"example.com/" + strings.Repeat("a", 250), "", "longer than 255 characters"},
	} {
		got, err := parseModulePath(tc.esc)
		if tc.errHas == "" {
			if err != nil || got != tc.want {
				t.Errorf("parseModulePath(%q) = %q, %v; want %q", tc.esc, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.errHas) || registry.KindOf(err) != registry.KindInvalid {
			t.Errorf("parseModulePath(%q) = %q, %v; want an INVALID error containing %q", tc.esc, got, err, tc.errHas)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		path, esc, want string
		errHas          string
	}{
		{"example.com/mod", "v1.2.3", "v1.2.3", ""},
		{"example.com/mod", "v1.2.3-!r!c1", "v1.2.3-RC1", ""},
		{"example.com/mod", "v0.0.0-20240101120000-abcdefabcdef", "v0.0.0-20240101120000-abcdefabcdef", ""},
		{"example.com/mod", "v2.0.0+incompatible", "v2.0.0+incompatible", ""},
		{"example.com/mod/v2", "v2.1.0", "v2.1.0", ""},
		{"example.com/mod", "v1.2", "", `not canonical (should be "v1.2.0")`},
		{"example.com/mod", "1.2.3", "", "not a semantic version"},
		{"example.com/mod", "latest", "", "not a semantic version"},
		{"example.com/mod", "v1.2.3-RC1", "", "invalid version"},
		// v2+ needs the /v2 suffix, and a /v2 path only v2 versions.
		{"example.com/mod", "v2.0.0", "", "v0 or v1"},
		{"example.com/mod/v2", "v1.0.0", "", "v2"},
		{"example.com/mod", "v1." + strings.Repeat("0", 260), "", "longer than 255 characters"},
	} {
		got, err := parseVersion(tc.path, tc.esc)
		if tc.errHas == "" {
			if err != nil || got != tc.want {
				t.Errorf("parseVersion(%q, %q) = %q, %v; want %q", tc.path, tc.esc, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.errHas) || registry.KindOf(err) != registry.KindInvalid {
			t.Errorf("parseVersion(%q, %q) = %q, %v; want an INVALID error containing %q", tc.path, tc.esc, got, err, tc.errHas)
		}
	}
}

// A read that fails validation is a 404 (the go command then tries the
// next GOPROXY entry); other errors pass through.
func TestNotFound(t *testing.T) {
	err := notFound(registry.Invalid("invalid module path %q", "x"))
	if registry.KindOf(err) != registry.KindNotFound || registry.PublicMessage(err) != `invalid module path "x"` {
		t.Errorf("notFound(invalid) = %v (%v)", err, registry.KindOf(err))
	}
	forbidden := registry.Forbidden("no")
	if got := notFound(forbidden); got != error(forbidden) {
		t.Errorf("notFound(forbidden) = %v", got)
	}
}

func TestZipLimit(t *testing.T) {
	for _, tc := range []struct{ fileLimit, want int64 }{
		{0, modzip.MaxZipFile},
		{1 << 20, 1 << 20},
		{modzip.MaxZipFile + 1, modzip.MaxZipFile},
	} {
		if got := zipLimit(tc.fileLimit); got != tc.want {
			t.Errorf("zipLimit(%d) = %d, want %d", tc.fileLimit, got, tc.want)
		}
	}
}

func TestSpoolUpload(t *testing.T) {
	body := []byte("module zip bytes")
	sum := sha256.Sum256(body)
	for _, announced := range []int64{int64(len(body)), -1} {
		sp, err := spoolUpload(bytes.NewReader(body), announced, 100)
		if err != nil {
			t.Fatalf("announced %d: %v", announced, err)
		}
		got, _ := os.ReadFile(sp.f.Name())
		if !bytes.Equal(got, body) || sp.size != int64(len(body)) || sp.sha256 != hex.EncodeToString(sum[:]) {
			t.Errorf("announced %d: spooled %q, size %d, sha256 %s", announced, got, sp.size, sp.sha256)
		}
		name := sp.f.Name()
		sp.remove()
		if _, err := os.Stat(name); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("remove left %s: %v", name, err)
		}
	}
	if _, err := spoolUpload(bytes.NewReader(body), -1, int64(len(body))-1); registry.KindOf(err) != registry.KindTooLarge {
		t.Errorf("over the limit: %v, want TOO_LARGE", err)
	}
	_, err := spoolUpload(bytes.NewReader(body), int64(len(body))+1, 100)
	if registry.KindOf(err) != registry.KindInvalid || !strings.Contains(err.Error(), "Content-Length") {
		t.Errorf("short body: %v, want INVALID about Content-Length", err)
	}
}

// writeZip writes a zip of files (name -> content) and returns its path.
func writeZip(t *testing.T, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "m.zip")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckModuleZip(t *testing.T) {
	const mod = "example.com/mod"
	for _, tc := range []struct {
		name    string
		version string
		files   map[string]string
		wantMod string // the go.mod .mod serves, when valid
		errHas  string
	}{
		{"valid", "v1.0.0", map[string]string{
			mod + "@v1.0.0/go.mod": "module example.com/mod\n\ngo 1.22\n", mod + "@v1.0.0/a.go": "package mod\n",
		}, "module example.com/mod\n\ngo 1.22\n", ""},
		{"incompatible without go.mod gets one synthesised", "v2.0.0+incompatible", map[string]string{
			mod + "@v2.0.0+incompatible/a.go": "package mod\n",
		}, "module example.com/mod\n", ""},
		{"no go.mod", "v1.0.0", map[string]string{mod + "@v1.0.0/a.go": "package mod\n"}, "",
			"the module zip has no go.mod at example.com/mod@v1.0.0/go.mod"},
		{"go.mod declares another module", "v1.0.0", map[string]string{mod + "@v1.0.0/go.mod": "module example.com/other\n"}, "",
			`go.mod declares module "example.com/other", but it is uploaded as "example.com/mod"`},
		{"go.mod without module directive", "v1.0.0", map[string]string{mod + "@v1.0.0/go.mod": "go 1.22\n"}, "",
			"go.mod has no module directive"},
		{"bad go.mod", "v1.0.0", map[string]string{mod + "@v1.0.0/go.mod": "module \"unterminated\n"}, "", "invalid go.mod"},
		{"file outside the prefix", "v1.0.0", map[string]string{
			mod + "@v1.0.0/go.mod": "module example.com/mod\n", mod + "@v1.0.1/a.go": "package mod\n",
		}, "", "invalid module zip"},
		{"go.mod below the root", "v1.0.0", map[string]string{
			mod + "@v1.0.0/go.mod": "module example.com/mod\n", mod + "@v1.0.0/sub/go.mod": "module example.com/mod/sub\n",
		}, "", "go.mod file not in module root directory"},
		{"case collision", "v1.0.0", map[string]string{
			mod + "@v1.0.0/go.mod": "module example.com/mod\n", mod + "@v1.0.0/a.go": "", mod + "@v1.0.0/A.go": "",
		}, "", "invalid module zip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := checkModuleZip(writeZip(t, tc.files), mod, tc.version)
			if tc.errHas == "" {
				if err != nil || string(got) != tc.wantMod {
					t.Fatalf("checkModuleZip = %q, %v; want %q", got, err, tc.wantMod)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errHas) || registry.KindOf(err) != registry.KindInvalid {
				t.Fatalf("checkModuleZip = %q, %v; want an INVALID error containing %q", got, err, tc.errHas)
			}
		})
	}
	t.Run("not a zip", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "m.zip")
		_ = os.WriteFile(p, []byte("not a zip"), 0o600)
		if _, err := checkModuleZip(p, mod, "v1.0.0"); registry.KindOf(err) != registry.KindInvalid {
			t.Fatalf("checkModuleZip(garbage) = %v, want INVALID", err)
		}
	})
}

func TestParseList(t *testing.T) {
	got := parseList([]byte("v1.0.0\n  v1.1.0 \r\nnot-a-version\n\nv2.0.0+incompatible\n1.2.3\n"))
	want := []string{"v1.0.0", "v1.1.0", "v2.0.0+incompatible"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseList = %q, want %q", got, want)
	}
}

// @v/list is each version once, in semver order (not string order), with
// pre-releases before their release.
func TestMergeLists(t *testing.T) {
	got := mergeLists([]string{"v1.10.0", "v1.2.0", "v1.9.0"}, []string{"v1.2.0", "v1.10.0-rc.1", "v0.1.0"}, nil)
	want := []string{"v0.1.0", "v1.2.0", "v1.9.0", "v1.10.0-rc.1", "v1.10.0"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mergeLists = %q, want %q", got, want)
	}
	if got := mergeLists(nil, []string{}); got != nil {
		t.Errorf("mergeLists(empty) = %q, want nil (an empty list)", got)
	}
}

// "latest" prefers a release to any pre-release, and a pre-release to any
// pseudo-version, whatever their semver order.
func TestLatestRank(t *testing.T) {
	const pseudo = "v1.5.1-0.20240101120000-abcdefabcdef"
	for _, tc := range []struct {
		a, b string
		want int // sign
	}{
		{"v1.0.0", "v1.2.0-rc.1", 1},
		{"v1.2.0-rc.1", pseudo, 1},
		{"v1.0.0", pseudo, 1},
		{"v1.10.0", "v1.9.0", 1},
		{"v1.0.0-beta", "v1.0.0-alpha", 1},
		{"v1.0.0", "v1.0.0", 0},
		{pseudo, "v0.1.0", -1},
	} {
		got := latestRank(tc.a, tc.b)
		if (got > 0) != (tc.want > 0) || (got < 0) != (tc.want < 0) {
			t.Errorf("latestRank(%q, %q) = %d, want sign %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		path string
		want request
		ok   bool
	}{
		{"example.com/mod/@v/list", request{escPath: "example.com/mod", what: "list"}, true},
		{"github.com/!azure/x/@latest", request{escPath: "github.com/!azure/x", what: "latest"}, true},
		{"example.com/mod/@v/v1.0.0.info", request{escPath: "example.com/mod", escVersion: "v1.0.0", what: ".info"}, true},
		{"example.com/mod/@v/v1.0.0.mod", request{escPath: "example.com/mod", escVersion: "v1.0.0", what: ".mod"}, true},
		{"example.com/mod/@v/v1.0.0-!r!c1.zip", request{escPath: "example.com/mod", escVersion: "v1.0.0-!r!c1", what: ".zip"}, true},
		{"example.com/mod/@v/.zip", request{}, false},
		{"example.com/mod/@v/v1.0.0/x.zip", request{}, false},
		{"example.com/mod/@v/v1.0.0.tar.gz", request{}, false},
		{"example.com/mod/@v/", request{}, false},
		{"example.com/mod", request{}, false},
	} {
		got, ok := parseRequest(tc.path)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseRequest(%q) = %+v, %v; want %+v, %v", tc.path, got, ok, tc.want, tc.ok)
		}
	}
}

func TestDownloadPath(t *testing.T) {
	f := New(nil, nil)
	for _, tc := range []struct{ name, version, file, want string }{
		{"github.com/Azure/sdk", "v1.0.0-RC1", "v1.0.0-RC1.zip", "go/github.com/!azure/sdk/@v/v1.0.0-!r!c1.zip"},
		{"example.com/mod", "v1.0.0", "v1.0.0.info", "go/example.com/mod/@v/v1.0.0.info"},
		{"example.com/mod", "v1.0.0", "v1.0.0.mod", "go/example.com/mod/@v/v1.0.0.mod"},
		{"example.com/Mod!", "v1.0.0", "v1.0.0.zip", ""},
	} {
		if got := f.DownloadPath(&ent.Pkg{Name: tc.name, Version: tc.version}, &ent.PackageFile{FileName: tc.file}); got != tc.want {
			t.Errorf("DownloadPath(%s@%s, %s) = %q, want %q", tc.name, tc.version, tc.file, got, tc.want)
		}
	}
}
