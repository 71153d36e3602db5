package pypi

import (
	"strings"
	"testing"

	"github.com/pkgreg/registry/server/registry"
)

func TestNormalizeName(t *testing.T) {
	// PEP 503's examples: every spelling pip may ask for is one page.
	for _, name := range []string{"friendly-bard", "Friendly-Bard", "FRIENDLY-BARD", "friendly.bard", "friendly_bard", "friendly--bard", "FrIeNdLy-._.-bArD"} {
		if got := NormalizeName(name); got != "friendly-bard" {
			t.Errorf("NormalizeName(%q) = %q, want friendly-bard", name, got)
		}
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"requests": true, "a": true, "zope.interface": true, "My_Pkg-2": true,
		"": false, "-lead": false, "trail.": false, "sp ace": false, "ünïcode": false,
		strings.Repeat("a", 255): true, strings.Repeat("a", 256): false,
	} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestParseFileName(t *testing.T) {
	for _, c := range []struct {
		file, name, version string
		kind                fileKind
	}{
		{"my_pkg-1.0-py3-none-any.whl", "my-pkg", "1.0", wheelKind},
		{"My_Pkg-2.0rc1-1-cp312-cp312-manylinux_2_17_x86_64.whl", "my-pkg", "2.0rc1", wheelKind}, // build tag
		{"pkg-1.0.WHL", "", "", unknownKind},                                                     // too few parts
		{"my-pkg-1.0.tar.gz", "my-pkg", "1.0", sdistKind},                                        // "-" in the name
		{"My.Pkg-1.0.post2.zip", "my-pkg", "1.0.post2", sdistKind},
		{"pkg-v1.0.dev3.tar.gz", "pkg", "v1.0.dev3", sdistKind},
		{"pkg-latest.tar.gz", "", "", unknownKind}, // no version
		{"pkg-1.0.tar.bz2", "", "", unknownKind},
		{"pkg-1.0.egg", "", "", unknownKind},
	} {
		name, version, kind := parseFileName(c.file)
		if name != c.name || version != c.version || kind != c.kind {
			t.Errorf("parseFileName(%q) = %q, %q, %v; want %q, %q, %v", c.file, name, version, kind, c.name, c.version, c.kind)
		}
	}
}

func TestValidateUpload(t *testing.T) {
	ok := Upload{Name: "My.Pkg", Version: "1.0", FileName: "my_pkg-1.0-py3-none-any.whl", FileType: "bdist_wheel"}
	for _, c := range []struct {
		name string
		edit func(*Upload)
		want string // "" for accepted; else part of the message twine shows
	}{
		{"wheel", func(*Upload) {}, ""},
		{"sdist", func(u *Upload) { u.FileName, u.FileType = "My.Pkg-1.0.tar.gz", "sdist" }, ""},
		{"no filetype", func(u *Upload) { u.FileType = "" }, ""},
		{"version escaped in the wheel name", func(u *Upload) { u.Version, u.FileName = "1.0-1", "my_pkg-1.0_1-py3-none-any.whl" }, ""},
		{"version case", func(u *Upload) { u.Version = "1.0RC1"; u.FileName = "my_pkg-1.0rc1-py3-none-any.whl" }, ""},
		{"no name", func(u *Upload) { u.Name = "" }, "name is missing"},
		{"bad name", func(u *Upload) { u.Name = "-x" }, "not a valid Python project name"},
		{"no version", func(u *Upload) { u.Version = "" }, "version is missing"},
		{"bad version", func(u *Upload) { u.Version = "one" }, "not a valid PEP 440 version"},
		{"no content", func(u *Upload) { u.FileName = "" }, "content is missing"},
		{"path in file name", func(u *Upload) { u.FileName = "../my_pkg-1.0-py3-none-any.whl" }, "is not valid"},
		{"long requires_python", func(u *Upload) { u.RequiresPython = strings.Repeat(">", 256) }, "requires_python is longer"},
		{"not a distribution", func(u *Upload) { u.FileName = "my_pkg-1.0.egg" }, "neither a wheel"},
		{"other project", func(u *Upload) { u.FileName = "other-1.0-py3-none-any.whl" }, "does not match the project name"},
		{"other version", func(u *Upload) { u.FileName = "my_pkg-1.1-py3-none-any.whl" }, "does not match the version"},
		{"filetype", func(u *Upload) { u.FileType = "sdist" }, `filetype "sdist" does not match`},
	} {
		in := ok
		c.edit(&in)
		err := ValidateUpload(in)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		case c.want != "" && registry.KindOf(err) != registry.KindInvalid:
			t.Errorf("%s: kind %v, want INVALID (400)", c.name, registry.KindOf(err))
		}
	}
}
