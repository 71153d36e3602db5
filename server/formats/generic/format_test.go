package generic

import (
	"testing"

	"github.com/pkgreg/registry/ent"
)

func TestDownloadPath(t *testing.T) {
	// Relative to /api/v4/projects/<id>/packages/: the generic download
	// route, the file path's directories kept as they are.
	f := New(nil, nil)
	for _, c := range []struct{ name, version, file, want string }{
		{"tool", "1.0.0", "tool.tar.gz", "generic/tool/1.0.0/tool.tar.gz"},
		{"tool", "1.0.0+build", "linux/amd64/tool", "generic/tool/1.0.0+build/linux/amd64/tool"},
	} {
		got := f.DownloadPath(&ent.Pkg{Name: c.name, Version: c.version}, &ent.PackageFile{FileName: c.file})
		if got != c.want {
			t.Errorf("%s %s %s: %q, want %q", c.name, c.version, c.file, got, c.want)
		}
	}
}
