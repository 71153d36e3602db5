package registry

import (
	"context"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry/enum"
)

// OpenNPMTarball opens a version's tarball through ref's repository engine.
// Through a VIRTUAL project only the tier that owns the name may serve it,
// so a tarball of a higher version published under the same name in a
// lower tier is never served either. A REMOTE source without the file
// fills it from the upstream, verified against the upstream packument's
// integrity and shasum.
func (s *Service) OpenNPMTarball(ctx context.Context, p *Principal, ref, name, fileName string, opt ReadOptions) (*Download, error) {
	pa, sources, err := s.npmRead(ctx, p, ref, name)
	if err != nil {
		return nil, err
	}
	version, err := npmVersionFromTarball(name, fileName)
	if err != nil {
		return nil, err
	}
	// known holds what a source's packument says (REMOTE: the upstream's,
	// which the fill needs for the URL and the expected digests).
	known := map[int]*NPMPackage{}
	candidates := sources
	if pa.Project.RepositoryMode == enum.Virtual {
		found, err := ResolveName(ctx, sources, func(ctx context.Context, src Source) (*NPMPackage, bool, error) {
			return s.sourceNPMPackage(ctx, src, name, false)
		})
		if err != nil {
			return nil, err
		}
		candidates = make([]Source, len(found))
		for i, f := range found {
			candidates[i] = f.Source
			known[f.Source.Project.ID] = f.Value
		}
	}
	cached, err := s.StoredFile(ctx, candidates, enum.NPM, name, version, npmTarballName(name, version))
	if err != nil {
		return nil, err
	}
	var serving []Source
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
			pk, _, err = s.remoteNPMPackage(ctx, src.Project, name, false)
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
	d, err := s.OpenFirst(ctx, serving, opt, func(src Source) *ent.PackageFile { return cached[src.Project.ID] },
		func(ctx context.Context, src Source) (*ent.PackageFile, error) {
			filled, err := s.StoredFile(ctx, []Source{src}, enum.NPM, name, version, npmTarballName(name, version))
			return filled[src.Project.ID], err
		},
		func(_ context.Context, src Source) (RemoteFile, error) {
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
			return RemoteFile{
				Project: src.Project, Format: enum.NPM, Name: name, Version: version, FileName: npmTarballName(name, version),
				URL: nv.Upstream, Expect: Expected{SHA1: nv.Shasum, SHA512: sha512hex}, NeedSHA1: true, NeedSHA512: true,
				PkgMetadata: manifest, FileMetadata: abbreviated,
			}, nil
		})
	if KindOf(err) == KindNotFound && upstreamErr != nil {
		return nil, upstreamErr
	}
	return d, err
}
