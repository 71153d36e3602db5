package npm

import (
	"context"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// OpenTarball opens a version's tarball through ref's repository engine.
// Through a VIRTUAL project only the tier that owns the name may serve it,
// so a tarball of a higher version published under the same name in a
// lower tier is never served either. A REMOTE source without the file
// fills it from the upstream, verified against the upstream packument's
// integrity and shasum.
func (f *Format) OpenTarball(ctx context.Context, p *registry.Principal, ref, name, fileName string, opt registry.ReadOptions) (*registry.Download, error) {
	pa, sources, err := f.readable(ctx, p, ref, name)
	if err != nil {
		return nil, err
	}
	version, err := versionFromTarball(name, fileName)
	if err != nil {
		return nil, err
	}
	// known holds what a source's packument says (REMOTE: the upstream's,
	// which the fill needs for the URL and the expected digests).
	known := map[int]*Package{}
	candidates := sources
	if pa.Project.RepositoryMode == enum.Virtual {
		found, err := registry.ResolveName(ctx, sources, func(ctx context.Context, src registry.Source) (*Package, bool, error) {
			return f.sourcePackage(ctx, src, name, false)
		})
		if err != nil {
			return nil, err
		}
		candidates = make([]registry.Source, len(found))
		for i, fd := range found {
			candidates[i] = fd.Source
			known[fd.Source.Project.ID] = fd.Value
		}
	}
	cached, err := f.core.StoredFile(ctx, candidates, enum.NPM, name, version, tarballName(name, version))
	if err != nil {
		return nil, err
	}
	var serving []registry.Source
	var upstreamErr error
	for _, src := range candidates {
		id := src.Project.ID
		if cached[id] != nil {
			serving = append(serving, src)
			continue
		}
		if src.Project.RepositoryMode != enum.Remote {
			continue
		}
		pk, ok := known[id]
		if !ok {
			pk, _, err = f.remotePackage(ctx, src.Project, name, false)
			if err != nil {
				upstreamErr = err
				continue
			}
			known[id] = pk
		}
		if pk != nil && pk.Versions[version] != nil {
			serving = append(serving, src)
		}
	}
	d, err := f.core.OpenFirst(ctx, serving, opt, func(src registry.Source) *ent.PackageFile { return cached[src.Project.ID] },
		func(ctx context.Context, src registry.Source) (*ent.PackageFile, error) {
			filled, err := f.core.StoredFile(ctx, []registry.Source{src}, enum.NPM, name, version, tarballName(name, version))
			return filled[src.Project.ID], err
		},
		func(_ context.Context, src registry.Source) (registry.RemoteFile, error) {
			nv := known[src.Project.ID].Versions[version]
			sha512hex, _ := sha512FromIntegrity(nv.Integrity)
			// A REMOTE version holds its abbreviated manifest (the full one
			// stays in the stored upstream document); that is what the
			// cached package records.
			manifest, abbreviated := nv.Manifest, nv.Abbreviated
			if abbreviated == nil {
				abbreviated = abbreviate(manifest)
			}
			if manifest == nil {
				manifest = abbreviated
			}
			return registry.RemoteFile{
				Project: src.Project, Format: enum.NPM, Name: name, Version: version, FileName: tarballName(name, version),
				URL: nv.Upstream, Expect: registry.Expected{SHA1: nv.Shasum, SHA512: sha512hex}, NeedSHA1: true, NeedSHA512: true,
				PkgMetadata: manifest, FileMetadata: abbreviated,
			}, nil
		})
	if registry.KindOf(err) == registry.KindNotFound && upstreamErr != nil {
		return nil, upstreamErr
	}
	return d, err
}
