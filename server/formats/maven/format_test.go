package maven

import (
	"testing"

	"github.com/pkgreg/registry/ent"
)

func TestDownloadPath(t *testing.T) {
	f := New(nil, nil)
	got := f.DownloadPath(&ent.Pkg{Name: "com/example/my-app", Version: "1.0-SNAPSHOT"},
		&ent.PackageFile{FileName: "my-app-1.0-20261201.120000-3-sources.jar"})
	if want := "maven/com/example/my-app/1.0-SNAPSHOT/my-app-1.0-20261201.120000-3-sources.jar"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}
