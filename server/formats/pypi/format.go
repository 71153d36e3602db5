package pypi

import (
	"encoding/json"
	"net/url"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
	"github.com/pkgreg/registry/server/rest"
)

// Format is the PyPI format: its rules over the core and its routes.
type Format struct {
	core *registry.Service // never embedded: the format calls the core's API
	api  *rest.API         // base URLs and the shared HTTP helpers
}

// New returns the PyPI format over the core and the shared REST helpers.
func New(core *registry.Service, api *rest.API) *Format {
	return &Format{core: core, api: api}
}

// Type is the package type the format stores.
func (f *Format) Type() enum.Format { return enum.PyPI }

// DownloadPath is where pip downloads a file of pk: files/<sha256>/<file>.
// A PEP 658 core metadata file is served under its wheel's digest
// (files/<wheel sha256>/<wheel>.metadata), as the index links it.
func (f *Format) DownloadPath(pk *ent.Pkg, file *ent.PackageFile) string {
	sha := file.Sha256
	var fm fileMeta
	if json.Unmarshal(file.Metadata, &fm) == nil && fm.DistSHA256 != "" {
		sha = fm.DistSHA256
	}
	return "pypi/files/" + sha + "/" + url.PathEscape(file.FileName)
}
