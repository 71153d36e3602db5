package maven

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Metadata is generated from the rows, never stored: a client's PUT of a
// metadata document cannot remove or reorder what the database knows, and
// concurrent deploys of different versions cannot lose one another's
// version. Nothing rendered is cached (a cache would need the name's
// core.NameStamp in its key), so a deletion shows at once.

// dirState is what one project holds at a metadata directory.
type dirState struct {
	// versions of the artifact named by the directory, and their newest
	// change.
	versions []string
	updated  time.Time
	// snapshot: the directory is a SNAPSHOT version of an artifact.
	snapshot      bool
	snapshotFiles []snapshotFile
	// plugins of the group named by the directory.
	plugins []plugin
	// raw is a REMOTE upstream's document the state was read from.
	raw []byte
}

func (d dirState) empty() bool {
	return len(d.versions) == 0 && !d.snapshot && len(d.plugins) == 0
}

// metadataIn renders a directory's metadata over sources (a project's
// upstream order, or a group's projects).
func (f *Format) metadataIn(ctx context.Context, sources []registry.Source, dir string) ([]byte, error) {
	sources, err := f.metadataSources(ctx, sources, dir)
	if err != nil {
		return nil, err
	}
	// The first tier that has the directory owns it (the dependency-
	// confusion guard); within a tier, answers merge.
	found, err := registry.ResolveName(ctx, sources, func(ctx context.Context, src registry.Source) (dirState, bool, error) {
		if src.Project.RepositoryMode == enum.Remote {
			return f.remoteDir(ctx, src, dir) // remote.go
		}
		st, err := f.readDir(ctx, src.Project.ID, dir)
		return st, err == nil && !st.empty(), err
	})
	if err != nil {
		return nil, err
	}
	if len(found) == 1 && found[0].Value.raw != nil {
		return found[0].Value.raw, nil // one upstream's document, as it wrote it
	}
	var all dirState
	for _, fd := range found {
		st := fd.Value
		all.versions = append(all.versions, st.versions...)
		all.snapshot = all.snapshot || st.snapshot
		all.snapshotFiles = append(all.snapshotFiles, st.snapshotFiles...)
		all.plugins = append(all.plugins, st.plugins...)
		if st.updated.After(all.updated) {
			all.updated = st.updated
		}
	}
	return renderDir(dir, all), nil
}

// renderDir renders a directory's state.
func renderDir(dir string, st dirState) []byte {
	d := &metadataDoc{}
	switch {
	case st.snapshot:
		name, version := dir[:strings.LastIndexByte(dir, '/')], dir[strings.LastIndexByte(dir, '/')+1:]
		d.GroupID, d.ArtifactID, d.Version = groupID(name), artifactID(name), version
		d.Versioning = snapshotVersioning(st.snapshotFiles, st.updated)
	case len(st.versions) > 0:
		d.GroupID, d.ArtifactID = groupID(dir), artifactID(dir)
		d.Versioning = artifactVersioning(dedupe(st.versions), st.updated)
	}
	d.Plugins = pluginsOf(dedupePlugins(st.plugins))
	return d.marshal()
}

func dedupe(vs []string) []string {
	seen := map[string]bool{}
	out := vs[:0:0]
	for _, v := range vs {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func dedupePlugins(ps []plugin) []plugin {
	seen := map[string]bool{}
	var out []plugin
	for _, p := range ps {
		if !seen[p.ArtifactID] {
			seen[p.ArtifactID] = true
			out = append(out, p)
		}
	}
	return out
}

// readDir reads one project's rows for a metadata directory.
func (f *Format) readDir(ctx context.Context, projectID int, dir string) (dirState, error) {
	var st dirState
	db := f.core.DB()
	if i := strings.LastIndexByte(dir, '/'); i > 0 && strings.HasSuffix(dir, "SNAPSHOT") && strings.Contains(dir[:i], "/") {
		name, version := dir[:i], dir[i+1:]
		files, err := db.PackageFile.Query().Where(registry.FilesOfPackages(pkg.ProjectID(projectID), pkg.PackageTypeEQ(enum.Maven),
			pkg.Name(name), pkg.Version(version), pkg.StatusIn(registry.Installable...))).
			Select(packagefile.FieldFileName, packagefile.FieldCreatedAt).All(ctx)
		if err != nil {
			return st, registry.Internal(err, "could not read the package files")
		}
		if len(files) > 0 {
			st.snapshot = true
			for _, pf := range files {
				if pf.CreatedAt.After(st.updated) {
					st.updated = pf.CreatedAt
				}
				if sf, ok := parseSnapshotFile(artifactID(name), version, pf.FileName); ok {
					sf.Updated = pf.CreatedAt
					st.snapshotFiles = append(st.snapshotFiles, sf)
				}
			}
			return st, nil
		}
	}
	if strings.Contains(dir, "/") {
		// The status is checked here, not in SQL: with it there, SQLite's
		// planner picks the (project, type, status) index and reads every
		// package of the project.
		pkgs, err := db.Pkg.Query().Where(pkg.ProjectID(projectID), pkg.PackageTypeEQ(enum.Maven), pkg.Name(dir),
			pkg.HasFiles()).
			Select(pkg.FieldVersion, pkg.FieldUpdatedAt, pkg.FieldStatus).All(ctx)
		if err != nil {
			return st, registry.Internal(err, "could not read the packages")
		}
		for _, pk := range pkgs {
			if !slices.Contains(registry.Installable, pk.Status) {
				continue
			}
			st.versions = append(st.versions, pk.Version)
			if pk.UpdatedAt.After(st.updated) {
				st.updated = pk.UpdatedAt
			}
		}
	}
	ps, err := f.groupPlugins(ctx, db, projectID, dir)
	if err != nil {
		return st, err
	}
	st.plugins = ps
	return st, nil
}

// pkgMetadata is the format's metadata of a package (a version).
type pkgMetadata struct {
	// Plugin is set on the versions of a Maven plugin once its group's
	// metadata named it.
	Plugin *plugin `json:"plugin,omitempty"`
}

// groupPlugins lists the plugins recorded on the artifacts directly below
// a group directory.
func (f *Format) groupPlugins(ctx context.Context, db *ent.Client, projectID int, group string) ([]plugin, error) {
	pkgs, err := db.Pkg.Query().Where(pkg.ProjectID(projectID), pkg.PackageTypeEQ(enum.Maven), pkg.NameHasPrefix(group+"/"),
		pkg.StatusIn(registry.Installable...), pkg.MetadataNotNil(), pkg.HasFiles()).
		Order(ent.Desc(pkg.FieldID)).Select(pkg.FieldName, pkg.FieldMetadata).All(ctx)
	if err != nil {
		return nil, registry.Internal(err, "could not read the packages")
	}
	var out []plugin
	for _, pk := range pkgs { // newest first: the newest entry of an artifact wins
		a, ok := strings.CutPrefix(pk.Name, group+"/")
		if !ok || strings.Contains(a, "/") {
			continue
		}
		var m pkgMetadata
		if json.Unmarshal(pk.Metadata, &m) != nil || m.Plugin == nil || m.Plugin.Prefix == "" {
			continue
		}
		pl := *m.Plugin
		pl.ArtifactID = a
		out = append(out, pl)
	}
	return out, nil
}

// recordPlugins merges a group metadata document's plugin entries into the
// package metadata of the artifacts they name (every stored version of
// each), keeping the package metadata's other keys. Entries are only added
// or updated, never removed; an entry for an artifact with no rows here is
// ignored.
func (f *Format) recordPlugins(ctx context.Context, prj *ent.Project, group string, plugins []plugin) error {
	s := f.core
	return s.RetryTx(ctx, func(tx *ent.Tx) error {
		for _, pl := range plugins {
			pkgs, err := tx.Pkg.Query().Where(pkg.ProjectID(prj.ID), pkg.PackageTypeEQ(enum.Maven),
				pkg.Name(group+"/"+pl.ArtifactID)).All(ctx)
			if err != nil {
				return err
			}
			for _, pk := range pkgs {
				m := map[string]json.RawMessage{}
				if len(pk.Metadata) > 0 && json.Unmarshal(pk.Metadata, &m) != nil {
					m = nil // not an object: the format owns it, start again
				}
				if m == nil {
					m = map[string]json.RawMessage{}
				}
				var cur plugin
				if raw, ok := m["plugin"]; ok {
					_ = json.Unmarshal(raw, &cur)
				}
				next := plugin{Prefix: pl.Prefix, Name: pl.Name}
				if next.Name == "" {
					next.Name = cur.Name
				}
				if next == (plugin{Prefix: cur.Prefix, Name: cur.Name}) {
					continue
				}
				raw, _ := json.Marshal(next)
				m["plugin"] = raw
				b, _ := json.Marshal(m)
				if err := tx.Pkg.UpdateOneID(pk.ID).SetMetadata(b).Exec(ctx); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
