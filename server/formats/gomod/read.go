package gomod

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// moduleRead is one module read in one project: where to look, and the
// module path decoded and re-encoded (upstream URLs use the encoding).
type moduleRead struct {
	sources []registry.Source
	virtual bool
	modPath string
	escPath string
}

func (f *Format) moduleRead(ctx context.Context, p *registry.Principal, ref, escPath string) (*moduleRead, error) {
	pa, err := f.core.Project(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	if err := f.core.CanReadPackages(p, pa); err != nil {
		return nil, err
	}
	modPath, err := parseModulePath(escPath)
	if err != nil {
		return nil, notFound(err)
	}
	esc, err := module.EscapePath(modPath)
	if err != nil {
		return nil, registry.NotFound("invalid module path: %v", err)
	}
	sources, err := f.core.ReadSources(ctx, p, pa.Project, enum.Golang)
	if err != nil {
		return nil, err
	}
	return &moduleRead{sources: sources, virtual: pa.Project.RepositoryMode == enum.Virtual, modPath: modPath, escPath: esc}, nil
}

// versions is what one source knows of a module.
type versions struct {
	// listed are the versions @v/list shows: for a STANDARD project its
	// published, not hidden, non-pseudo versions; for a REMOTE project the
	// upstream's list.
	listed []string
	// published are a STANDARD project's installable versions.
	published []*ent.Pkg
}

// lookup answers whether src has the module (registry.ResolveName's
// lookup): a STANDARD project when any version is installable, a REMOTE
// project when its upstream has a version list (cached with the project's
// TTL).
func (f *Format) lookup(ctx context.Context, src registry.Source, m *moduleRead) (versions, bool, error) {
	if src.Project.RepositoryMode == enum.Remote {
		body, err := f.remoteDocument(ctx, src.Project, m.escPath+"/@v/list")
		if errors.Is(err, registry.ErrUpstreamMiss) {
			return versions{}, false, nil
		}
		if err != nil {
			return versions{}, false, err
		}
		return versions{listed: parseList(body)}, true, nil
	}
	pkgs, err := f.core.DB().Pkg.Query().Where(pkg.ProjectID(src.Project.ID), pkg.PackageTypeEQ(enum.Golang), pkg.Name(m.modPath),
		// Not created_at: parsing 300 timestamps doubled a 300-version
		// list's latency on SQLite; @latest reads the one it needs.
		pkg.StatusIn(registry.Installable...)).Select(pkg.FieldVersion, pkg.FieldStatus).All(ctx)
	if err != nil {
		return versions{}, false, registry.Internal(err, "could not read the module's versions")
	}
	var listed []string
	for _, p := range pkgs {
		if p.Status == enum.StatusDefault && !module.IsPseudoVersion(p.Version) {
			listed = append(listed, p.Version)
		}
	}
	return versions{listed: listed, published: pkgs}, len(pkgs) > 0, nil
}

// remoteDocument fetches a mutable protocol document (a version list, or
// @latest) of a REMOTE project, cached with the project's TTL, and
// returns its body.
func (f *Format) remoteDocument(ctx context.Context, prj *ent.Project, rel string) ([]byte, error) {
	if prj.RemoteURL == nil {
		return nil, registry.UpstreamError(nil, "502 Bad Gateway - remote project %s has no upstream URL", prj.FullPath)
	}
	doc, err := f.core.Remote.Document(ctx, prj, "go/"+rel, strings.TrimRight(*prj.RemoteURL, "/")+"/"+rel, "")
	if err != nil {
		return nil, err
	}
	return f.core.Remote.DocumentBody(ctx, doc)
}

// owners are the sources of the tier that owns the module
// (registry.ResolveName): a private module published in a higher tier
// hides every version of the same path in lower tiers, so a public
// upstream cannot win with a higher version (dependency confusion).
func (f *Format) owners(ctx context.Context, m *moduleRead) ([]registry.Found[versions], error) {
	return registry.ResolveName(ctx, m.sources, func(ctx context.Context, src registry.Source) (versions, bool, error) {
		return f.lookup(ctx, src, m)
	})
}

// tier are the sources a version's files are read from. A direct read
// looks in the project itself; a virtual read only in the owning tier, so
// that a version that exists only in a lower tier is not served either.
func (f *Format) tier(ctx context.Context, m *moduleRead) ([]registry.Source, error) {
	if !m.virtual {
		return m.sources, nil
	}
	owners, err := f.owners(ctx, m)
	if k := registry.KindOf(err); k == registry.KindBadGateway || k == registry.KindGatewayTimeout {
		// No STANDARD source has the module and the upstreams that might
		// cannot say (and have no fresh or servable stale list). A version
		// they cached is immutable, so it is still served.
		return f.cachedIn(ctx, m)
	}
	if err != nil {
		return nil, err
	}
	tier := make([]registry.Source, len(owners))
	for i, o := range owners {
		tier[i] = o.Source
	}
	return tier, nil
}

// cachedIn are the REMOTE sources that cached any version of the module,
// in resolution order; a 502 when none did.
func (f *Format) cachedIn(ctx context.Context, m *moduleRead) ([]registry.Source, error) {
	var out []registry.Source
	for _, src := range m.sources {
		if src.Project.RepositoryMode != enum.Remote {
			continue
		}
		ok, err := f.core.DB().Pkg.Query().Where(pkg.ProjectID(src.Project.ID), pkg.PackageTypeEQ(enum.Golang), pkg.Name(m.modPath)).Exist(ctx)
		if err != nil {
			return nil, registry.Internal(err, "could not read the module cache")
		}
		if ok {
			out = append(out, src)
		}
	}
	if len(out) == 0 {
		return nil, registry.UpstreamError(nil, "502 Bad Gateway - the upstream registries that may have %s did not answer", m.modPath)
	}
	return out, nil
}

// VersionList answers @v/list: the module's versions in semver order.
func (f *Format) VersionList(ctx context.Context, p *registry.Principal, ref, escPath string) ([]string, error) {
	m, err := f.moduleRead(ctx, p, ref, escPath)
	if err != nil {
		return nil, err
	}
	owners, err := f.owners(ctx, m)
	if err != nil {
		return nil, err
	}
	lists := make([][]string, len(owners))
	for i, o := range owners {
		lists[i] = o.Value.listed
	}
	return mergeLists(lists...), nil
}

// Latest answers @latest: the .info of the version the go command would
// pick as latest (the highest release, else the highest pre-release, else
// the highest pseudo-version), over the owning tier.
func (f *Format) Latest(ctx context.Context, p *registry.Principal, ref, escPath string) (*Info, error) {
	m, err := f.moduleRead(ctx, p, ref, escPath)
	if err != nil {
		return nil, err
	}
	owners, err := f.owners(ctx, m)
	if err != nil {
		return nil, err
	}
	var best *Info
	var upstreamErr error
	for _, o := range owners {
		info, err := f.latestIn(ctx, o, m)
		switch {
		case err != nil:
			upstreamErr = err
		case info != nil && (best == nil || latestRank(info.Version, best.Version) > 0):
			best = info
		}
	}
	switch {
	case best != nil:
		return best, nil
	case upstreamErr != nil:
		return nil, upstreamErr
	}
	return nil, registry.NotFound("404 Not found - %s has no versions", m.modPath)
}

// latestIn is one owning source's latest version, or nil.
func (f *Format) latestIn(ctx context.Context, o registry.Found[versions], m *moduleRead) (*Info, error) {
	if o.Source.Project.RepositoryMode == enum.Remote {
		body, err := f.remoteDocument(ctx, o.Source.Project, m.escPath+"/@latest")
		if errors.Is(err, registry.ErrUpstreamMiss) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		var info Info
		if err := json.Unmarshal(body, &info); err != nil || module.CanonicalVersion(info.Version) != info.Version || info.Version == "" {
			return nil, registry.UpstreamError(err, "502 Bad Gateway - the upstream's @latest is not a valid version info")
		}
		return &info, nil
	}
	var best *ent.Pkg
	for _, p := range o.Value.published {
		if p.Status == enum.StatusDefault && (best == nil || latestRank(p.Version, best.Version) > 0) {
			best = p
		}
	}
	if best == nil {
		return nil, nil
	}
	created, err := f.core.DB().Pkg.Query().Where(pkg.ID(best.ID)).Select(pkg.FieldCreatedAt).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil // deleted meanwhile
	}
	if err != nil {
		return nil, registry.Internal(err, "could not read the module version")
	}
	return &Info{Version: best.Version, Time: created.CreatedAt.UTC()}, nil
}

// InfoFile answers @v/<version>.info.
func (f *Format) InfoFile(ctx context.Context, p *registry.Principal, ref, escPath, escVersion string) ([]byte, error) {
	return f.smallFile(ctx, p, ref, escPath, escVersion, ".info")
}

// ModFile answers @v/<version>.mod.
func (f *Format) ModFile(ctx context.Context, p *registry.Principal, ref, escPath, escVersion string) ([]byte, error) {
	return f.smallFile(ctx, p, ref, escPath, escVersion, ".mod")
}

// smallFile reads a version's .info or .mod from the first source in the
// tier that has it: a STANDARD project derives it from the published
// version, a REMOTE project caches the upstream's file forever (the
// protocol's files of a version are immutable) through the core's remote
// fill.
func (f *Format) smallFile(ctx context.Context, p *registry.Principal, ref, escPath, escVersion, ext string) ([]byte, error) {
	m, version, tier, err := f.versionRead(ctx, p, ref, escPath, escVersion)
	if err != nil {
		return nil, err
	}
	var upstreamErr error
	for _, src := range tier {
		if src.Project.RepositoryMode != enum.Remote {
			b, err := f.publishedFile(ctx, src.Project, m.modPath, version, ext)
			if err != nil || b != nil {
				return b, err
			}
			continue
		}
		d, err := f.open(ctx, []registry.Source{src}, m, version, ext, registry.ReadOptions{})
		switch {
		case registry.KindOf(err) == registry.KindNotFound:
			continue
		case err != nil:
			upstreamErr = err
			continue
		}
		b, err := io.ReadAll(io.LimitReader(d.Object, modzip.MaxGoMod+1))
		_ = d.Close()
		if err != nil {
			return nil, registry.Unavailable(err, "could not read the cached file")
		}
		return b, nil
	}
	if upstreamErr != nil {
		return nil, upstreamErr
	}
	return nil, registry.NotFound("404 Not found - %s@%s", m.modPath, version)
}

// publishedFile derives .info or .mod of a version published to a
// STANDARD project, or nil when it has no such version.
func (f *Format) publishedFile(ctx context.Context, prj *ent.Project, modPath, version, ext string) ([]byte, error) {
	pk, err := f.core.DB().Pkg.Query().Where(pkg.ProjectID(prj.ID), pkg.PackageTypeEQ(enum.Golang), pkg.Name(modPath),
		pkg.Version(version), pkg.StatusIn(registry.Installable...)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, registry.Internal(err, "could not read the module version")
	}
	if ext == ".info" {
		return json.Marshal(Info{Version: version, Time: pk.CreatedAt.UTC()})
	}
	var meta pkgMetadata
	if err := json.Unmarshal(pk.Metadata, &meta); err != nil || meta.Mod == "" {
		return nil, registry.Internal(err, "the module version has no go.mod recorded")
	}
	return []byte(meta.Mod), nil
}

// OpenZip opens @v/<version>.zip from the first source in the tier that
// has it (a REMOTE source fills from its upstream, streaming a cold miss).
func (f *Format) OpenZip(ctx context.Context, p *registry.Principal, ref, escPath, escVersion string, opt registry.ReadOptions) (*registry.Download, error) {
	m, version, tier, err := f.versionRead(ctx, p, ref, escPath, escVersion)
	if err != nil {
		return nil, err
	}
	return f.open(ctx, tier, m, version, ".zip", opt)
}

// versionRead resolves a read of one module version: the module (with
// the caller's access checked), the decoded version and the tier of
// sources that owns the module path.
func (f *Format) versionRead(ctx context.Context, p *registry.Principal, ref, escPath, escVersion string) (*moduleRead, string, []registry.Source, error) {
	m, err := f.moduleRead(ctx, p, ref, escPath)
	if err != nil {
		return nil, "", nil, err
	}
	version, err := parseVersion(m.modPath, escVersion)
	if err != nil {
		return nil, "", nil, notFound(err)
	}
	tier, err := f.tier(ctx, m)
	if err != nil {
		return nil, "", nil, err
	}
	return m, version, tier, nil
}

// open opens the file "<version><ext>" of a module version through the
// core's OpenFirst.
func (f *Format) open(ctx context.Context, sources []registry.Source, m *moduleRead, version, ext string, opt registry.ReadOptions) (*registry.Download, error) {
	fileName := version + ext
	cached, err := f.core.StoredFile(ctx, sources, enum.Golang, m.modPath, version, fileName)
	if err != nil {
		return nil, err
	}
	escVersion, err := module.EscapeVersion(version)
	if err != nil {
		return nil, registry.NotFound("invalid version: %v", err)
	}
	return f.core.OpenFirst(ctx, sources, opt, func(src registry.Source) *ent.PackageFile { return cached[src.Project.ID] },
		func(ctx context.Context, src registry.Source) (*ent.PackageFile, error) {
			filled, err := f.core.StoredFile(ctx, []registry.Source{src}, enum.Golang, m.modPath, version, fileName)
			return filled[src.Project.ID], err
		},
		func(_ context.Context, src registry.Source) (registry.RemoteFile, error) {
			return registry.RemoteFile{
				Project: src.Project, Format: enum.Golang, Name: m.modPath, Version: version, FileName: fileName,
				URL: strings.TrimRight(registry.DerefOr(src.Project.RemoteURL, ""), "/") + "/" + m.escPath + "/@v/" + escVersion + ext,
			}, nil
		})
}
