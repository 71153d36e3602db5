package pypi

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
)

func TestMetadataField(t *testing.T) {
	for _, c := range []struct{ name, data, want string }{
		{"plain", "Metadata-Version: 2.1\nName: x\nRequires-Python: >=3.9\n\nbody", ">=3.9"},
		{"case and spaces", "Name: x\nrequires-python:   >=3.8, <4  \n", ">=3.8, <4"},
		{"CRLF", "Name: x\r\nRequires-Python: >=3.7\r\n\r\n", ">=3.7"},
		{"continued", "Requires-Python: >=3.8,\n  <4\nName: x\n", ">=3.8, <4"},
		{"absent", "Name: x\nVersion: 1\n\nRequires-Python: >=3.9 in the description\n", ""},
		{"empty", "", ""},
	} {
		if got := metadataField([]byte(c.data), "Requires-Python"); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// archive builds a zip (or, with tgz, a .tar.gz) of name/content pairs.
func archive(t *testing.T, tgz bool, entries ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if tgz {
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		for i := 0; i < len(entries); i += 2 {
			_ = tw.WriteHeader(&tar.Header{Name: entries[i], Mode: 0o644, Size: int64(len(entries[i+1])), Typeflag: tar.TypeReg})
			_, _ = tw.Write([]byte(entries[i+1]))
		}
		_ = tw.Close()
		_ = gz.Close()
		return buf.Bytes()
	}
	zw := zip.NewWriter(&buf)
	for i := 0; i < len(entries); i += 2 {
		w, _ := zw.Create(entries[i])
		_, _ = w.Write([]byte(entries[i+1]))
	}
	_ = zw.Close()
	return buf.Bytes()
}

// seekOnly hides bytes.Reader's ReadAt, as a store's object may.
type seekOnly struct{ r *bytes.Reader }

func (s seekOnly) Read(p []byte) (int, error)                { return s.r.Read(p) }
func (s seekOnly) Seek(off int64, whence int) (int64, error) { return s.r.Seek(off, whence) }

func TestReadDistMetadata(t *testing.T) {
	meta := "Metadata-Version: 2.1\nName: my-pkg\nRequires-Python: >=3.9\n"
	big := strings.Repeat("x", maxCoreMetadata+1)
	for _, c := range []struct {
		name string
		kind fileKind
		data []byte
		want string // the metadata read, or "error: <part of the message>"
	}{
		{"wheel", wheelKind, archive(t, false, "my_pkg/__init__.py", "", "my_pkg-1.0.dist-info/METADATA", meta), meta},
		{"wheel, METADATA elsewhere only", wheelKind, archive(t, false, "my_pkg/METADATA", meta, "x.dist-info/sub/METADATA", meta), "error: no core metadata"},
		{"sdist .tar.gz", sdistKind, archive(t, true, "my_pkg-1.0/setup.py", "", "my_pkg-1.0/PKG-INFO", meta), meta},
		{"sdist .tar.gz with ./", sdistKind, archive(t, true, "./my_pkg-1.0/PKG-INFO", meta), meta},
		{"sdist .zip", sdistKind, archive(t, false, "my_pkg-1.0/PKG-INFO", meta), meta},
		{"sdist without PKG-INFO", sdistKind, archive(t, true, "PKG-INFO", meta, "my_pkg-1.0/a/PKG-INFO", meta), "error: no PKG-INFO"},
		{"not a zip", wheelKind, []byte("not a zip at all"), "error: not a valid zip"},
		{"metadata too large", wheelKind, archive(t, false, "x.dist-info/METADATA", big), "error: larger than"},
	} {
		for _, hideReadAt := range []bool{false, true} {
			var r io.ReadSeeker = bytes.NewReader(c.data)
			if hideReadAt {
				r = seekOnly{bytes.NewReader(c.data)}
			}
			got, err := readDistMetadata(r, int64(len(c.data)), c.kind)
			if want, ok := strings.CutPrefix(c.want, "error: "); ok {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%s (seek only %v): got %v, want an error containing %q", c.name, hideReadAt, err, want)
				}
				continue
			}
			if err != nil || string(got) != c.want {
				t.Errorf("%s (seek only %v): got %q, %v", c.name, hideReadAt, got, err)
			}
		}
	}
}
