package npm

import (
	"slices"
	"testing"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

func TestNPMNameRules(t *testing.T) {
	for _, ok := range []string{"left-pad", "@acme/util", "a", "x.y_z~1", "@a-b/c.d"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Left-Pad", ".hidden", "_private", "@acme/", "@/x", "a b", "a/b", "@a/b/c", "node_modules",
		"caf\u00e9", string(make([]byte, 215))} {
		if ValidateName(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNPMVersionOrder(t *testing.T) {
	// semver.org's precedence example, plus numeric fields compared as numbers.
	want := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
		"1.0.0-rc.1", "1.0.0", "1.2.0", "1.10.0", "2.0.0", "10.0.0"}
	pk := &Package{Versions: map[string]*pkgVersion{}}
	for _, v := range want {
		if err := ValidateVersion(v); err != nil {
			t.Fatal(err)
		}
		pk.Versions[v] = &pkgVersion{Version: v}
	}
	for range 5 {
		if got := pk.sortedVersions(); !slices.Equal(got, want) {
			t.Fatalf("order %v", got)
		}
	}
	if got := pk.DistTags()["latest"]; got != "10.0.0" {
		t.Fatalf("latest without a tag: %s", got)
	}
	for _, bad := range []string{"1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0+"} {
		if ValidateVersion(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNPMIntegrity(t *testing.T) {
	sri := integrityOf("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
	got, ok := sha512FromIntegrity(sri + " sha1-abc")
	if !ok || got != "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" {
		t.Fatalf("round trip: %q %v", got, ok)
	}
	if _, ok := sha512FromIntegrity("sha512-short"); ok {
		t.Fatal("a short digest accepted")
	}
}

// The URLs and file names npm derives from a name: a scoped name's tarball
// drops the scope, and the scope's slash is escaped in URLs.
func TestNPMTarballNames(t *testing.T) {
	for _, c := range []struct{ name, version, file, escaped string }{
		{"left-pad", "1.3.0", "left-pad-1.3.0.tgz", "left-pad"},
		{"@acme/util", "2.0.0-beta.1", "util-2.0.0-beta.1.tgz", "@acme%2futil"},
		{"@acme/util.js", "1.0.0+build.7", "util.js-1.0.0+build.7.tgz", "@acme%2futil.js"},
	} {
		if got := tarballName(c.name, c.version); got != c.file {
			t.Errorf("tarballName(%q, %q) = %q, want %q", c.name, c.version, got, c.file)
		}
		if got := escapedName(c.name); got != c.escaped {
			t.Errorf("escapedName(%q) = %q, want %q", c.name, got, c.escaped)
		}
		if got, err := versionFromTarball(c.name, c.file); err != nil || got != c.version {
			t.Errorf("versionFromTarball(%q, %q) = %q, %v; want %q", c.name, c.file, got, err, c.version)
		}
	}
	// A download of another package's tarball, or of a file that is no
	// version's, is a 404, not a server error.
	for _, c := range []struct{ name, file string }{
		{"left-pad", "right-pad-1.0.0.tgz"},
		{"left-pad", "left-pad-1.0.0.tar.gz"},
		{"left-pad", "left-pad-latest.tgz"},
		{"left-pad", "left-pad-.tgz"},
		{"@acme/util", "@acme/util-1.0.0.tgz"},
	} {
		if _, err := versionFromTarball(c.name, c.file); registry.KindOf(err) != registry.KindNotFound {
			t.Errorf("versionFromTarball(%q, %q): %v, want not found", c.name, c.file, err)
		}
	}
}

func TestNPMDownloadPath(t *testing.T) {
	f := New(nil, nil)
	if f.Type() != enum.NPM {
		t.Fatalf("type %v", f.Type())
	}
	got := f.DownloadPath(&ent.Pkg{Name: "@acme/util", Version: "1.0.0"}, &ent.PackageFile{FileName: "util-1.0.0.tgz"})
	if want := "npm/@acme%2futil/-/util-1.0.0.tgz"; got != want {
		t.Fatalf("download path %q, want %q", got, want)
	}
}

// A dist-tag npm could confuse with a version (npm install pkg@1.0.0) or
// that would not survive a URL is refused; ordinary tags pass.
func TestNPMTagRules(t *testing.T) {
	for _, ok := range []string{"latest", "next", "beta", "v2-maintenance", "1.x", "lts"} {
		if err := validateTag(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1.0.0", "v1.2.3", "2.0.0-rc.1", "a/b", "a b", "50%", "tab\t", string(make([]byte, 256))} {
		if err := validateTag(bad); registry.KindOf(err) != registry.KindInvalid {
			t.Errorf("%q: %v, want invalid", bad, err)
		}
	}
}
