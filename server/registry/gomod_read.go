package registry

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/registry/enum"
)

// goModule is one module read in one project: where to look, and the
// module path decoded and re-encoded (upstream URLs use the encoding).
type goModule struct {
	sources []Source
	virtual bool
	modPath string
	escPath string
}

// goNotFound turns a validation failure on a read into a 404: the go
// command falls through to the next GOPROXY entry only on 404 and 410.
func goNotFound(err error) error {
	var e *Error
	if errors.As(err, &e) && e.Kind == KindInvalid {
		return &Error{Kind: KindNotFound, Message: e.Message}
	}
	return err
}

func (s *Service) goModuleRead(ctx context.Context, p *Principal, ref, escPath string) (*goModule, error) {
	pa, err := s.Project(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	if err := s.CanReadPackages(p, pa); err != nil {
		return nil, err
	}
	modPath, err := parseGoModule(escPath)
	if err != nil {
		return nil, goNotFound(err)
	}
	esc, err := module.EscapePath(modPath)
	if err != nil {
		return nil, NotFound("invalid module path: %v", err)
	}
	sources, err := s.ReadSources(ctx, p, pa.Project, enum.Golang)
	if err != nil {
		return nil, err
	}
	return &goModule{sources: sources, virtual: pa.Project.RepositoryMode == enum.Virtual, modPath: modPath, escPath: esc}, nil
}

// goVersions is what one source knows of a module.
type goVersions struct {
	// listed are the versions @v/list shows: for a STANDARD project its
	// published, not hidden, non-pseudo versions; for a REMOTE project the
	// upstream's list.
	listed []string
	// published are a STANDARD project's installable versions.
	published []*ent.Pkg
}

// lookupGoModule answers whether src has the module (resolveName's lookup):
// a STANDARD project when any version is installable, a REMOTE project
// when its upstream has a version list (cached with the project's TTL).
func (s *Service) lookupGoModule(ctx context.Context, src Source, m *goModule) (goVersions, bool, error) {
	if src.Project.RepositoryMode == enum.Remote {
		body, err := s.goRemoteDocument(ctx, src.Project, m.escPath+"/@v/list")
		if errors.Is(err, ErrUpstreamMiss) {
			return goVersions{}, false, nil
		}
		if err != nil {
			return goVersions{}, false, err
		}
		return goVersions{listed: parseGoList(body)}, true, nil
	}
	pkgs, err := s.db.Pkg.Query().Where(pkg.ProjectID(src.Project.ID), pkg.PackageTypeEQ(enum.Golang), pkg.Name(m.modPath),
		// Not created_at: parsing 300 timestamps doubled a 300-version
		// list's latency on SQLite; @latest reads the one it needs.
		pkg.StatusIn(Installable...)).Select(pkg.FieldVersion, pkg.FieldStatus).All(ctx)
	if err != nil {
		return goVersions{}, false, Internal(err, "could not read the module's versions")
	}
	var listed []string
	for _, p := range pkgs {
		if p.Status == enum.StatusDefault && !module.IsPseudoVersion(p.Version) {
			listed = append(listed, p.Version)
		}
	}
	return goVersions{listed: listed, published: pkgs}, len(pkgs) > 0, nil
}

// goRemoteDocument fetches a mutable protocol document (a version list, or
// @latest) of a REMOTE project, cached with the project's TTL, and
// returns its body.
func (s *Service) goRemoteDocument(ctx context.Context, prj *ent.Project, rel string) ([]byte, error) {
	if prj.RemoteURL == nil {
		return nil, UpstreamError(nil, "502 Bad Gateway - remote project %s has no upstream URL", prj.FullPath)
	}
	doc, err := s.RemoteDocument(ctx, prj, "go/"+rel, strings.TrimRight(*prj.RemoteURL, "/")+"/"+rel, "")
	if err != nil {
		return nil, err
	}
	return s.DocumentBody(ctx, doc)
}

// parseGoList reads a version list: one version per line; lines that are
// not semantic versions are ignored.
func parseGoList(body []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		if v := strings.TrimSpace(sc.Text()); semver.IsValid(v) {
			out = append(out, v)
		}
	}
	return out
}

// goOwners are the sources of the tier that owns the module (resolveName):
// a private module published in a higher tier hides every version of the
// same path in lower tiers, so a public upstream cannot win with a higher
// version (dependency confusion).
func (s *Service) goOwners(ctx context.Context, m *goModule) ([]Found[goVersions], error) {
	return ResolveName(ctx, m.sources, func(ctx context.Context, src Source) (goVersions, bool, error) {
		return s.lookupGoModule(ctx, src, m)
	})
}

// goTier are the sources a version's files are read from. A direct read
// looks in the project itself; a virtual read only in the owning tier, so
// that a version that exists only in a lower tier is not served either.
func (s *Service) goTier(ctx context.Context, m *goModule) ([]Source, error) {
	if !m.virtual {
		return m.sources, nil
	}
	owners, err := s.goOwners(ctx, m)
	if k := KindOf(err); k == KindBadGateway || k == KindGatewayTimeout {
		// No STANDARD source has the module and the upstreams that might
		// cannot say (and have no fresh or servable stale list). A version
		// they cached is immutable, so it is still served.
		return s.goCachedIn(ctx, m)
	}
	if err != nil {
		return nil, err
	}
	tier := make([]Source, len(owners))
	for i, o := range owners {
		tier[i] = o.Source
	}
	return tier, nil
}

// goCachedIn are the REMOTE sources that cached any version of the module,
// in resolution order; a 502 when none did.
func (s *Service) goCachedIn(ctx context.Context, m *goModule) ([]Source, error) {
	var out []Source
	for _, src := range m.sources {
		if src.Project.RepositoryMode != enum.Remote {
			continue
		}
		ok, err := s.db.Pkg.Query().Where(pkg.ProjectID(src.Project.ID), pkg.PackageTypeEQ(enum.Golang), pkg.Name(m.modPath)).Exist(ctx)
		if err != nil {
			return nil, Internal(err, "could not read the module cache")
		}
		if ok {
			out = append(out, src)
		}
	}
	if len(out) == 0 {
		return nil, UpstreamError(nil, "502 Bad Gateway - the upstream registries that may have %s did not answer", m.modPath)
	}
	return out, nil
}

// GoVersionList answers @v/list: the module's versions in semver order.
func (s *Service) GoVersionList(ctx context.Context, p *Principal, ref, escPath string) ([]string, error) {
	m, err := s.goModuleRead(ctx, p, ref, escPath)
	if err != nil {
		return nil, err
	}
	owners, err := s.goOwners(ctx, m)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, o := range owners {
		for _, v := range o.Value.listed {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	semver.Sort(out)
	return out, nil
}

// GoLatest answers @latest: the .info of the version the go command would
// pick as latest (the highest release, else the highest pre-release, else
// the highest pseudo-version), over the owning tier.
func (s *Service) GoLatest(ctx context.Context, p *Principal, ref, escPath string) (*GoInfo, error) {
	m, err := s.goModuleRead(ctx, p, ref, escPath)
	if err != nil {
		return nil, err
	}
	owners, err := s.goOwners(ctx, m)
	if err != nil {
		return nil, err
	}
	var best *GoInfo
	var upstreamErr error
	for _, o := range owners {
		info, err := s.latestIn(ctx, o, m)
		switch {
		case err != nil:
			upstreamErr = err
		case info != nil && (best == nil || goLatestRank(info.Version, best.Version) > 0):
			best = info
		}
	}
	switch {
	case best != nil:
		return best, nil
	case upstreamErr != nil:
		return nil, upstreamErr
	}
	return nil, NotFound("404 Not found - %s has no versions", m.modPath)
}

// latestIn is one owning source's latest version, or nil.
func (s *Service) latestIn(ctx context.Context, o Found[goVersions], m *goModule) (*GoInfo, error) {
	if o.Source.Project.RepositoryMode == enum.Remote {
		body, err := s.goRemoteDocument(ctx, o.Source.Project, m.escPath+"/@latest")
		if errors.Is(err, ErrUpstreamMiss) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		var info GoInfo
		if err := json.Unmarshal(body, &info); err != nil || module.CanonicalVersion(info.Version) != info.Version || info.Version == "" {
			return nil, UpstreamError(err, "502 Bad Gateway - the upstream's @latest is not a valid version info")
		}
		return &info, nil
	}
	var best *ent.Pkg
	for _, p := range o.Value.published {
		if p.Status == enum.StatusDefault && (best == nil || goLatestRank(p.Version, best.Version) > 0) {
			best = p
		}
	}
	if best == nil {
		return nil, nil
	}
	created, err := s.db.Pkg.Query().Where(pkg.ID(best.ID)).Select(pkg.FieldCreatedAt).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil // deleted meanwhile
	}
	if err != nil {
		return nil, Internal(err, "could not read the module version")
	}
	return &GoInfo{Version: best.Version, Time: created.CreatedAt.UTC()}, nil
}

// goLatestRank compares two versions the way "latest" prefers them:
// releases over pre-releases over pseudo-versions, then by semver.
func goLatestRank(a, b string) int {
	kind := func(v string) int {
		switch {
		case module.IsPseudoVersion(v):
			return 0
		case semver.Prerelease(v) != "":
			return 1
		}
		return 2
	}
	if ka, kb := kind(a), kind(b); ka != kb {
		return ka - kb
	}
	return semver.Compare(a, b)
}

// GoInfoFile answers @v/<version>.info.
func (s *Service) GoInfoFile(ctx context.Context, p *Principal, ref, escPath, escVersion string) ([]byte, error) {
	return s.goSmallFile(ctx, p, ref, escPath, escVersion, ".info")
}

// GoModFile answers @v/<version>.mod.
func (s *Service) GoModFile(ctx context.Context, p *Principal, ref, escPath, escVersion string) ([]byte, error) {
	return s.goSmallFile(ctx, p, ref, escPath, escVersion, ".mod")
}

// goSmallFile reads a version's .info or .mod from the first source in
// the tier that has it: a STANDARD project derives it from the published
// version, a REMOTE project caches the upstream's file forever (the
// protocol's files of a version are immutable) through fillRemote.
func (s *Service) goSmallFile(ctx context.Context, p *Principal, ref, escPath, escVersion, ext string) ([]byte, error) {
	m, version, tier, err := s.goVersionRead(ctx, p, ref, escPath, escVersion)
	if err != nil {
		return nil, err
	}
	var upstreamErr error
	for _, src := range tier {
		if src.Project.RepositoryMode != enum.Remote {
			b, err := s.publishedGoFile(ctx, src.Project, m.modPath, version, ext)
			if err != nil || b != nil {
				return b, err
			}
			continue
		}
		d, err := s.goOpen(ctx, []Source{src}, m, version, ext, ReadOptions{})
		switch {
		case KindOf(err) == KindNotFound:
			continue
		case err != nil:
			upstreamErr = err
			continue
		}
		b, err := io.ReadAll(io.LimitReader(d.Object, modzip.MaxGoMod+1))
		_ = d.Close()
		if err != nil {
			return nil, Unavailable(err, "could not read the cached file")
		}
		return b, nil
	}
	if upstreamErr != nil {
		return nil, upstreamErr
	}
	return nil, NotFound("404 Not found - %s@%s", m.modPath, version)
}

// publishedGoFile derives .info or .mod of a version published to a
// STANDARD project, or nil when it has no such version.
func (s *Service) publishedGoFile(ctx context.Context, prj *ent.Project, modPath, version, ext string) ([]byte, error) {
	pk, err := s.db.Pkg.Query().Where(pkg.ProjectID(prj.ID), pkg.PackageTypeEQ(enum.Golang), pkg.Name(modPath),
		pkg.Version(version), pkg.StatusIn(Installable...)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, Internal(err, "could not read the module version")
	}
	if ext == ".info" {
		return json.Marshal(GoInfo{Version: version, Time: pk.CreatedAt.UTC()})
	}
	var meta goPkgMetadata
	if err := json.Unmarshal(pk.Metadata, &meta); err != nil || meta.Mod == "" {
		return nil, Internal(err, "the module version has no go.mod recorded")
	}
	return []byte(meta.Mod), nil
}

// OpenGoZip opens @v/<version>.zip from the first source in the tier that
// has it (a REMOTE source fills from its upstream, streaming a cold miss).
func (s *Service) OpenGoZip(ctx context.Context, p *Principal, ref, escPath, escVersion string, opt ReadOptions) (*Download, error) {
	m, version, tier, err := s.goVersionRead(ctx, p, ref, escPath, escVersion)
	if err != nil {
		return nil, err
	}
	return s.goOpen(ctx, tier, m, version, ".zip", opt)
}

// goVersionRead resolves a read of one module version: the module (with
// the caller's access checked), the decoded version and the tier of
// sources that owns the module path.
func (s *Service) goVersionRead(ctx context.Context, p *Principal, ref, escPath, escVersion string) (*goModule, string, []Source, error) {
	m, err := s.goModuleRead(ctx, p, ref, escPath)
	if err != nil {
		return nil, "", nil, err
	}
	version, err := parseGoVersion(m.modPath, escVersion)
	if err != nil {
		return nil, "", nil, goNotFound(err)
	}
	tier, err := s.goTier(ctx, m)
	if err != nil {
		return nil, "", nil, err
	}
	return m, version, tier, nil
}

// goOpen opens the file "<version><ext>" of a module version through
// openFirst.
func (s *Service) goOpen(ctx context.Context, sources []Source, m *goModule, version, ext string, opt ReadOptions) (*Download, error) {
	fileName := version + ext
	cached, err := s.StoredFile(ctx, sources, enum.Golang, m.modPath, version, fileName)
	if err != nil {
		return nil, err
	}
	escVersion, err := module.EscapeVersion(version)
	if err != nil {
		return nil, NotFound("invalid version: %v", err)
	}
	return s.OpenFirst(ctx, sources, opt, func(src Source) *ent.PackageFile { return cached[src.Project.ID] },
		func(ctx context.Context, src Source) (*ent.PackageFile, error) {
			filled, err := s.StoredFile(ctx, []Source{src}, enum.Golang, m.modPath, version, fileName)
			return filled[src.Project.ID], err
		},
		func(_ context.Context, src Source) (RemoteFile, error) {
			return RemoteFile{
				Project: src.Project, Format: enum.Golang, Name: m.modPath, Version: version, FileName: fileName,
				URL: strings.TrimRight(DerefOr(src.Project.RemoteURL, ""), "/") + "/" + m.escPath + "/@v/" + escVersion + ext,
			}, nil
		})
}
