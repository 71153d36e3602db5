package registry

import (
	"context"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/registry/enum"
)

// GitLab's generic package rules (Gitlab::Regex): RE2 here, so the nested
// version pattern runs in linear time.
var (
	genericNameRe     = regexp.MustCompile(`^[A-Za-z0-9._+\-]+$`)
	genericVersionRe  = regexp.MustCompile(`^(\.?[\w+\-]+\.?)+$`)
	genericFileNameRe = regexp.MustCompile(`^[A-Za-z0-9._+\-]([A-Za-z0-9._+\-~@]*[A-Za-z0-9._+\-])?$`)
)

const (
	maxGenericNameLen     = 255
	maxGenericVersionLen  = 255
	maxGenericFilePathLen = 1024
)

// ValidateGenericCoordinates checks package name, version and file path
// (directory segments allowed, each a valid file name).
func ValidateGenericCoordinates(name, version, filePath string) error {
	switch {
	case len(name) > maxGenericNameLen:
		return InvalidParam("package_name", "longer than 255 characters")
	case !genericNameRe.MatchString(name) || strings.Contains(name, ".."):
		return InvalidParam("package_name", "")
	case len(version) > maxGenericVersionLen:
		return InvalidParam("package_version", "longer than 255 characters")
	case !genericVersionRe.MatchString(version) || strings.Contains(version, ".."):
		return InvalidParam("package_version", "")
	}
	return validateGenericFilePath(filePath)
}

func validateGenericFilePath(filePath string) error {
	if filePath == "" || len(filePath) > maxGenericFilePathLen {
		return InvalidParam("file_name", "empty or longer than 1024 characters")
	}
	for _, seg := range strings.Split(filePath, "/") {
		if seg == "" || seg == "." || strings.Contains(seg, "..") || !genericFileNameRe.MatchString(seg) {
			return InvalidParam("file_name", "")
		}
	}
	return nil
}

// GenericUpload is one PUT of a generic package file.
type GenericUpload struct {
	ProjectRef string
	Name       string
	Version    string
	FilePath   string
	Status     *enum.PackageStatus
	Body       io.Reader
	Size       int64
	Expect     Expected
}

// UploadGeneric stores a generic package file, creating the package on the
// first upload.
func (s *Service) UploadGeneric(ctx context.Context, p *Principal, in GenericUpload) (*ent.PackageFile, error) {
	pa, err := s.Project(ctx, p, in.ProjectRef)
	if err != nil {
		return nil, err
	}
	if err := s.CanWritePackages(p, pa); err != nil {
		return nil, err
	}
	if err := ValidateGenericCoordinates(in.Name, in.Version, in.FilePath); err != nil {
		return nil, err
	}
	if in.Status != nil && *in.Status != enum.StatusDefault && *in.Status != enum.StatusHidden {
		return nil, InvalidParam("status", "must be default or hidden")
	}
	if err := RequireStandard(pa.Project); err != nil {
		return nil, err
	}
	allowed, err := s.DuplicatesAllowed(ctx, pa.Project, enum.Generic, in.Name, in.Version)
	if err != nil {
		return nil, err
	}
	return s.AddPackageFile(ctx, NewFile{
		Project: pa.Project, Format: enum.Generic, Name: in.Name, Version: in.Version, FileName: in.FilePath,
		Status: in.Status, Body: in.Body, Size: in.Size, Expect: in.Expect, DuplicatesAllowed: allowed,
	})
}

// OpenGeneric opens the newest file with that name in a generic package.
func (s *Service) OpenGeneric(ctx context.Context, p *Principal, ref, name, version, filePath string, opt ReadOptions) (*Download, error) {
	pa, err := s.Project(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	if err := s.CanReadPackages(p, pa); err != nil {
		return nil, err
	}
	if err := ValidateGenericCoordinates(name, version, filePath); err != nil {
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
	return s.OpenFirst(ctx, sources, opt, func(src Source) *ent.PackageFile { return cached[src.Project.ID] },
		func(ctx context.Context, src Source) (*ent.PackageFile, error) {
			filled, err := s.StoredFile(ctx, []Source{src}, enum.Generic, name, version, filePath)
			return filled[src.Project.ID], err
		},
		func(_ context.Context, src Source) (RemoteFile, error) {
			return RemoteFile{
				Project: src.Project, Format: enum.Generic, Name: name, Version: version, FileName: filePath,
				URL: strings.TrimRight(DerefOr(src.Project.RemoteURL, ""), "/") + "/" + url.PathEscape(name) + "/" +
					url.PathEscape(version) + "/" + filePath,
			}, nil
		})
}

// ListGenericVersion lists the files of one generic package version
// (newest row per file name).
func (s *Service) ListGenericVersion(ctx context.Context, p *Principal, ref, name, version string) (*ent.Pkg, []*ent.PackageFile, error) {
	pa, err := s.Project(ctx, p, ref)
	if err != nil {
		return nil, nil, err
	}
	if err := s.CanReadPackages(p, pa); err != nil {
		return nil, nil, err
	}
	if err := ValidateGenericCoordinates(name, version, "x"); err != nil {
		return nil, nil, err
	}
	pk, err := s.db.Pkg.Query().Where(pkg.ProjectID(pa.Project.ID), pkg.PackageTypeEQ(enum.Generic), pkg.Name(name),
		pkg.Version(version), pkg.StatusIn(Installable...)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil, NotFound("404 Not found")
	}
	if err != nil {
		return nil, nil, Internal(err, "could not read the package")
	}
	files, err := s.db.PackageFile.Query().Where(packagefile.PackageID(pk.ID)).Order(ent.Desc(packagefile.FieldID)).All(ctx)
	if err != nil {
		return nil, nil, Internal(err, "could not read the package files")
	}
	seen := map[string]bool{}
	var newest []*ent.PackageFile
	for _, f := range files {
		if !seen[f.FileName] {
			seen[f.FileName] = true
			newest = append(newest, f)
		}
	}
	return pk, newest, nil
}
