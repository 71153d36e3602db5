package registry

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/ent/predicate"
	"github.com/pkgreg/registry/server/registry/enum"
)

// The repository engine: which projects a read looks in, and in what order.
// Every format resolves reads here, so the resolution rules (priority,
// STANDARD over REMOTE, policy id) live in one place.

// Source is one project a read looks in, with its place in the order.
type Source struct {
	Project *ent.Project
	// Priority is the upstream policy's priority (0 for a direct read).
	Priority int
	// PolicyID names the upstream policy ("" for a direct read).
	PolicyID string
	// reader is who reads through the source (for what a response may
	// say about it).
	reader *Principal
}

// sameTier reports sources that rank equally: same priority and same kind
// (STANDARD or REMOTE). Within a tier, formats with names (PyPI, npm, Go)
// merge; across tiers the first tier that has a name owns it.
func (a Source) sameTier(b Source) bool {
	return a.Priority == b.Priority && a.Project.RepositoryMode == b.Project.RepositoryMode
}

// ReadSources lists the projects a read of prj looks in, in order: the
// project itself, or for a VIRTUAL project its upstreams in resolution
// order (read on the virtual project's behalf; the caller p needs read
// access to the virtual project only). Upstreams with packages disabled are
// skipped, and so are links that do not serve p (see audience.go): every
// read, listing and name resolution goes through here, so none of them
// widens an upstream's audience.
func (s *Service) ReadSources(ctx context.Context, p *Principal, prj *ent.Project, format enum.Format) ([]Source, error) {
	if prj.RepositoryMode != enum.Virtual {
		if prj.Format != nil && *prj.Format != format {
			return nil, NotFound("404 Not found")
		}
		return []Source{{Project: prj, reader: p}}, nil
	}
	if prj.Format == nil || *prj.Format != format {
		return nil, NotFound("404 Not found")
	}
	ups, err := s.Projects.Upstreams(ctx, prj)
	if err != nil {
		return nil, err
	}
	need := reachAll
	if p.signedInPerson() {
		need = reachPersons
	}
	reach, err := s.linkReaches(ctx, prj, ups, need)
	if err != nil {
		return nil, err
	}
	out := make([]Source, 0, len(ups))
	for i, u := range ups {
		if up := u.Edges.UpstreamProject; up.PackagesEnabled && reach[i].serves(p) {
			out = append(out, Source{Project: up, Priority: u.Priority, PolicyID: u.PolicyID, reader: p})
		}
	}
	return out, nil
}

// Found is what one source answered for a name.
type Found[T any] struct {
	Source Source
	Value  T
}

// ResolveName applies the name-ownership rule of formats whose clients see
// a whole name at once (a PyPI project page, an npm packument, a Go
// module's version list): the first tier in which any source has the name
// owns it, and only that tier's answers are merged. A higher version
// published under the same name in a lower tier (a public REMOTE under a
// private STANDARD) is never seen: the dependency-confusion guard.
//
// lookup answers (value, true, nil) when the source has the name, (_,
// false, nil) when it does not, or an error when it could not tell (an
// upstream that is down). Such a source is skipped so that it does not block
// what others can serve; when no source has the name, the first such error
// is the answer (502/504), not a 404.
func ResolveName[T any](ctx context.Context, sources []Source, lookup func(ctx context.Context, src Source) (T, bool, error)) ([]Found[T], error) {
	var out []Found[T]
	var firstErr error
	for _, src := range sources {
		if len(out) > 0 && !src.sameTier(out[0].Source) {
			break
		}
		v, ok, err := lookup(ctx, src)
		switch {
		case err != nil:
			if firstErr == nil {
				firstErr = err
			}
			continue
		case ok:
			out = append(out, Found[T]{Source: src, Value: v})
		}
	}
	if len(out) == 0 {
		if firstErr != nil {
			return nil, firstErr
		}
		return nil, NotFound("404 Not found")
	}
	return out, nil
}

// NameStamp identifies the state of a name's installable files in one
// project: their count, newest id and latest update. Every change that
// shows in a format's index (an upload, a deletion, a status change, a
// deprecation or yank, which rewrite file metadata) moves it, on whichever
// instance made the change. Formats keep their rendered indexes in memory
// and check them against this one aggregate query on every read, so a
// cache saves work but never serves a stale index.
//
// db is the service's client, or a transaction's to read the state the
// transaction sees.
func (s *Service) NameStamp(ctx context.Context, db *ent.Client, projectID int, format enum.Format, name string) (string, error) {
	var rows []struct {
		Count      int            `json:"count"`
		MaxID      sql.NullInt64  `json:"max_id"`
		MaxUpdated sql.NullString `json:"max_updated"`
	}
	err := db.PackageFile.Query().Where(FilesOfPackages(pkg.ProjectID(projectID), pkg.PackageTypeEQ(format),
		pkg.Name(name), pkg.StatusIn(Installable...))).
		Aggregate(ent.Count(), ent.As(ent.Max(packagefile.FieldID), "max_id"), ent.As(ent.Max(packagefile.FieldUpdatedAt), "max_updated")).
		Scan(ctx, &rows)
	if err != nil || len(rows) != 1 {
		return "", Internal(err, "could not read the package files")
	}
	r := rows[0]
	return fmt.Sprintf("%d/%d/%s", r.Count, r.MaxID.Int64, r.MaxUpdated.String), nil
}

// StoredFiles finds, in one query, the newest installable file matching
// match (and, when set, keep) in each of the sources, by project id: a read
// through a virtual project over many upstreams costs one lookup, not one
// per upstream.
func (s *Service) StoredFiles(ctx context.Context, sources []Source, format enum.Format, match []predicate.PackageFile,
	pkgMatch []predicate.Pkg, keep func(*ent.PackageFile) bool) (map[int]*ent.PackageFile, error) {
	out := map[int]*ent.PackageFile{}
	if len(sources) == 0 {
		return out, nil
	}
	ids := make([]int, len(sources))
	for i, src := range sources {
		ids[i] = src.Project.ID
	}
	pkgMatch = append([]predicate.Pkg{pkg.ProjectIDIn(ids...), pkg.PackageTypeEQ(format), pkg.StatusIn(Installable...)}, pkgMatch...)
	files, err := s.db.PackageFile.Query().Where(append(slices.Clone(match), FilesOfPackages(pkgMatch...))...).
		WithPkg().WithBlob().Order(ent.Desc(packagefile.FieldID)).All(ctx)
	if err != nil {
		return nil, Internal(err, "could not read the package files")
	}
	for _, f := range files { // newest first
		if _, seen := out[f.Edges.Pkg.ProjectID]; !seen && (keep == nil || keep(f)) {
			out[f.Edges.Pkg.ProjectID] = f
		}
	}
	return out, nil
}

// StoredFile is storedFiles for one file of one name/version.
func (s *Service) StoredFile(ctx context.Context, sources []Source, format enum.Format, name, version, fileName string) (map[int]*ent.PackageFile, error) {
	return s.StoredFiles(ctx, sources, format, []predicate.PackageFile{packagefile.FileName(fileName)},
		[]predicate.Pkg{pkg.Name(name), pkg.Version(version)}, nil)
}
