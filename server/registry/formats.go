package registry

import (
	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Format is what the core asks of a format package (server/formats/...).
// The core never imports a format; each format registers itself with
// RegisterFormat when the server is assembled, and everything else a
// format does it does by calling the core.
type Format interface {
	// Type is the package type the format stores.
	Type() enum.Format
	// DownloadPath is where the format's own clients download f, a file
	// of pk, relative to /api/v4/projects/<id>/packages/ ("" when the
	// format has no such route: GitLab's package_files download is used).
	DownloadPath(pk *ent.Pkg, f *ent.PackageFile) string
}

// RegisterFormat adds a format's hooks. It is called while the server is
// assembled, before any request is served.
func (s *Service) RegisterFormat(f Format) {
	if s.formats == nil {
		s.formats = map[enum.Format]Format{}
	}
	s.formats[f.Type()] = f
}
