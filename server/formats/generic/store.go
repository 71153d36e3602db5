package generic

import (
	"context"
	"io"
	"net/url"
	"strings"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// FileUpload is one PUT of a generic package file.
type FileUpload struct {
	ProjectRef string
	Name       string
	Version    string
	FilePath   string
	Status     *enum.PackageStatus
	Body       io.Reader
	Size       int64
	Expect     registry.Expected
}

// Upload stores a generic package file, creating the package on the
// first upload.
func (f *Format) Upload(ctx context.Context, p *registry.Principal, in FileUpload) (*ent.PackageFile, error) {
	s := f.core
	pa, err := s.Project(ctx, p, in.ProjectRef)
	if err != nil {
		return nil, err
	}
	if err := s.CanWritePackages(p, pa); err != nil {
		return nil, err
	}
	// Bad coordinates are refused (400) before a read-only project is
	// (405), as they were before the format had its own package: hence
	// not PublishTarget, which checks the project mode first.
	if err := ValidateCoordinates(in.Name, in.Version, in.FilePath); err != nil {
		return nil, err
	}
	if in.Status != nil && *in.Status != enum.StatusDefault && *in.Status != enum.StatusHidden {
		return nil, registry.InvalidParam("status", "must be default or hidden")
	}
	if err := registry.RequireStandard(pa.Project); err != nil {
		return nil, err
	}
	allowed, err := s.DuplicatesAllowed(ctx, pa.Project, enum.Generic, in.Name, in.Version)
	if err != nil {
		return nil, err
	}
	return s.AddPackageFile(ctx, registry.NewFile{
		Project: pa.Project, Format: enum.Generic, Name: in.Name, Version: in.Version, FileName: in.FilePath,
		Status: in.Status, Body: in.Body, Size: in.Size, Expect: in.Expect, DuplicatesAllowed: allowed,
	})
}

// Open opens the newest file with that name in a generic package, through
// the project's upstream order (a REMOTE upstream is filled from
// <remote URL>/<name>/<version>/<file path>).
func (f *Format) Open(ctx context.Context, p *registry.Principal, ref, name, version, filePath string, opt registry.ReadOptions) (*registry.Download, error) {
	s := f.core
	pa, err := s.Project(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	if err := s.CanReadPackages(p, pa); err != nil {
		return nil, err
	}
	if err := ValidateCoordinates(name, version, filePath); err != nil {
		return nil, err
	}
	sources, err := s.ReadSources(ctx, p, pa.Project, enum.Generic)
	if err != nil {
		return nil, err
	}
	cached, err := s.StoredFile(ctx, sources, enum.Generic, name, version, filePath)
	if err != nil {
		return nil, err
	}
	return s.OpenFirst(ctx, sources, opt, func(src registry.Source) *ent.PackageFile { return cached[src.Project.ID] },
		func(ctx context.Context, src registry.Source) (*ent.PackageFile, error) {
			filled, err := s.StoredFile(ctx, []registry.Source{src}, enum.Generic, name, version, filePath)
			return filled[src.Project.ID], err
		},
		func(_ context.Context, src registry.Source) (registry.RemoteFile, error) {
			return registry.RemoteFile{
				Project: src.Project, Format: enum.Generic, Name: name, Version: version, FileName: filePath,
				URL: strings.TrimRight(registry.DerefOr(src.Project.RemoteURL, ""), "/") + "/" + url.PathEscape(name) + "/" +
					url.PathEscape(version) + "/" + filePath,
			}, nil
		})
}

// ListVersion lists the files of one generic package version (newest row
// per file name).
func (f *Format) ListVersion(ctx context.Context, p *registry.Principal, ref, name, version string) (*ent.Pkg, []*ent.PackageFile, error) {
	s := f.core
	pa, err := s.Project(ctx, p, ref)
	if err != nil {
		return nil, nil, err
	}
	if err := s.CanReadPackages(p, pa); err != nil {
		return nil, nil, err
	}
	if err := ValidateCoordinates(name, version, "x"); err != nil {
		return nil, nil, err
	}
	pk, err := s.DB().Pkg.Query().Where(pkg.ProjectID(pa.Project.ID), pkg.PackageTypeEQ(enum.Generic), pkg.Name(name),
		pkg.Version(version), pkg.StatusIn(registry.Installable...)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil, registry.NotFound("404 Not found")
	}
	if err != nil {
		return nil, nil, registry.Internal(err, "could not read the package")
	}
	files, err := s.DB().PackageFile.Query().Where(packagefile.PackageID(pk.ID)).Order(ent.Desc(packagefile.FieldID)).All(ctx)
	if err != nil {
		return nil, nil, registry.Internal(err, "could not read the package files")
	}
	seen := map[string]bool{}
	var newest []*ent.PackageFile
	for _, pf := range files {
		if !seen[pf.FileName] {
			seen[pf.FileName] = true
			newest = append(newest, pf)
		}
	}
	return pk, newest, nil
}
