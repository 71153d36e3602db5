package registry

import (
	"context"
	"errors"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/blob"
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

// ParamError is a request parameter that failed validation; REST renders it
// as Grape does: 400 {"error": "<param> is invalid"}.
type ParamError struct{ Param, Reason string }

func (e *ParamError) Error() string {
	if e.Reason != "" {
		return e.Param + " is invalid: " + e.Reason
	}
	return e.Param + " is invalid"
}

func paramErr(param, reason string) error {
	return &Error{Kind: KindInvalid, Message: (&ParamError{param, reason}).Error(), Cause: &ParamError{param, reason}}
}

// ValidateGenericCoordinates checks package name, version and file path
// (directory segments allowed, each a valid file name).
func ValidateGenericCoordinates(name, version, filePath string) error {
	switch {
	case len(name) > maxGenericNameLen:
		return paramErr("package_name", "longer than 255 characters")
	case !genericNameRe.MatchString(name) || strings.Contains(name, ".."):
		return paramErr("package_name", "")
	case len(version) > maxGenericVersionLen:
		return paramErr("package_version", "longer than 255 characters")
	case !genericVersionRe.MatchString(version) || strings.Contains(version, ".."):
		return paramErr("package_version", "")
	}
	return validateGenericFilePath(filePath)
}

func validateGenericFilePath(filePath string) error {
	if filePath == "" || len(filePath) > maxGenericFilePathLen {
		return paramErr("file_name", "empty or longer than 1024 characters")
	}
	for _, seg := range strings.Split(filePath, "/") {
		if seg == "" || seg == "." || strings.Contains(seg, "..") || !genericFileNameRe.MatchString(seg) {
			return paramErr("file_name", "")
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
		return nil, paramErr("status", "must be default or hidden")
	}
	if err := requireStandard(pa.Project); err != nil {
		return nil, err
	}
	allowed, err := s.duplicatesAllowed(ctx, pa.Project, enum.Generic, in.Name, in.Version)
	if err != nil {
		return nil, err
	}
	return s.addPackageFile(ctx, newFile{
		Project: pa.Project, Format: enum.Generic, Name: in.Name, Version: in.Version, FileName: in.FilePath,
		Status: in.Status, Body: in.Body, Size: in.Size, Expect: in.Expect, DuplicatesAllowed: allowed,
	})
}

// publishTarget resolves the project an upload goes to: the caller may
// publish there, and it is a STANDARD project.
func (s *Service) publishTarget(ctx context.Context, p *Principal, ref string) (*ProjectAccess, error) {
	pa, err := s.Project(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	if err := s.CanWritePackages(p, pa); err != nil {
		return nil, err
	}
	if err := requireStandard(pa.Project); err != nil {
		return nil, err
	}
	return pa, nil
}

// requireStandard refuses uploads to REMOTE and VIRTUAL projects.
func requireStandard(prj *ent.Project) error {
	if prj.RepositoryMode != enum.Standard {
		return MethodNotAllowed("405 Method Not Allowed - %s repositories are read-only; publish to a STANDARD project",
			strings.ToUpper(string(prj.RepositoryMode)))
	}
	return nil
}

// installable are the statuses whose files can be downloaded (GitLab's
// installable scope: hidden packages download but are not listed).
var installable = []enum.PackageStatus{enum.StatusDefault, enum.StatusHidden}

// Download is an open package file, or (Live set, File and Object nil) a
// cold-miss file streaming from a REMOTE upstream.
type Download struct {
	File    *ent.PackageFile
	Package *ent.Pkg
	Object  blob.Object
	Live    *Live
	// Repository is the project that served the file (an upstream, for
	// reads through a virtual project).
	Repository *ent.Project
	// Upstream names it as the caller may see it (X-Registry-Upstream): its
	// path, or the upstream policy's id when the caller could not read the
	// upstream directly.
	Upstream string
}

// Close releases the object or the live stream.
func (d *Download) Close() error {
	if d.Live != nil {
		return d.Live.Close()
	}
	return d.Object.Close()
}

// ReadOptions tune a file read.
type ReadOptions struct {
	// Stream lets a cold miss on a REMOTE project stream to this caller
	// while it is stored (a plain GET; not HEAD or a Range request, which
	// need the stored file).
	Stream bool
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
	sources, err := s.readSources(ctx, p, pa.Project, enum.Generic)
	if err != nil {
		return nil, err
	}
	cached, err := s.storedFile(ctx, sources, enum.Generic, name, version, filePath)
	if err != nil {
		return nil, err
	}
	return s.openFirst(ctx, sources, opt, func(src Source) *ent.PackageFile { return cached[src.Project.ID] },
		func(ctx context.Context, src Source) (*ent.PackageFile, error) {
			filled, err := s.storedFile(ctx, []Source{src}, enum.Generic, name, version, filePath)
			return filled[src.Project.ID], err
		},
		func(_ context.Context, src Source) (remoteFile, error) {
			return remoteFile{
				Project: src.Project, Format: enum.Generic, Name: name, Version: version, FileName: filePath,
				URL: strings.TrimRight(derefOr(src.Project.RemoteURL, ""), "/") + "/" + url.PathEscape(name) + "/" +
					url.PathEscape(version) + "/" + filePath,
			}, nil
		})
}

func derefOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// openFirst serves a file from the first source that has it, in resolution
// order: cached(src) is the source's stored file or nil; a REMOTE source
// that has none fills from its upstream (remote(src)) and is looked up
// again (reread). A failing upstream does not hide files that later
// sources have; when no source serves the file, its failure (502/504) is
// the answer, not a 404. remote may fail: errUpstreamMiss when the
// upstream's metadata does not list the file, else an upstream error.
// Every format's file reads go through here.
func (s *Service) openFirst(ctx context.Context, sources []Source, opt ReadOptions,
	cached func(Source) *ent.PackageFile,
	reread func(context.Context, Source) (*ent.PackageFile, error),
	remote func(context.Context, Source) (remoteFile, error),
) (*Download, error) {
	var upstreamErr error
	for _, src := range sources {
		pf := cached(src)
		if pf == nil && src.Project.RepositoryMode == enum.Remote {
			if src.Project.RemoteURL == nil {
				upstreamErr = upstreamError(nil, "502 Bad Gateway - remote project %s has no upstream URL", src.Project.FullPath)
				continue
			}
			rf, err := remote(ctx, src)
			var live *Live
			if err == nil {
				rf.stored = func(ctx context.Context) (bool, error) {
					pf, err := reread(ctx, src)
					return pf != nil, err
				}
				live, err = s.fillRemote(ctx, rf, opt.Stream)
			}
			switch {
			case live != nil:
				return &Download{Live: live, Repository: src.Project, Upstream: s.upstreamLabel(ctx, src)}, nil
			case err == nil:
				if pf, err = reread(ctx, src); err != nil {
					return nil, err
				}
			case errors.Is(err, errUpstreamMiss):
			default:
				upstreamErr = err
			}
		}
		if pf != nil {
			d, err := s.openFile(ctx, pf)
			if err == nil {
				d.Repository, d.Upstream = src.Project, s.upstreamLabel(ctx, src)
			}
			return d, err
		}
	}
	if upstreamErr != nil {
		return nil, upstreamErr
	}
	return nil, NotFound("404 Not found")
}

// openFile opens a file's object and notes the download.
func (s *Service) openFile(ctx context.Context, pf *ent.PackageFile) (*Download, error) {
	obj, err := s.blobs.Open(ctx, pf.Edges.Blob.StorageKey)
	if err != nil {
		// A row without its object is data loss, never the client's fault.
		return nil, Unavailable(err, "the file's content is not available")
	}
	s.noteDownload(pf.Edges.Pkg)
	return &Download{File: pf, Package: pf.Edges.Pkg, Object: obj}, nil
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
		pkg.Version(version), pkg.StatusIn(installable...)).Only(ctx)
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
