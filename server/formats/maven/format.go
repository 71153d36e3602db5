package maven

import (
	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
	"github.com/pkgreg/registry/server/rest"
)

// Format is the Maven format: its rules over the core and its routes.
type Format struct {
	core *registry.Service // never embedded: the format calls the core's API
	api  *rest.API         // base URLs and the shared HTTP helpers
}

// New returns the Maven format over core, serving through api's helpers.
func New(core *registry.Service, api *rest.API) *Format {
	return &Format{core: core, api: api}
}

// Type is enum.Maven.
func (f *Format) Type() enum.Format { return enum.Maven }

// DownloadPath is the file's Maven repository path, relative to
// /api/v4/projects/<id>/packages/: the package name is GitLab's (the
// groupId's path and the artifactId), then the version directory and the
// file name. Names, versions and file names only hold characters that need
// no escaping in a path (path.go).
func (f *Format) DownloadPath(pk *ent.Pkg, file *ent.PackageFile) string {
	return "maven/" + pk.Name + "/" + pk.Version + "/" + file.FileName
}
