package npm

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/pkgreg/registry/server/registry"
)

// sortedVersions lists the versions in semver order (each parsed once).
func (pk *Package) sortedVersions() []string {
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
func (pk *Package) DistTags() map[string]string {
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

// AbbreviatedType is the media type of npm's abbreviated packument.
const AbbreviatedType = "application/vnd.npm.install-v1+json"

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
func (pk *Package) RenderPackument(tarballBase string, abbreviated bool) ([]byte, error) {
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
func (pk *Package) distJSON(tarballBase, v string) string {
	nv := pk.Versions[v]
	return `{"shasum":` + jsonString(nv.Shasum) + `,"integrity":` + jsonString(nv.Integrity) +
		`,"tarball":` + jsonString(tarballBase+escapedName(pk.Name)+"/-/"+tarballName(pk.Name, v)) + `}`
}

// renderVersions writes the "versions" object, in semver order.
func (pk *Package) renderVersions(vs []string, tarballBase string, abbreviated bool) []byte {
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
func (pk *Package) VersionManifest(tarballBase, versionOrTag string) ([]byte, error) {
	v := versionOrTag
	if t, ok := pk.DistTags()[v]; ok {
		v = t
	}
	nv := pk.Versions[v]
	if nv == nil {
		return nil, registry.NotFound("404 Not found - version %s of %s", versionOrTag, pk.Name)
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
