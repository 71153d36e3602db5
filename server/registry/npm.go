package registry

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/packagetag"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/registry/enum"
)

// npm packages: a package name owns versions (one Pkg row each, the
// version's manifest in Pkg.metadata, one tarball file) and dist-tags
// (PackageTag rows). Reads answer with a packument built from the rows of
// a STANDARD project, the upstream's packument of a REMOTE project, or the
// owning tier of a VIRTUAL project's upstreams.

// validate-npm-package-name's rules for new packages: lowercase, URL-safe,
// optionally scoped, not starting with "." or "_".
var npmNameRe = regexp.MustCompile(`^(?:@[a-z0-9\-~][a-z0-9\-._~]*/)?[a-z0-9\-~][a-z0-9\-._~]*$`)

// Semantic Versioning 2.0.0, as npm requires of published versions.
var npmVersionRe = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

const (
	maxNPMNameLen    = 214
	maxNPMVersionLen = 255
	maxNPMTagLen     = 255
)

// ValidateNPMName checks a package name against npm's rules.
func ValidateNPMName(name string) error {
	switch {
	case name == "" || len(name) > maxNPMNameLen:
		return Invalid("invalid package name %q: a name has 1 to %d characters", name, maxNPMNameLen)
	case !npmNameRe.MatchString(name):
		return Invalid("invalid package name %q: npm names are lowercase and URL-safe, optionally scoped (@scope/name), and do not start with . or _", name)
	case name == "node_modules" || name == "favicon.ico":
		return Invalid("invalid package name %q: the name is reserved", name)
	}
	return nil
}

// ValidateNPMVersion checks a version is semver, as npm publishes them.
func ValidateNPMVersion(v string) error {
	if len(v) > maxNPMVersionLen || !npmVersionRe.MatchString(v) {
		return Invalid("invalid version %q: npm versions are semantic versions (1.2.3, 1.2.3-beta.1)", v)
	}
	return nil
}

// validateNPMTag refuses tags npm could not tell apart from versions.
func validateNPMTag(tag string) error {
	switch {
	case tag == "" || len(tag) > maxNPMTagLen || strings.ContainsAny(tag, "/ \t\r\n%"):
		return Invalid("invalid dist-tag %q", tag)
	case npmVersionRe.MatchString(strings.TrimPrefix(tag, "v")):
		return Invalid("invalid dist-tag %q: a tag must not look like a version", tag)
	}
	return nil
}

// npmUnscoped is the name without its scope: tarballs are <unscoped>-<version>.tgz.
func npmUnscoped(name string) string { return name[strings.LastIndex(name, "/")+1:] }

// npmTarballName is the file name of a version's tarball.
func npmTarballName(name, version string) string { return npmUnscoped(name) + "-" + version + ".tgz" }

// npmEscapedName is how npm puts a name in a URL: the scope's slash encoded.
func npmEscapedName(name string) string {
	return strings.Replace(url.PathEscape(name), "%2F", "%2f", 1)
}

// npmVersionFromTarball reads the version out of a tarball file name.
func npmVersionFromTarball(name, fileName string) (string, error) {
	prefix := npmUnscoped(name) + "-"
	if !strings.HasPrefix(fileName, prefix) || !strings.HasSuffix(fileName, ".tgz") {
		return "", NotFound("404 Not found - %s is not a tarball of %s", fileName, name)
	}
	v := strings.TrimSuffix(strings.TrimPrefix(fileName, prefix), ".tgz")
	if ValidateNPMVersion(v) != nil {
		return "", NotFound("404 Not found - %s is not a tarball of %s", fileName, name)
	}
	return v, nil
}

// npmVersion is one version of a package as a read sees it.
type npmVersion struct {
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

// NPMPackage is a package name as a read sees it: versions and dist-tags.
type NPMPackage struct {
	Name     string
	Versions map[string]*npmVersion
	Tags     map[string]string
	// Rev identifies this state (npm's _rev); a write that names another
	// rev answers 409.
	Rev string
	// cached is the cache entry Versions came from (nil: not cached).
	cached *npmCacheEntry
	// remote is the stored upstream document of a REMOTE read: its
	// versions hold no full manifests, which are streamed from it.
	remote *npmRemoteDoc
}

// integrityOf is npm's integrity string of a hex SHA-512.
func integrityOf(sha512hex string) string {
	b, err := hex.DecodeString(sha512hex)
	if err != nil || len(b) == 0 {
		return ""
	}
	return "sha512-" + base64.StdEncoding.EncodeToString(b)
}

// sha512FromIntegrity is the hex SHA-512 in an SRI string ("" if none).
func sha512FromIntegrity(sri string) (string, bool) {
	for _, part := range strings.Fields(sri) {
		if v, ok := strings.CutPrefix(part, "sha512-"); ok {
			if i := strings.IndexByte(v, '?'); i >= 0 {
				v = v[:i]
			}
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil || len(b) != 64 {
				return "", false
			}
			return hex.EncodeToString(b), true
		}
	}
	return "", sri == ""
}

// storedNPMPackage reads a name's versions and tags from a STANDARD
// project's rows, in a constant number of queries whatever the version
// count. Without full, the manifests are not read: the abbreviated forms
// stored with the tarballs serve npm install, in one query over the files.
func (s *Service) storedNPMPackage(ctx context.Context, prj *ent.Project, name string, full bool) (*NPMPackage, bool, error) {
	if !full {
		return s.storedNPMAbbreviated(ctx, prj, name)
	}
	// The stamp first: a change after it makes the revision stale (a write
	// naming it gets 409), never a newer revision for older content.
	stamp, err := s.NameStamp(ctx, s.db, prj.ID, enum.NPM, name)
	if err != nil {
		return nil, false, err
	}
	pkgs, err := s.db.Pkg.Query().Where(pkg.ProjectID(prj.ID), pkg.PackageTypeEQ(enum.NPM), pkg.Name(name),
		pkg.StatusIn(Installable...)).All(ctx)
	if err != nil {
		return nil, false, Internal(err, "could not read the package")
	}
	if len(pkgs) == 0 {
		return nil, false, nil
	}
	files, err := s.npmFiles(ctx, prj, name, packagefile.FieldID, packagefile.FieldPackageID, packagefile.FieldSha1,
		packagefile.FieldSha512)
	if err != nil {
		return nil, false, err
	}
	out := &NPMPackage{Name: name, Versions: make(map[string]*npmVersion, len(pkgs)), Tags: map[string]string{}}
	for _, p := range pkgs {
		f := files[p.ID]
		if f == nil || len(p.Metadata) == 0 {
			continue // a version without its tarball is not installable
		}
		out.Versions[p.Version] = &npmVersion{Version: p.Version, Manifest: p.Metadata, Shasum: DerefOr(f.Sha1, ""),
			Integrity: integrityOf(DerefOr(f.Sha512, "")), Published: p.CreatedAt, Source: prj}
	}
	return s.withNPMTags(ctx, prj, out, stamp)
}

// storedNPMAbbreviated reads what npm install needs from the newest file
// of each version: its digests and abbreviated manifest (the version is in
// the file name). Names with many versions come from the cache while its
// stamp holds.
func (s *Service) storedNPMAbbreviated(ctx context.Context, prj *ent.Project, name string) (*NPMPackage, bool, error) {
	stamp, err := s.NameStamp(ctx, s.db, prj.ID, enum.NPM, name)
	if err != nil {
		return nil, false, err
	}
	out := &NPMPackage{Name: name, Tags: map[string]string{}}
	if out.cached = s.storedNPMEntry(prj.ID, name, stamp); out.cached != nil {
		out.Versions = out.cached.versions
	} else {
		files, err := s.npmFiles(ctx, prj, name, packagefile.FieldID, packagefile.FieldPackageID, packagefile.FieldFileName,
			packagefile.FieldSha1, packagefile.FieldSha512, packagefile.FieldMetadata, packagefile.FieldCreatedAt)
		if err != nil {
			return nil, false, err
		}
		out.Versions = make(map[string]*npmVersion, len(files))
		for _, f := range files {
			v, err := npmVersionFromTarball(name, f.FileName)
			if err != nil {
				continue
			}
			if len(f.Metadata) == 0 {
				// Stored without its abbreviated form: read the manifests.
				return s.storedNPMPackage(ctx, prj, name, true)
			}
			out.Versions[v] = &npmVersion{Version: v, Abbreviated: f.Metadata, Shasum: DerefOr(f.Sha1, ""),
				Integrity: integrityOf(DerefOr(f.Sha512, "")), Published: f.CreatedAt, Source: prj}
		}
		if len(out.Versions) >= npmCacheMinVersions {
			// The stamp was read first: a change in between makes the next
			// read miss, never serve this copy for a newer state.
			out.cached = s.putStoredNPMEntry(prj.ID, name, stamp, out.Versions)
		}
	}
	return s.withNPMTags(ctx, prj, out, stamp)
}

// npmFiles reads the newest file of each installable version of a name,
// by package id. The files are found by the package's coordinates (one
// join), not by a list of ids (a parameter per version).
func (s *Service) npmFiles(ctx context.Context, prj *ent.Project, name string, fields ...string) (map[int]*ent.PackageFile, error) {
	files, err := s.db.PackageFile.Query().Where(FilesOfPackages(pkg.ProjectID(prj.ID), pkg.PackageTypeEQ(enum.NPM),
		pkg.Name(name), pkg.StatusIn(Installable...))).Select(fields...).Order(ent.Desc(packagefile.FieldID)).All(ctx)
	if err != nil {
		return nil, Internal(err, "could not read the package files")
	}
	newest := make(map[int]*ent.PackageFile, len(files))
	for _, f := range files {
		if _, seen := newest[f.PackageID]; !seen {
			newest[f.PackageID] = f
		}
	}
	return newest, nil
}

// withNPMTags adds the dist-tags and the revision to a stored package.
func (s *Service) withNPMTags(ctx context.Context, prj *ent.Project, out *NPMPackage, stamp string) (*NPMPackage, bool, error) {
	if len(out.Versions) == 0 {
		return nil, false, nil
	}
	tags, err := npmTags(ctx, s.db, prj.ID, out.Name)
	if err != nil {
		return nil, false, err
	}
	for _, t := range tags {
		if out.Versions[t.Version] != nil {
			out.Tags[t.Tag] = t.Version
		}
	}
	out.Rev = npmRevision(stamp, tags)
	return out, true, nil
}

// npmTags reads a name's dist-tags in a fixed order (the revision hashes
// them in that order).
func npmTags(ctx context.Context, db *ent.Client, projectID int, name string) ([]*ent.PackageTag, error) {
	tags, err := db.PackageTag.Query().Where(packagetag.ProjectID(projectID), packagetag.PackageTypeEQ(enum.NPM),
		packagetag.Name(name)).Order(ent.Asc(packagetag.FieldTag)).All(ctx)
	if err != nil {
		return nil, Internal(err, "could not read the dist-tags")
	}
	return tags, nil
}

// npmRevision is npm's _rev of a stored package: the name's stamp (every
// file change, deprecations included, moves it) and its dist-tags. Both
// packument forms carry the same revision.
func npmRevision(stamp string, tags []*ent.PackageTag) string {
	rev := sha1.New()
	rev.Write([]byte(stamp))
	for _, t := range tags {
		fmt.Fprintf(rev, "%s=%s\x00", t.Tag, t.Version)
	}
	return "1-" + hex.EncodeToString(rev.Sum(nil))[:32]
}

type npmDist struct {
	Tarball   string `json:"tarball"`
	Shasum    string `json:"shasum"`
	Integrity string `json:"integrity"`
}

// sourceNPMPackage reads a name from one source of a read.
func (s *Service) sourceNPMPackage(ctx context.Context, src Source, name string, full bool) (*NPMPackage, bool, error) {
	if src.Project.RepositoryMode == enum.Remote {
		return s.remoteNPMPackage(ctx, src.Project, name, full)
	}
	return s.storedNPMPackage(ctx, src.Project, name, full)
}

// npmRead checks p may read packages of ref and lists its sources.
func (s *Service) npmRead(ctx context.Context, p *Principal, ref, name string) (*ProjectAccess, []Source, error) {
	pa, err := s.Project(ctx, p, ref)
	if err != nil {
		return nil, nil, err
	}
	if err := s.CanReadPackages(p, pa); err != nil {
		return nil, nil, err
	}
	if err := ValidateNPMName(name); err != nil {
		return nil, nil, err
	}
	sources, err := s.ReadSources(ctx, p, pa.Project, enum.NPM)
	return pa, sources, err
}

// NPMPackument reads a package name through ref's repository engine: the
// first tier of sources that has the name owns it, and only that tier's
// versions and dist-tags are merged (the dependency-confusion guard).
// Without full, only the abbreviated manifests are read.
func (s *Service) NPMPackument(ctx context.Context, p *Principal, ref, name string, full bool) (*NPMPackage, error) {
	_, sources, err := s.npmRead(ctx, p, ref, name)
	if err != nil {
		return nil, err
	}
	found, err := ResolveName(ctx, sources, func(ctx context.Context, src Source) (*NPMPackage, bool, error) {
		return s.sourceNPMPackage(ctx, src, name, full)
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
	return mergeNPM(found), nil
}

// mergeNPM merges the answers of one tier: the earlier source wins a
// version or tag that several have.
func mergeNPM(found []Found[*NPMPackage]) *NPMPackage {
	if len(found) == 1 {
		return found[0].Value
	}
	out := &NPMPackage{Name: found[0].Value.Name, Versions: map[string]*npmVersion{}, Tags: map[string]string{}}
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

// sortedVersions lists the versions in semver order (each parsed once).
func (pk *NPMPackage) sortedVersions() []string {
	keys := make([]semverKey, 0, len(pk.Versions))
	for v := range pk.Versions {
		keys = append(keys, parseSemver(v))
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].compare(keys[j]) < 0 })
	vs := make([]string, len(keys))
	for i, k := range keys {
		vs[i] = k.raw
	}
	return vs
}

// DistTags are the package's tags; "latest" is the highest release when
// no tag names it (after its version was unpublished), as npm expects one.
func (pk *NPMPackage) DistTags() map[string]string {
	tags := make(map[string]string, len(pk.Tags)+1)
	for k, v := range pk.Tags {
		tags[k] = v
	}
	if _, ok := tags["latest"]; !ok {
		vs := pk.sortedVersions()
		for i := len(vs) - 1; i >= 0; i-- {
			if !strings.Contains(vs[i], "-") {
				tags["latest"] = vs[i]
				break
			}
		}
		if _, ok := tags["latest"]; !ok && len(vs) > 0 {
			tags["latest"] = vs[len(vs)-1]
		}
	}
	return tags
}

// NPMAbbreviatedType is the media type of npm's abbreviated packument.
const NPMAbbreviatedType = "application/vnd.npm.install-v1+json"

// abbreviatedFields are what npm's install-v1 (corgi) document keeps of a
// version's manifest.
var abbreviatedFields = []string{"name", "version", "deprecated", "dependencies", "optionalDependencies",
	"devDependencies", "bundleDependencies", "bundledDependencies", "peerDependencies", "peerDependenciesMeta",
	"bin", "directories", "engines", "os", "cpu", "libc", "_hasShrinkwrap", "hasInstallScript", "funding", "license"}

// RenderPackument writes the packument: the full document, or npm's
// abbreviated install document. tarballBase is the absolute URL of this
// registry's npm endpoint for the project read (".../packages/npm/"), so
// that tarballs are fetched through the same project, with the same token.
// A REMOTE package's full form is read from its stored upstream document
// as a stream; a failure to read it is the error.
func (pk *NPMPackage) RenderPackument(tarballBase string, abbreviated bool) ([]byte, error) {
	var sorted []string
	vs := func() []string {
		if sorted == nil {
			sorted = pk.sortedVersions()
		}
		return sorted
	}
	var b bytes.Buffer
	if pk.remote != nil && !abbreviated {
		// The rendered form is at most about the upstream's size: one
		// allocation, not a doubling series of them.
		b.Grow(int(pk.remote.doc.Size) + 64<<10)
	} else {
		b.Grow(64 << 10)
	}
	name := jsonString(pk.Name)
	modified := time.Time{}
	created := time.Time{}
	for _, nv := range pk.Versions {
		t := nv.Published
		if t.After(modified) {
			modified = t
		}
		if created.IsZero() || (!t.IsZero() && t.Before(created)) {
			created = t
		}
	}
	tags, _ := json.Marshal(pk.DistTags())
	if abbreviated {
		b.WriteString(`{"name":` + name + `,"modified":` + jsonString(modified.UTC().Format(time.RFC3339Nano)) + `,"dist-tags":`)
	} else {
		b.WriteString(`{"_id":` + name + `,"_rev":` + jsonString(pk.Rev) + `,"name":` + name + `,"dist-tags":`)
	}
	b.Write(tags)
	b.WriteString(`,"versions":`)
	switch {
	case !abbreviated && pk.remote != nil && !pk.cached.cache.Admits(pk.remote.doc.Size):
		// Too large to keep rendered: stream it into the response, so that
		// the request holds it once.
		if err := pk.renderRemoteFull(&b, tarballBase); err != nil {
			return nil, err
		}
	case pk.cached != nil && (abbreviated || pk.remote != nil):
		form := "abbreviated"
		if !abbreviated {
			form = "full"
		}
		versions, err := pk.cached.renderedVersions(tarballBase, form, func() ([]byte, error) {
			if abbreviated {
				return pk.renderVersions(vs(), tarballBase, true), nil
			}
			var vb bytes.Buffer
			vb.Grow(int(pk.remote.doc.Size))
			err := pk.renderRemoteFull(&vb, tarballBase)
			return vb.Bytes(), err
		})
		if err != nil {
			return nil, err
		}
		b.Write(versions)
	default:
		b.Write(pk.renderVersions(vs(), tarballBase, abbreviated))
	}
	if !abbreviated {
		b.WriteString(`,"time":{"created":` + jsonString(created.UTC().Format(time.RFC3339Nano)) +
			`,"modified":` + jsonString(modified.UTC().Format(time.RFC3339Nano)))
		for _, v := range vs() {
			if t := pk.Versions[v].Published; !t.IsZero() {
				b.WriteString(`,` + jsonString(v) + `:` + jsonString(t.UTC().Format(time.RFC3339Nano)))
			}
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// distJSON is a version's "dist" as this registry serves it.
func (pk *NPMPackage) distJSON(tarballBase, v string) string {
	nv := pk.Versions[v]
	return `{"shasum":` + jsonString(nv.Shasum) + `,"integrity":` + jsonString(nv.Integrity) +
		`,"tarball":` + jsonString(tarballBase+npmEscapedName(pk.Name)+"/-/"+npmTarballName(pk.Name, v)) + `}`
}

// renderVersions writes the "versions" object, in semver order.
func (pk *NPMPackage) renderVersions(vs []string, tarballBase string, abbreviated bool) []byte {
	var b bytes.Buffer
	b.Grow(len(vs) * 512)
	b.WriteByte('{')
	for i, v := range vs {
		nv := pk.Versions[v]
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonString(v) + ":")
		dist := pk.distJSON(tarballBase, v)
		manifest := nv.Manifest
		if abbreviated {
			manifest = nv.Abbreviated
			if manifest == nil {
				manifest = abbreviate(nv.Manifest)
			}
		}
		appendWithDist(&b, manifest, dist)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// VersionManifest renders one version's manifest (GET .../npm/name/version).
func (pk *NPMPackage) VersionManifest(tarballBase, versionOrTag string) ([]byte, error) {
	v := versionOrTag
	if t, ok := pk.DistTags()[v]; ok {
		v = t
	}
	nv := pk.Versions[v]
	if nv == nil {
		return nil, NotFound("404 Not found - version %s of %s", versionOrTag, pk.Name)
	}
	manifest := nv.Manifest
	if manifest == nil && pk.remote != nil {
		var err error
		if manifest, err = pk.remoteManifest(v); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	appendWithDist(&b, manifest, pk.distJSON(tarballBase, v))
	return b.Bytes(), nil
}

// appendWithDist writes a manifest object with "dist" added, without
// re-encoding it.
func appendWithDist(b *bytes.Buffer, manifest json.RawMessage, dist string) {
	m := bytes.TrimSpace(manifest)
	if len(m) < 2 || m[0] != '{' {
		m = []byte("{}")
	}
	body := bytes.TrimSpace(m[1 : len(m)-1])
	b.WriteByte('{')
	if len(body) > 0 {
		b.Write(body)
		b.WriteByte(',')
	}
	b.WriteString(`"dist":` + dist + `}`)
}

// abbreviate keeps the install-relevant fields of a manifest.
func abbreviate(manifest json.RawMessage) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(manifest, &m) != nil {
		return json.RawMessage("{}")
	}
	return abbreviateFields(m)
}

// abbreviateFields is abbreviate of a decoded manifest.
func abbreviateFields(m map[string]json.RawMessage) json.RawMessage {
	out := make(map[string]json.RawMessage, len(abbreviatedFields))
	for _, k := range abbreviatedFields {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	if _, ok := out["hasInstallScript"]; !ok {
		var scripts map[string]any
		if json.Unmarshal(m["scripts"], &scripts) == nil &&
			(scripts["install"] != nil || scripts["preinstall"] != nil || scripts["postinstall"] != nil) {
			out["hasInstallScript"] = json.RawMessage("true")
		}
	}
	b, _ := json.Marshal(out)
	return b
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// semverKey is a parsed version for ordering.
type semverKey struct {
	raw  string
	core [3]string
	pre  []string
}

func parseSemver(v string) semverKey {
	k := semverKey{raw: v}
	v, _, _ = strings.Cut(v, "+")
	core, pre, hasPre := strings.Cut(v, "-")
	for i, f := range strings.SplitN(core, ".", 3) {
		k.core[i] = f
	}
	if hasPre {
		k.pre = strings.Split(pre, ".")
	}
	return k
}

// compare applies semver precedence: numeric fields, then a release above
// its pre-releases, then pre-release identifiers field by field (numeric
// below alphanumeric); build metadata is ignored, except as a final
// tie-break so that the order is total.
func (a semverKey) compare(b semverKey) int {
	for i := range a.core {
		if c := compareNumeric(a.core[i], b.core[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(a.pre) == 0 && len(b.pre) == 0:
		return strings.Compare(a.raw, b.raw)
	case len(a.pre) == 0:
		return 1
	case len(b.pre) == 0:
		return -1
	}
	for i := 0; i < len(a.pre) && i < len(b.pre); i++ {
		an, bn := isDigits(a.pre[i]), isDigits(b.pre[i])
		var c int
		switch {
		case an && bn:
			c = compareNumeric(a.pre[i], b.pre[i])
		case an:
			c = -1
		case bn:
			c = 1
		default:
			c = strings.Compare(a.pre[i], b.pre[i])
		}
		if c != 0 {
			return c
		}
	}
	if len(a.pre) != len(b.pre) {
		return len(a.pre) - len(b.pre)
	}
	return strings.Compare(a.raw, b.raw)
}

// compareNumeric compares decimal strings of any length (no overflow).
func compareNumeric(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
