package registry

import (
	"net/url"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry/enum"
)

// TEMPORARY (issue 13): the download paths of the formats that still live
// in this package; each moves to its format package.
type builtinFormat struct {
	t    enum.Format
	path func(pk *ent.Pkg, f *ent.PackageFile) string
}

func (b builtinFormat) Type() enum.Format                                   { return b.t }
func (b builtinFormat) DownloadPath(pk *ent.Pkg, f *ent.PackageFile) string { return b.path(pk, f) }

func (s *Service) registerBuiltinFormats() {
	s.RegisterFormat(builtinFormat{enum.Generic, func(pk *ent.Pkg, f *ent.PackageFile) string {
		return "generic/" + url.PathEscape(pk.Name) + "/" + url.PathEscape(pk.Version) + "/" + f.FileName
	}})
	s.RegisterFormat(builtinFormat{enum.NPM, func(pk *ent.Pkg, f *ent.PackageFile) string {
		return "npm/" + npmEscapedName(pk.Name) + "/-/" + url.PathEscape(f.FileName)
	}})
}
