package registry

import (
	entsql "entgo.io/ent/dialect/sql"

	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/ent/predicate"
)

// FilesOfPackages matches the files of the packages that match ps, as
// package_id IN (SELECT id FROM packages WHERE ps). ent's HasPkgWith says
// the same with a correlated EXISTS, which SQLite runs as a scan of every
// row of package_files (the (package_id, file_name) index cannot drive an
// EXISTS), so each download, upload duplicate check and index stamp cost
// time in proportion to the whole registry. The IN form finds the packages
// through their (project_id, package_type, name, version) index first and
// then their files through (package_id, file_name); PostgreSQL plans both
// forms as the same semi-join.
func FilesOfPackages(ps ...predicate.Pkg) predicate.PackageFile {
	return predicate.PackageFile(func(s *entsql.Selector) {
		b := entsql.Dialect(s.Dialect())
		t := b.Table(pkg.Table)
		sub := b.Select(t.C(pkg.FieldID)).From(t)
		sub.WithContext(s.Context())
		for _, p := range ps {
			p(sub)
		}
		s.Where(entsql.In(s.C(packagefile.FieldPackageID), sub))
	})
}
