package maven

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The metadata documents (Maven's repository metadata model 1.1.0), built
// from what the database holds and rendered with encoding/xml. Pure: the
// rows are read in metaread.go.

type metadataDoc struct {
	XMLName      xml.Name       `xml:"metadata"`
	ModelVersion string         `xml:"modelVersion,attr,omitempty"`
	GroupID      string         `xml:"groupId,omitempty"`
	ArtifactID   string         `xml:"artifactId,omitempty"`
	Version      string         `xml:"version,omitempty"`
	Versioning   *versioningDoc `xml:"versioning,omitempty"`
	Plugins      *pluginsDoc    `xml:"plugins,omitempty"`
}

// versioningDoc's fields are in the model's element order.
type versioningDoc struct {
	Latest           string               `xml:"latest,omitempty"`
	Release          string               `xml:"release,omitempty"`
	Snapshot         *snapshotDoc         `xml:"snapshot,omitempty"`
	Versions         *versionsDoc         `xml:"versions,omitempty"`
	LastUpdated      string               `xml:"lastUpdated,omitempty"`
	SnapshotVersions *snapshotVersionsDoc `xml:"snapshotVersions,omitempty"`
}

type versionsDoc struct {
	Version []string `xml:"version"`
}

type snapshotDoc struct {
	Timestamp   string `xml:"timestamp,omitempty"`
	BuildNumber int    `xml:"buildNumber,omitempty"`
}

type snapshotVersionsDoc struct {
	SnapshotVersion []snapshotVersionDoc `xml:"snapshotVersion"`
}

type snapshotVersionDoc struct {
	Classifier string `xml:"classifier,omitempty"`
	Extension  string `xml:"extension"`
	Value      string `xml:"value"`
	Updated    string `xml:"updated"`
}

type pluginsDoc struct {
	Plugin []pluginDoc `xml:"plugin"`
}

type pluginDoc struct {
	Name       string `xml:"name,omitempty"`
	Prefix     string `xml:"prefix"`
	ArtifactID string `xml:"artifactId"`
}

// plugin is a Maven plugin of a group: its goal prefix and its artifact.
type plugin struct {
	Name       string `json:"name,omitempty"`
	Prefix     string `json:"prefix"`
	ArtifactID string `json:"-"`
}

// mavenTime is Maven's lastUpdated/updated format (UTC).
func mavenTime(t time.Time) string { return t.UTC().Format("20060102150405") }

// artifactVersioning is an artifact's versioning: every version in Maven's
// order, latest the highest, release the highest that is not a SNAPSHOT.
func artifactVersioning(versions []string, lastUpdated time.Time) *versioningDoc {
	vs := slices.Clone(versions)
	sortVersions(vs)
	v := &versioningDoc{Versions: &versionsDoc{Version: vs}, LastUpdated: mavenTime(lastUpdated)}
	if len(vs) > 0 {
		v.Latest = vs[len(vs)-1]
	}
	for i := len(vs) - 1; i >= 0; i-- {
		if !isSnapshot(vs[i]) {
			v.Release = vs[i]
			break
		}
	}
	return v
}

// snapshotFile is a stored file of a SNAPSHOT version with a timestamped
// name: artifactId-1.0-20261201.120000-3[-classifier].extension.
type snapshotFile struct {
	Timestamp   string // 20261201.120000
	BuildNumber int
	Classifier  string
	Extension   string
	Value       string // 1.0-20261201.120000-3
	Updated     time.Time
}

var snapshotStampRe = regexp.MustCompile(`^([0-9]{8}\.[0-9]{6})-([0-9]+)`)

// parseSnapshotFile reads a SNAPSHOT version's file name; ok is false for
// names that are not timestamped files of that artifact and version.
func parseSnapshotFile(artifactID, version, fileName string) (snapshotFile, bool) {
	base, ok := strings.CutSuffix(version, "SNAPSHOT")
	if !ok {
		return snapshotFile{}, false
	}
	rest, ok := strings.CutPrefix(fileName, artifactID+"-"+base)
	if !ok {
		return snapshotFile{}, false
	}
	m := snapshotStampRe.FindStringSubmatch(rest)
	if m == nil {
		return snapshotFile{}, false
	}
	build, err := strconv.Atoi(m[2])
	if err != nil || build <= 0 {
		return snapshotFile{}, false
	}
	sf := snapshotFile{Timestamp: m[1], BuildNumber: build, Value: base + m[1] + "-" + m[2]}
	rest = rest[len(m[0]):]
	switch {
	case strings.HasPrefix(rest, "-"):
		c, ext, ok := strings.Cut(rest[1:], ".")
		if !ok || c == "" || ext == "" {
			return snapshotFile{}, false
		}
		sf.Classifier, sf.Extension = c, ext
	case strings.HasPrefix(rest, ".") && len(rest) > 1:
		sf.Extension = rest[1:]
	default:
		return snapshotFile{}, false
	}
	return sf, true
}

// newer orders snapshot files by build number, then timestamp, then when
// they were stored.
func newer(a, b snapshotFile) int {
	return cmp.Or(cmp.Compare(a.BuildNumber, b.BuildNumber), strings.Compare(a.Timestamp, b.Timestamp), a.Updated.Compare(b.Updated))
}

// snapshotVersioning is a SNAPSHOT version's versioning: the newest build
// (timestamp and build number) and, per classifier and extension, the
// newest file's value.
func snapshotVersioning(files []snapshotFile, lastUpdated time.Time) *versioningDoc {
	v := &versioningDoc{LastUpdated: mavenTime(lastUpdated)}
	if len(files) == 0 {
		return v
	}
	latest := slices.MaxFunc(files, newer)
	v.Snapshot = &snapshotDoc{Timestamp: latest.Timestamp, BuildNumber: latest.BuildNumber}
	type key struct{ classifier, ext string }
	best := map[key]snapshotFile{}
	for _, f := range files {
		k := key{f.Classifier, f.Extension}
		if cur, ok := best[k]; !ok || newer(f, cur) > 0 {
			best[k] = f
		}
	}
	var out []snapshotVersionDoc
	for _, f := range best {
		out = append(out, snapshotVersionDoc{Classifier: f.Classifier, Extension: f.Extension, Value: f.Value, Updated: mavenTime(f.Updated)})
	}
	slices.SortFunc(out, func(a, b snapshotVersionDoc) int {
		return cmp.Or(strings.Compare(a.Classifier, b.Classifier), strings.Compare(a.Extension, b.Extension))
	})
	v.SnapshotVersions = &snapshotVersionsDoc{SnapshotVersion: out}
	return v
}

// pluginsOf is a group's plugin list, by artifactId.
func pluginsOf(ps []plugin) *pluginsDoc {
	if len(ps) == 0 {
		return nil
	}
	out := make([]pluginDoc, 0, len(ps))
	for _, p := range ps {
		out = append(out, pluginDoc{Name: p.Name, Prefix: p.Prefix, ArtifactID: p.ArtifactID})
	}
	slices.SortFunc(out, func(a, b pluginDoc) int { return strings.Compare(a.ArtifactID, b.ArtifactID) })
	return &pluginsDoc{Plugin: out}
}

// marshal renders a document with its XML declaration.
func (d *metadataDoc) marshal() []byte {
	d.ModelVersion = "1.1.0"
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(d); err != nil {
		panic(err) // the types above always encode
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// parsePlugins reads the <plugins> of a client's group metadata document.
func parsePlugins(b []byte) ([]plugin, error) {
	var d metadataDoc
	if err := xml.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	if d.Plugins == nil {
		return nil, nil
	}
	var out []plugin
	for _, p := range d.Plugins.Plugin {
		a, prefix := strings.TrimSpace(p.ArtifactID), strings.TrimSpace(p.Prefix)
		if a == "" || prefix == "" || !appNameRe.MatchString(a) {
			continue
		}
		out = append(out, plugin{Name: strings.TrimSpace(p.Name), Prefix: prefix, ArtifactID: a})
	}
	return out, nil
}
