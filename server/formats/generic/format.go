package generic

import (
	"net/url"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
	"github.com/pkgreg/registry/server/rest"
)

// Format is the generic format: its rules over the core and its routes.
type Format struct {
	core *registry.Service // never embedded: the format calls the core's API
	api  *rest.API         // base URLs and the shared HTTP helpers
}

// New returns the generic format over core, serving through api's helpers.
func New(core *registry.Service, api *rest.API) *Format {
	return &Format{core: core, api: api}
}

// Type is enum.Generic.
func (f *Format) Type() enum.Format { return enum.Generic }

// DownloadPath is the file's generic download route, relative to
// /api/v4/projects/<id>/packages/ (the file path keeps its directories).
func (f *Format) DownloadPath(pk *ent.Pkg, file *ent.PackageFile) string {
	return "generic/" + url.PathEscape(pk.Name) + "/" + url.PathEscape(pk.Version) + "/" + file.FileName
}

// Generic package routes, GitLab's layout.
const route = "/api/v4/projects/{id}/packages/generic/{name}/{version}/{file...}"

// versionRoute is a version without the trailing slash of its file
// listing (route with no file).
const versionRoute = "/api/v4/projects/{id}/packages/generic/{name}/{version}"

// Routes adds the generic routes.
func (f *Format) Routes(handle rest.HandleFunc) {
	handle("PUT "+route, f.upload)
	handle("GET "+route, f.download)
	handle("HEAD "+route, f.download)
	for _, m := range []string{"GET ", "HEAD ", "PUT "} { // route's methods
		handle(m+versionRoute, rest.AddTrailingSlash)
	}
}
