package npm

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/packagetag"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// npm packages: a package name owns versions (one Pkg row each, the
// version's manifest in Pkg.metadata, one tarball file) and dist-tags
// (PackageTag rows). Reads answer with a packument built from the rows of
// a STANDARD project, the upstream's packument of a REMOTE project, or the
// owning tier of a VIRTUAL project's upstreams.

// pkgVersion is one version of a package as a read sees it.
type pkgVersion struct {
	Version string
	// Manifest is the version's package.json as published, a compact JSON
	// object without "dist" (dist is rebuilt for the registry serving it).
	Manifest json.RawMessage
	// Abbreviated is the manifest's install-v1 form (stored with the
	// tarball at publish, so that the form npm install asks for is served
	// without decoding every manifest); nil: derive it from Manifest.
	Abbreviated json.RawMessage
	Shasum      string // hex SHA-1 of the tarball
	Integrity   string // "sha512-<base64>"
	Published   time.Time
	// Upstream is the tarball's URL at a REMOTE project's upstream.
	Upstream string
	// Source is the project that has this version.
	Source *ent.Project
}

// Package is a package name as a read sees it: versions and dist-tags.
type Package struct {
	Name     string
	Versions map[string]*pkgVersion
	Tags     map[string]string
	// Rev identifies this state (npm's _rev); a write that names another
	// rev answers 409.
	Rev string
	// cached is the cache entry Versions came from (nil: not cached).
	cached *cacheEntry
	// remote is the stored upstream document of a REMOTE read: its
	// versions hold no full manifests, which are streamed from it.
	remote *remoteDoc
}

// storedPackage reads a name's versions and tags from a STANDARD
// project's rows, in a constant number of queries whatever the version
// count. Without full, the manifests are not read: the abbreviated forms
// stored with the tarballs serve npm install, in one query over the files.
func (f *Format) storedPackage(ctx context.Context, prj *ent.Project, name string, full bool) (*Package, bool, error) {
	if !full {
		return f.storedAbbreviated(ctx, prj, name)
	}
	// The stamp first: a change after it makes the revision stale (a write
	// naming it gets 409), never a newer revision for older content.
	stamp, err := f.core.NameStamp(ctx, f.core.DB(), prj.ID, enum.NPM, name)
	if err != nil {
		return nil, false, err
	}
	pkgs, err := f.core.DB().Pkg.Query().Where(pkg.ProjectID(prj.ID), pkg.PackageTypeEQ(enum.NPM), pkg.Name(name),
		pkg.StatusIn(registry.Installable...)).All(ctx)
	if err != nil {
		return nil, false, registry.Internal(err, "could not read the package")
	}
	if len(pkgs) == 0 {
		return nil, false, nil
	}
	files, err := f.newestFiles(ctx, prj, name, packagefile.FieldID, packagefile.FieldPackageID, packagefile.FieldSha1,
		packagefile.FieldSha512)
	if err != nil {
		return nil, false, err
	}
	out := &Package{Name: name, Versions: make(map[string]*pkgVersion, len(pkgs)), Tags: map[string]string{}}
	for _, p := range pkgs {
		file := files[p.ID]
		if file == nil || len(p.Metadata) == 0 {
			continue // a version without its tarball is not installable
		}
		out.Versions[p.Version] = &pkgVersion{Version: p.Version, Manifest: p.Metadata, Shasum: registry.DerefOr(file.Sha1, ""),
			Integrity: integrityOf(registry.DerefOr(file.Sha512, "")), Published: p.CreatedAt, Source: prj}
	}
	return f.withTags(ctx, prj, out, stamp)
}

// storedAbbreviated reads what npm install needs from the newest file
// of each version: its digests and abbreviated manifest (the version is in
// the file name). Names with many versions come from the cache while its
// stamp holds.
func (f *Format) storedAbbreviated(ctx context.Context, prj *ent.Project, name string) (*Package, bool, error) {
	stamp, err := f.core.NameStamp(ctx, f.core.DB(), prj.ID, enum.NPM, name)
	if err != nil {
		return nil, false, err
	}
	out := &Package{Name: name, Tags: map[string]string{}}
	if out.cached = f.storedEntry(prj.ID, name, stamp); out.cached != nil {
		out.Versions = out.cached.versions
	} else {
		files, err := f.newestFiles(ctx, prj, name, packagefile.FieldID, packagefile.FieldPackageID, packagefile.FieldFileName,
			packagefile.FieldSha1, packagefile.FieldSha512, packagefile.FieldMetadata, packagefile.FieldCreatedAt)
		if err != nil {
			return nil, false, err
		}
		out.Versions = make(map[string]*pkgVersion, len(files))
		for _, file := range files {
			v, err := versionFromTarball(name, file.FileName)
			if err != nil {
				continue
			}
			if len(file.Metadata) == 0 {
				// Stored without its abbreviated form: read the manifests.
				return f.storedPackage(ctx, prj, name, true)
			}
			out.Versions[v] = &pkgVersion{Version: v, Abbreviated: file.Metadata, Shasum: registry.DerefOr(file.Sha1, ""),
				Integrity: integrityOf(registry.DerefOr(file.Sha512, "")), Published: file.CreatedAt, Source: prj}
		}
		if len(out.Versions) >= cacheMinVersions {
			// The stamp was read first: a change in between makes the next
			// read miss, never serve this copy for a newer state.
			out.cached = f.putStoredEntry(prj.ID, name, stamp, out.Versions)
		}
	}
	return f.withTags(ctx, prj, out, stamp)
}

// newestFiles reads the newest file of each installable version of a name,
// by package id. The files are found by the package's coordinates (one
// join), not by a list of ids (a parameter per version).
func (f *Format) newestFiles(ctx context.Context, prj *ent.Project, name string, fields ...string) (map[int]*ent.PackageFile, error) {
	files, err := f.core.DB().PackageFile.Query().Where(registry.FilesOfPackages(pkg.ProjectID(prj.ID), pkg.PackageTypeEQ(enum.NPM),
		pkg.Name(name), pkg.StatusIn(registry.Installable...))).Select(fields...).Order(ent.Desc(packagefile.FieldID)).All(ctx)
	if err != nil {
		return nil, registry.Internal(err, "could not read the package files")
	}
	newest := make(map[int]*ent.PackageFile, len(files))
	for _, file := range files {
		if _, seen := newest[file.PackageID]; !seen {
			newest[file.PackageID] = file
		}
	}
	return newest, nil
}

// withTags adds the dist-tags and the revision to a stored package.
func (f *Format) withTags(ctx context.Context, prj *ent.Project, out *Package, stamp string) (*Package, bool, error) {
	if len(out.Versions) == 0 {
		return nil, false, nil
	}
	tags, err := readTags(ctx, f.core.DB(), prj.ID, out.Name)
	if err != nil {
		return nil, false, err
	}
	for _, t := range tags {
		if out.Versions[t.Version] != nil {
			out.Tags[t.Tag] = t.Version
		}
	}
	out.Rev = revision(stamp, tags)
	return out, true, nil
}

// readTags reads a name's dist-tags in a fixed order (the revision hashes
// them in that order).
func readTags(ctx context.Context, db *ent.Client, projectID int, name string) ([]*ent.PackageTag, error) {
	tags, err := db.PackageTag.Query().Where(packagetag.ProjectID(projectID), packagetag.PackageTypeEQ(enum.NPM),
		packagetag.Name(name)).Order(ent.Asc(packagetag.FieldTag)).All(ctx)
	if err != nil {
		return nil, registry.Internal(err, "could not read the dist-tags")
	}
	return tags, nil
}

// revision is npm's _rev of a stored package: the name's stamp (every
// file change, deprecations included, moves it) and its dist-tags. Both
// packument forms carry the same revision.
func revision(stamp string, tags []*ent.PackageTag) string {
	rev := sha1.New()
	rev.Write([]byte(stamp))
	for _, t := range tags {
		fmt.Fprintf(rev, "%s=%s\x00", t.Tag, t.Version)
	}
	return "1-" + hex.EncodeToString(rev.Sum(nil))[:32]
}

type distInfo struct {
	Tarball   string `json:"tarball"`
	Shasum    string `json:"shasum"`
	Integrity string `json:"integrity"`
}

// sourcePackage reads a name from one source of a read.
func (f *Format) sourcePackage(ctx context.Context, src registry.Source, name string, full bool) (*Package, bool, error) {
	if src.Project.RepositoryMode == enum.Remote {
		return f.remotePackage(ctx, src.Project, name, full)
	}
	return f.storedPackage(ctx, src.Project, name, full)
}

// readable checks p may read packages of ref and lists its sources.
func (f *Format) readable(ctx context.Context, p *registry.Principal, ref, name string) (*registry.ProjectAccess, []registry.Source, error) {
	pa, err := f.core.Project(ctx, p, ref)
	if err != nil {
		return nil, nil, err
	}
	if err := f.core.CanReadPackages(p, pa); err != nil {
		return nil, nil, err
	}
	if err := ValidateName(name); err != nil {
		return nil, nil, err
	}
	sources, err := f.core.ReadSources(ctx, p, pa.Project, enum.NPM)
	return pa, sources, err
}

// Packument reads a package name through ref's repository engine: the
// first tier of sources that has the name owns it, and only that tier's
// versions and dist-tags are merged (the dependency-confusion guard).
// Without full, only the abbreviated manifests are read.
func (f *Format) Packument(ctx context.Context, p *registry.Principal, ref, name string, full bool) (*Package, error) {
	_, sources, err := f.readable(ctx, p, ref, name)
	if err != nil {
		return nil, err
	}
	found, err := registry.ResolveName(ctx, sources, func(ctx context.Context, src registry.Source) (*Package, bool, error) {
		return f.sourcePackage(ctx, src, name, full)
	})
	if err != nil {
		return nil, err
	}
	if full && len(found) > 1 {
		// A merge renders from the versions: REMOTE ones need their
		// manifests read from the stored documents first.
		for i := range found {
			if found[i].Value, err = found[i].Value.withManifests(); err != nil {
				return nil, err
			}
		}
	}
	return merge(found), nil
}

// merge merges the answers of one tier: the earlier source wins a
// version or tag that several have.
func merge(found []registry.Found[*Package]) *Package {
	if len(found) == 1 {
		return found[0].Value
	}
	out := &Package{Name: found[0].Value.Name, Versions: map[string]*pkgVersion{}, Tags: map[string]string{}}
	revs := make([]string, 0, len(found))
	for _, f := range found {
		for v, nv := range f.Value.Versions {
			if out.Versions[v] == nil {
				out.Versions[v] = nv
			}
		}
		for tag, v := range f.Value.Tags {
			if _, ok := out.Tags[tag]; !ok {
				out.Tags[tag] = v
			}
		}
		revs = append(revs, f.Value.Rev)
	}
	sum := sha1.Sum([]byte(strings.Join(revs, "\x00")))
	out.Rev = "1-" + hex.EncodeToString(sum[:16])
	return out
}
