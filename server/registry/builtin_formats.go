package registry

import (
	"encoding/json"
	"net/url"
	"path"

	"golang.org/x/mod/module"

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
	s.RegisterFormat(builtinFormat{enum.PyPI, func(pk *ent.Pkg, f *ent.PackageFile) string {
		// A PEP 658 core metadata file is served under its wheel's digest
		// (files/<wheel sha256>/<wheel>.metadata), as the index links it.
		sha := f.Sha256
		var fm pypiFileMeta
		if json.Unmarshal(f.Metadata, &fm) == nil && fm.DistSHA256 != "" {
			sha = fm.DistSHA256
		}
		return "pypi/files/" + sha + "/" + url.PathEscape(f.FileName)
	}})
	s.RegisterFormat(builtinFormat{enum.Golang, func(pk *ent.Pkg, f *ent.PackageFile) string {
		if escPath, err := module.EscapePath(pk.Name); err == nil {
			if escVersion, err := module.EscapeVersion(pk.Version); err == nil {
				return "go/" + escPath + "/@v/" + escVersion + path.Ext(f.FileName)
			}
		}
		return ""
	}})
}
