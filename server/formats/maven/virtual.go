package maven

import (
	"context"

	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Reads over several sources (a VIRTUAL project's upstreams, a group's
// projects): the one order of the core (ReadSources, GroupReadSources) and
// name ownership per groupId:artifactId (ResolveName). The first tier in
// which any source has the artifact owns it: a STANDARD source has it when
// it holds installable files of the name, a REMOTE one when it has cached
// files of it or its upstream has the artifact's maven-metadata.xml. The
// artifact's metadata (its versions, and each SNAPSHOT version's) is
// merged only within that tier, and its files come only from that tier's
// sources that have it. So a public mirror (a REMOTE under a private
// STANDARD) that holds a higher version of a private artifact never offers
// it: neither in the metadata nor as a file (dependency confusion).
//
// When no tier has the artifact (and no STANDARD source failed to say),
// no private name is at stake and every source may serve a file: an
// upstream repository without metadata for an artifact still serves its
// files through a virtual project.

// oneTier reports sources that form one tier (a direct read, a virtual
// project over mirrors of equal priority): ownership has nothing to decide.
func oneTier(sources []registry.Source) bool {
	for _, s := range sources[min(1, len(sources)):] {
		if s.Priority != sources[0].Priority || s.Project.RepositoryMode != sources[0].Project.RepositoryMode {
			return false
		}
	}
	return true
}

// owningSources narrows sources to those of the tier that owns the
// artifact name ("com/example/my-app") and have it.
func (f *Format) owningSources(ctx context.Context, sources []registry.Source, name string) ([]registry.Source, error) {
	if oneTier(sources) {
		return sources, nil
	}
	held, err := f.holding(ctx, sources, name)
	if err != nil {
		return nil, err
	}
	remoteFailed := false
	found, err := registry.ResolveName(ctx, sources, func(ctx context.Context, src registry.Source) (struct{}, bool, error) {
		if held[src.Project.ID] || src.Project.RepositoryMode != enum.Remote {
			return struct{}{}, held[src.Project.ID], nil
		}
		_, ok, err := f.remoteDocument(ctx, src, name)
		if err != nil {
			remoteFailed = true
		}
		return struct{}{}, ok, err
	})
	switch {
	case err == nil:
		out := make([]registry.Source, len(found))
		for i, fd := range found {
			out[i] = fd.Source
		}
		return out, nil
	case registry.KindOf(err) == registry.KindNotFound || remoteFailed:
		// Nobody owns the name, or only an upstream that could not tell
		// might: OpenFirst tries them all (and answers its failure).
		return sources, nil
	}
	return nil, err
}

// holding lists, in one query, the sources that hold installable files of
// an artifact (any version).
func (f *Format) holding(ctx context.Context, sources []registry.Source, name string) (map[int]bool, error) {
	ids := make([]int, len(sources))
	for i, src := range sources {
		ids[i] = src.Project.ID
	}
	got, err := f.core.DB().Pkg.Query().Where(pkg.ProjectIDIn(ids...), pkg.PackageTypeEQ(enum.Maven), pkg.Name(name),
		pkg.StatusIn(registry.Installable...), pkg.HasFiles()).Select(pkg.FieldProjectID).Ints(ctx)
	if err != nil {
		return nil, registry.Internal(err, "could not read the packages")
	}
	out := make(map[int]bool, len(got))
	for _, id := range got {
		out[id] = true
	}
	return out, nil
}

// openOwned opens an artifact file from the sources that own its
// artifact.
func (f *Format) openOwned(ctx context.Context, sources []registry.Source, req request, opt registry.ReadOptions) (*registry.Download, error) {
	sources, err := f.owningSources(ctx, sources, req.Name)
	if err != nil {
		return nil, err
	}
	return f.openIn(ctx, sources, req, opt)
}

// metadataSources narrows sources for a metadata directory: a SNAPSHOT
// version's metadata belongs to its artifact's owner (an artifact's or a
// group's is resolved by the directory itself, in metadataIn).
func (f *Format) metadataSources(ctx context.Context, sources []registry.Source, dir string) ([]registry.Source, error) {
	if name, ok := snapshotDir(dir); ok {
		return f.owningSources(ctx, sources, name)
	}
	return sources, nil
}
