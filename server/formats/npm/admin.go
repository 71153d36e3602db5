package npm

import (
	"context"
	"encoding/json"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/packagetag"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/ent/predicate"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// npm changes published packages with a read-modify-write protocol: the
// client reads the packument (?write=true, with its _rev), edits it and
// PUTs it back (deprecate), or PUTs it without a version to
// ".../-rev/<rev>" and then deletes the tarball (unpublish of a version),
// or DELETEs ".../-rev/<rev>" (unpublish of the package). A rev that is no
// longer current answers 409, so a concurrent change is never overwritten.

// writable checks p may change ref's packages (canDo) and loads the
// package (nil when the project has no such name).
func (f *Format) writable(ctx context.Context, p *registry.Principal, ref, name string, canDo func(*registry.Principal, *registry.ProjectAccess) error) (*registry.ProjectAccess, *Package, error) {
	pa, err := f.core.Project(ctx, p, ref)
	if err != nil {
		return nil, nil, err
	}
	if err := canDo(p, pa); err != nil {
		return nil, nil, err
	}
	if err := ValidateName(name); err != nil {
		return nil, nil, err
	}
	if err := registry.RequireStandard(pa.Project); err != nil {
		return nil, nil, err
	}
	cur, _, err := f.storedPackage(ctx, pa.Project, name, true)
	return pa, cur, err
}

// writableExisting is writable for a change of a package that must exist.
func (f *Format) writableExisting(ctx context.Context, p *registry.Principal, ref, name string, canDo func(*registry.Principal, *registry.ProjectAccess) error) (*registry.ProjectAccess, *Package, error) {
	pa, cur, err := f.writable(ctx, p, ref, name, canDo)
	if err == nil && cur == nil {
		err = registry.NotFound("404 Not found - package %s", name)
	}
	return pa, cur, err
}

func checkRev(cur *Package, rev string) error {
	if rev != "" && rev != cur.Rev {
		return revConflict(cur.Name, rev)
	}
	return nil
}

func revConflict(name, rev string) error {
	return registry.Conflict("409 Conflict - %s changed since revision %s was read; read it again and retry", name, rev)
}

// checkRevInTx checks npm's _rev again inside the write's transaction,
// after taking the name's package rows (the UPDATE locks them on
// PostgreSQL; SQLite runs write transactions one at a time), so two
// writers that read the same revision cannot both commit: the second sees
// the first's change and gets 409.
func (f *Format) checkRevInTx(ctx context.Context, tx *ent.Tx, projectID int, name, rev string) error {
	if rev == "" {
		return nil
	}
	if _, err := tx.Pkg.Update().Where(pkg.ProjectID(projectID), pkg.PackageTypeEQ(enum.NPM), pkg.Name(name)).
		SetUpdatedAt(f.core.Now()).Save(ctx); err != nil {
		return err
	}
	db := tx.Client()
	stamp, err := f.core.NameStamp(ctx, db, projectID, enum.NPM, name)
	if err != nil {
		return err
	}
	tags, err := readTags(ctx, db, projectID, name)
	if err != nil {
		return err
	}
	if revision(stamp, tags) != rev {
		return revConflict(name, rev)
	}
	return nil
}

// updateVersions applies a PUT without a tarball: "deprecated" changes
// of the listed versions and, with a rev, the removal of the versions the
// document no longer lists (MAINTAINER+) with its dist-tags.
func (f *Format) updateVersions(ctx context.Context, p *registry.Principal, pa *registry.ProjectAccess, in Put, doc *putDoc) error {
	cur, ok, err := f.storedPackage(ctx, pa.Project, in.Name, true)
	if err != nil {
		return err
	}
	for v := range doc.Versions {
		if !ok || cur.Versions[v] == nil {
			return registry.Invalid("version %s of %s has no tarball: a publish needs it in _attachments", v, in.Name)
		}
	}
	if !ok {
		return registry.NotFound("404 Not found - package %s", in.Name)
	}
	if err := checkRev(cur, in.Rev); err != nil {
		return err
	}
	var removed []string
	if in.Rev != "" {
		for v := range cur.Versions {
			if _, kept := doc.Versions[v]; !kept {
				removed = append(removed, v)
			}
		}
		if len(removed) > 0 {
			if err := f.core.CanDeletePackages(p, pa); err != nil {
				return err
			}
		}
	}
	changed := map[string]json.RawMessage{}
	for v, raw := range doc.Versions {
		if m, ok := withDeprecation(cur.Versions[v].Manifest, raw); ok {
			changed[v] = m
		}
	}
	return f.core.RetryTx(ctx, func(tx *ent.Tx) error {
		if err := f.checkRevInTx(ctx, tx, pa.Project.ID, in.Name, in.Rev); err != nil {
			return err
		}
		if err := f.deleteVersions(ctx, tx, pa.Project.ID, in.Name, removed); err != nil {
			return err
		}
		for v, m := range changed {
			version := []predicate.Pkg{pkg.ProjectID(pa.Project.ID), pkg.PackageTypeEQ(enum.NPM), pkg.Name(in.Name), pkg.Version(v)}
			if _, err := tx.Pkg.Update().Where(version...).SetMetadata(m).SetUpdatedAt(f.core.Now()).Save(ctx); err != nil {
				return err
			}
			// The abbreviated form carries "deprecated" too.
			if _, err := tx.PackageFile.Update().Where(registry.FilesOfPackages(version...)).
				SetMetadata(abbreviate(m)).Save(ctx); err != nil {
				return err
			}
		}
		if in.Rev == "" {
			return nil
		}
		// The client moved the tags off the versions it removed.
		for tag, v := range doc.DistTags {
			if _, kept := doc.Versions[v]; kept && validateTag(tag) == nil {
				if err := upsertTag(ctx, tx.PackageTag, pa.Project.ID, in.Name, tag, v); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// withDeprecation returns the stored manifest with the "deprecated"
// message of the client's copy (an empty message un-deprecates), and
// whether that changed anything. Nothing else of a published version may
// change.
func withDeprecation(stored, client json.RawMessage) (json.RawMessage, bool) {
	var c struct {
		Deprecated *json.RawMessage `json:"deprecated"`
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(client, &c) != nil || json.Unmarshal(stored, &m) != nil {
		return nil, false
	}
	var msg string
	if c.Deprecated != nil {
		_ = json.Unmarshal(*c.Deprecated, &msg)
	}
	var old string
	_ = json.Unmarshal(m["deprecated"], &old)
	if msg == old {
		return nil, false
	}
	if msg == "" {
		delete(m, "deprecated")
	} else {
		m["deprecated"], _ = json.Marshal(msg)
	}
	out, _ := json.Marshal(m)
	return out, true
}

// deleteVersions removes versions (nil: none) with their files and the
// dist-tags that named them.
func (f *Format) deleteVersions(ctx context.Context, tx *ent.Tx, projectID int, name string, versions []string) error {
	if len(versions) == 0 {
		return nil
	}
	ids, err := tx.Pkg.Query().Where(pkg.ProjectID(projectID), pkg.PackageTypeEQ(enum.NPM), pkg.Name(name),
		pkg.VersionIn(versions...)).IDs(ctx)
	if err != nil {
		return err
	}
	if _, err := tx.PackageTag.Delete().Where(packagetag.ProjectID(projectID), packagetag.PackageTypeEQ(enum.NPM),
		packagetag.Name(name), packagetag.VersionIn(versions...)).Exec(ctx); err != nil {
		return err
	}
	return f.core.DeletePackagesTx(ctx, tx, ids)
}

// DeletePackage unpublishes every version of a package (MAINTAINER+).
func (f *Format) DeletePackage(ctx context.Context, p *registry.Principal, ref, name, rev string) error {
	pa, cur, err := f.writableExisting(ctx, p, ref, name, f.core.CanDeletePackages)
	if err != nil {
		return err
	}
	if err := checkRev(cur, rev); err != nil {
		return err
	}
	all := make([]string, 0, len(cur.Versions))
	for v := range cur.Versions {
		all = append(all, v)
	}
	return f.core.RetryTx(ctx, func(tx *ent.Tx) error {
		if err := f.checkRevInTx(ctx, tx, pa.Project.ID, name, rev); err != nil {
			return err
		}
		if err := f.deleteVersions(ctx, tx, pa.Project.ID, name, all); err != nil {
			return err
		}
		_, err := tx.PackageTag.Delete().Where(packagetag.ProjectID(pa.Project.ID), packagetag.PackageTypeEQ(enum.NPM),
			packagetag.Name(name)).Exec(ctx)
		return err
	})
}

// DeleteTarball unpublishes the version of a tarball (MAINTAINER+); the
// last step of npm's unpublish of one version, so a version already gone
// is not an error.
func (f *Format) DeleteTarball(ctx context.Context, p *registry.Principal, ref, name, fileName, rev string) error {
	version, err := versionFromTarball(name, fileName)
	if err != nil {
		return err
	}
	pa, cur, err := f.writable(ctx, p, ref, name, f.core.CanDeletePackages)
	switch {
	case err != nil:
		return err
	case cur == nil:
		return nil // the whole package is gone already
	}
	if err := checkRev(cur, rev); err != nil {
		return err
	}
	return f.core.RetryTx(ctx, func(tx *ent.Tx) error {
		if err := f.checkRevInTx(ctx, tx, pa.Project.ID, name, rev); err != nil {
			return err
		}
		return f.deleteVersions(ctx, tx, pa.Project.ID, name, []string{version})
	})
}

// DistTagsOf lists a package's dist-tags through ref's engine.
func (f *Format) DistTagsOf(ctx context.Context, p *registry.Principal, ref, name string) (map[string]string, error) {
	pk, err := f.Packument(ctx, p, ref, name, false)
	if err != nil {
		return nil, err
	}
	return pk.DistTags(), nil
}

// SetDistTag points a tag at a published version (DEVELOPER+).
func (f *Format) SetDistTag(ctx context.Context, p *registry.Principal, ref, name, tag, version string) error {
	if err := validateTag(tag); err != nil {
		return err
	}
	pa, cur, err := f.writableExisting(ctx, p, ref, name, f.core.CanWritePackages)
	if err != nil {
		return err
	}
	if cur.Versions[version] == nil {
		return registry.NotFound("404 Not found - version %s of %s is not published", version, name)
	}
	return upsertTag(ctx, f.core.DB().PackageTag, pa.Project.ID, name, tag, version)
}

// DeleteDistTag removes a tag (DEVELOPER+); "latest" stays, as on npm's
// registry.
func (f *Format) DeleteDistTag(ctx context.Context, p *registry.Principal, ref, name, tag string) error {
	if tag == "latest" {
		return registry.Invalid("the latest tag cannot be removed; point it at another version instead")
	}
	pa, _, err := f.writableExisting(ctx, p, ref, name, f.core.CanWritePackages)
	if err != nil {
		return err
	}
	n, err := f.core.DB().PackageTag.Delete().Where(packagetag.ProjectID(pa.Project.ID), packagetag.PackageTypeEQ(enum.NPM),
		packagetag.Name(name), packagetag.Tag(tag)).Exec(ctx)
	if err != nil {
		return registry.Internal(err, "could not remove the dist-tag")
	}
	if n == 0 {
		return registry.NotFound("404 Not found - %s has no dist-tag %s", name, tag)
	}
	return nil
}

// Username is who npm whoami reports for p.
func Username(p *registry.Principal) (string, error) {
	switch {
	case p.User != nil:
		return p.User.Username, nil
	case p.Token != nil:
		return p.Token.Name, nil
	}
	return "", registry.Unauthenticated("401 Unauthorized - npm whoami needs a token")
}
