package registry

import (
	"context"
	"fmt"
	"sort"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/registry/enum"
)

const (
	maxDestroyPackages     = 20
	maxDestroyPackageFiles = 100
)

// PackageByID returns a package (with its project) if p may read it.
func (pks *Packages) PackageByID(ctx context.Context, p *Principal, id int) (*ent.Pkg, *ProjectAccess, error) {
	pk, err := pks.s.db.Pkg.Query().Where(pkg.ID(id)).WithProject().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil, NotFound("package not found")
	}
	if err != nil {
		return nil, nil, Internal(err, "could not read the package")
	}
	pa, err := pks.s.projectAccess(ctx, p, pk.Edges.Project)
	if err != nil {
		return nil, nil, NotFound("package not found")
	}
	if err := pks.s.CanReadPackages(p, pa); err != nil {
		if KindOf(err) == KindNotFound {
			return nil, nil, NotFound("package not found")
		}
		return nil, nil, err
	}
	return pk, pa, nil
}

// ProjectOfPackage returns a package's project (eager-loaded by listings)
// if p may see it, else nil: a package listed through a virtual project
// must not name an upstream the caller cannot see.
func (pks *Packages) ProjectOfPackage(ctx context.Context, p *Principal, pk *ent.Pkg) (*ent.Project, error) {
	prj := pk.Edges.Project
	if prj == nil {
		var err error
		if prj, err = pks.s.db.Project.Get(ctx, pk.ProjectID); err != nil {
			return nil, DBError(err, "")
		}
	}
	if _, err := pks.s.projectAccess(ctx, p, prj); err != nil {
		if KindOf(err) == KindNotFound {
			return nil, nil
		}
		return nil, err
	}
	return prj, nil
}

// WithFiles loads the files of a page of packages in one query, so that a
// listing that shows files costs the same number of queries at any size.
func (pks *Packages) WithFiles(ctx context.Context, pkgs []*ent.Pkg) error {
	if len(pkgs) == 0 {
		return nil
	}
	ids := make([]int, len(pkgs))
	byID := make(map[int]*ent.Pkg, len(pkgs))
	for i, p := range pkgs {
		ids[i], byID[p.ID] = p.ID, p
		p.Edges.Files = []*ent.PackageFile{}
	}
	files, err := pks.s.db.PackageFile.Query().Where(packagefile.PackageIDIn(ids...)).Order(ent.Asc(packagefile.FieldID)).All(ctx)
	if err != nil {
		return Internal(err, "could not read package files")
	}
	for _, f := range files {
		p := byID[f.PackageID]
		f.Edges.Pkg = p
		p.Edges.Files = append(p.Edges.Files, f)
	}
	return nil
}

// FilesPage pages through a package's files: in memory when WithFiles
// loaded them, else with a keyset query.
func (pks *Packages) FilesPage(ctx context.Context, pk *ent.Pkg, args PageArgs) (*Page[*ent.PackageFile], error) {
	if pk.Edges.Files == nil {
		page, err := pks.PackageFilesPage(ctx, pk, args)
		if err == nil {
			for _, f := range page.Items {
				f.Edges.Pkg = pk
			}
		}
		return page, err
	}
	files := pk.Edges.Files
	return Paginate(args, func(f *ent.PackageFile) int { return f.ID }, func(after, before int, desc bool, limit int) ([]*ent.PackageFile, error) {
		var out []*ent.PackageFile
		for _, f := range files {
			if (after == 0 || f.ID > after) && (before == 0 || f.ID < before) {
				out = append(out, f)
			}
		}
		if desc {
			sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
		}
		if len(out) > limit {
			out = out[:limit]
		}
		return out, nil
	})
}

// DownloadPath is where a file can be downloaded, relative to the base URL.
// listedIn is the project whose listing shows the file (nil: its own): a
// file listed through a VIRTUAL project is downloaded through it, since
// its readers need not have access to the upstream that holds the file
// (the listing shows each name/version from the upstream a download
// through the virtual project serves).
func (pks *Packages) DownloadPath(ctx context.Context, f *ent.PackageFile, listedIn *ent.Project) (string, error) {
	pk := f.Edges.Pkg
	if pk == nil {
		var err error
		if pk, err = pks.s.db.Pkg.Get(ctx, f.PackageID); err != nil {
			return "", DBError(err, "")
		}
	}
	projectID := pk.ProjectID
	if listedIn != nil && listedIn.RepositoryMode == enum.Virtual {
		projectID = listedIn.ID
	}
	return pks.fileDownloadPath(projectID, pk, f), nil
}

// fileDownloadPath is the URL path that serves a stored file: its
// format's own download route, which the format's clients use too.
func (pks *Packages) fileDownloadPath(projectID int, pk *ent.Pkg, f *ent.PackageFile) string {
	base := fmt.Sprintf("/api/v4/projects/%d/packages/", projectID)
	if fm, ok := pks.s.formats[pk.PackageType]; ok {
		if p := fm.DownloadPath(pk, f); p != "" {
			return base + p
		}
	}
	// GitLab's UI route, for formats without a download route here yet.
	return fmt.Sprintf("%s%d/package_files/%d/download", base, pk.ID, f.ID)
}

// DestroyPackages deletes up to 20 packages; the caller must be allowed to
// delete packages in each one's project, or nothing is deleted.
func (pks *Packages) DestroyPackages(ctx context.Context, p *Principal, ids []int) error {
	if len(ids) == 0 || len(ids) > maxDestroyPackages {
		return Invalid("ids must name between 1 and %d packages", maxDestroyPackages)
	}
	pkgs, err := pks.s.db.Pkg.Query().Where(pkg.IDIn(ids...)).WithProject().All(ctx)
	if err != nil {
		return Internal(err, "could not read packages")
	}
	if len(pkgs) != len(uniqueInts(ids)) {
		return NotFound("package not found")
	}
	checked := map[int]bool{}
	for _, pk := range pkgs {
		if checked[pk.ProjectID] {
			continue
		}
		pa, err := pks.s.projectAccess(ctx, p, pk.Edges.Project)
		if err != nil {
			return NotFound("package not found")
		}
		if err := pks.s.CanDeletePackages(p, pa); err != nil {
			return err
		}
		checked[pk.ProjectID] = true
	}
	return pks.deletePackages(ctx, ids)
}

// DestroyPackageFiles deletes up to 100 files, all of one project.
func (pks *Packages) DestroyPackageFiles(ctx context.Context, p *Principal, projectPath string, ids []int) error {
	if len(ids) == 0 || len(ids) > maxDestroyPackageFiles {
		return Invalid("ids must name between 1 and %d package files", maxDestroyPackageFiles)
	}
	pa, err := pks.s.Project(ctx, p, projectPath)
	if err != nil {
		return err
	}
	if err := pks.s.CanDeletePackages(p, pa); err != nil {
		return err
	}
	n, err := pks.s.db.PackageFile.Query().Where(packagefile.IDIn(ids...), FilesOfPackages(pkg.ProjectID(pa.Project.ID))).Count(ctx)
	if err != nil {
		return Internal(err, "could not read package files")
	}
	if n != len(uniqueInts(ids)) {
		return Invalid("all package files must belong to project %s", pa.Project.FullPath)
	}
	return pks.deleteFiles(ctx, ids)
}

// DestroyPackageFile deletes one file by id.
func (pks *Packages) DestroyPackageFile(ctx context.Context, p *Principal, id int) error {
	f, err := pks.s.db.PackageFile.Query().Where(packagefile.ID(id)).WithPkg(func(q *ent.PkgQuery) { q.WithProject() }).Only(ctx)
	if ent.IsNotFound(err) {
		return NotFound("package file not found")
	}
	if err != nil {
		return Internal(err, "could not read the package file")
	}
	pa, err := pks.s.projectAccess(ctx, p, f.Edges.Pkg.Edges.Project)
	if err != nil {
		return NotFound("package file not found")
	}
	if err := pks.s.CanDeletePackages(p, pa); err != nil {
		return err
	}
	return pks.deleteFiles(ctx, []int{id})
}

func uniqueInts(v []int) map[int]bool {
	m := make(map[int]bool, len(v))
	for _, x := range v {
		m[x] = true
	}
	return m
}
