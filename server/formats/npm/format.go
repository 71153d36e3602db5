package npm

import (
	"net/url"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
	"github.com/pkgreg/registry/server/rest"
)

// Format is the npm format: its rules over the core and its routes.
type Format struct {
	core *registry.Service // never embedded: the format calls the core's API
	api  *rest.API         // base URLs and the shared HTTP helpers
}

// New is the npm format over core, serving its routes with api's helpers.
func New(core *registry.Service, api *rest.API) *Format {
	return &Format{core: core, api: api}
}

// Type is the package type npm packages are stored under.
func (f *Format) Type() enum.Format { return enum.NPM }

// DownloadPath is where npm downloads a tarball of pk: the name with its
// scope's slash escaped, as npm writes it.
func (f *Format) DownloadPath(pk *ent.Pkg, file *ent.PackageFile) string {
	return "npm/" + escapedName(pk.Name) + "/-/" + url.PathEscape(file.FileName)
}
