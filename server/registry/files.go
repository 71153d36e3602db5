package registry

import (
	"context"
	"errors"
	"strings"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/registry/enum"
)

// The read and publish paths every format shares: where an upload may go,
// which statuses install, and how a file is served through the upstream
// order (stored, filled from a REMOTE upstream, or streamed live).

// PublishTarget resolves the project an upload goes to: the caller may
// publish there, and it is a STANDARD project.
func (s *Service) PublishTarget(ctx context.Context, p *Principal, ref string) (*ProjectAccess, error) {
	pa, err := s.Project(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	if err := s.CanWritePackages(p, pa); err != nil {
		return nil, err
	}
	if err := RequireStandard(pa.Project); err != nil {
		return nil, err
	}
	return pa, nil
}

// RequireStandard refuses uploads to REMOTE and VIRTUAL projects.
func RequireStandard(prj *ent.Project) error {
	if prj.RepositoryMode != enum.Standard {
		return MethodNotAllowed("405 Method Not Allowed - %s repositories are read-only; publish to a STANDARD project",
			strings.ToUpper(string(prj.RepositoryMode)))
	}
	return nil
}

// Installable are the statuses whose files can be downloaded (GitLab's
// Installable scope: hidden packages download but are not listed).
var Installable = []enum.PackageStatus{enum.StatusDefault, enum.StatusHidden}

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

func DerefOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// OpenFirst serves a file from the first source that has it, in resolution
// order: cached(src) is the source's stored file or nil; a REMOTE source
// that has none fills from its upstream (remote(src)) and is looked up
// again (reread). A failing upstream does not hide files that later
// sources have; when no source serves the file, its failure (502/504) is
// the answer, not a 404. remote may fail: errUpstreamMiss when the
// upstream's metadata does not list the file, else an upstream error.
// Every format's file reads go through here.
func (s *Service) OpenFirst(ctx context.Context, sources []Source, opt ReadOptions,
	cached func(Source) *ent.PackageFile,
	reread func(context.Context, Source) (*ent.PackageFile, error),
	remote func(context.Context, Source) (RemoteFile, error),
) (*Download, error) {
	var upstreamErr error
	for _, src := range sources {
		pf := cached(src)
		if pf == nil && src.Project.RepositoryMode == enum.Remote {
			if src.Project.RemoteURL == nil {
				upstreamErr = UpstreamError(nil, "502 Bad Gateway - remote project %s has no upstream URL", src.Project.FullPath)
				continue
			}
			rf, err := remote(ctx, src)
			var live *Live
			if err == nil {
				rf.stored = func(ctx context.Context) (bool, error) {
					pf, err := reread(ctx, src)
					return pf != nil, err
				}
				live, err = s.Remote.Fill(ctx, rf, opt.Stream)
			}
			switch {
			case live != nil:
				return &Download{Live: live, Repository: src.Project, Upstream: s.UpstreamLabel(ctx, src)}, nil
			case err == nil:
				if pf, err = reread(ctx, src); err != nil {
					return nil, err
				}
			case errors.Is(err, ErrUpstreamMiss):
			default:
				upstreamErr = err
			}
		}
		if pf != nil {
			d, err := s.openFile(ctx, pf)
			if err == nil {
				d.Repository, d.Upstream = src.Project, s.UpstreamLabel(ctx, src)
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
	s.NoteDownload(pf.Edges.Pkg)
	return &Download{File: pf, Package: pf.Edges.Pkg, Object: obj}, nil
}

// RequireFormat refuses a request for one format on a project that serves
// another.
func RequireFormat(prj *ent.Project, f enum.Format) error {
	if prj.Format != nil && *prj.Format != f {
		return Invalid("%s serves %s packages, not %s", prj.FullPath, *prj.Format, f)
	}
	return nil
}
