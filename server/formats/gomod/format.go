package gomod

import (
	"path"

	"golang.org/x/mod/module"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
	"github.com/pkgreg/registry/server/rest"
)

// Format is the Go modules (GOPROXY protocol) format: its rules over the
// core and its routes.
type Format struct {
	core *registry.Service // never embedded: the format calls the core's API
	api  *rest.API         // base URLs and the shared HTTP helpers
}

// New is the Go modules format over core, served through api.
func New(core *registry.Service, api *rest.API) *Format {
	return &Format{core: core, api: api}
}

// Type is the package type the format stores.
func (f *Format) Type() enum.Format { return enum.Golang }

// DownloadPath is where the go command downloads a stored file of a
// module version: go/<escaped module>/@v/<escaped version><ext>, which
// serves the zip (and, in a REMOTE project, the cached .info and .mod).
func (f *Format) DownloadPath(pk *ent.Pkg, file *ent.PackageFile) string {
	return downloadPath(pk.Name, pk.Version, file.FileName)
}

func downloadPath(modPath, version, fileName string) string {
	if escPath, err := module.EscapePath(modPath); err == nil {
		if escVersion, err := module.EscapeVersion(version); err == nil {
			return "go/" + escPath + "/@v/" + escVersion + path.Ext(fileName)
		}
	}
	return ""
}
