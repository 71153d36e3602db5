package maven

import (
	"context"
	"encoding/xml"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

// REMOTE Maven projects: a pull-through cache of any Maven repository
// (Maven Central, another registry's .../packages/maven).
//
// Files are filled through the core (OpenFirst, Remote.Fill) from
// remoteUrl + "/" + path and cached forever, as package files of the
// REMOTE project in the STANDARD layout. Before a file is fetched, its
// upstream <file>.sha1 is (Remote.Sidecar), and the fill verifies the
// body against it: a mismatch is a 502 and nothing is cached. An upstream
// without a .sha1 for the file must send X-Checksum-Sha1 with it
// (Artifactory, Nexus and this registry do), or the fill is refused with a
// 502 and nothing is cached (RequireSHA1): Maven Central and every
// repository mvn deploys to hold a .sha1 for every file, so an artifact
// without any SHA-1 is one that cannot be verified, and this cache keeps
// nothing it did not verify. A missing file (a .sha1 404, then the file's
// 404) is a 404, remembered by the core for its negative TTL (a minute):
// clients probe many paths (sources, javadoc, other repositories), and a
// probe repeated within the minute costs no upstream request, while a file
// published upstream later shows up once the minute is over.
//
// maven-metadata.xml (artifact, SNAPSHOT version and plugin group levels)
// is the upstream's, fetched with Remote.Document: cached with the
// project's TTL, revalidated with If-None-Match, served stale when the
// project allows it and the upstream fails. One REMOTE source's document
// is served as the upstream wrote it; documents of several REMOTE sources
// of one tier (a virtual project's equal-priority mirrors) are parsed,
// merged and rendered again (versions in Maven's order, latest and release
// recomputed). Their sidecars are digests of what is served.

// remoteURL is a REMOTE source's upstream URL of a repository path.
func remoteURL(src registry.Source, path string) string {
	return strings.TrimRight(registry.DerefOr(src.Project.RemoteURL, ""), "/") + "/" + path
}

// remoteFile is what OpenFirst fills a REMOTE source's missing file from:
// the upstream file, expected to match the upstream's .sha1.
func (f *Format) remoteFile(ctx context.Context, src registry.Source, req request) (registry.RemoteFile, error) {
	u := remoteURL(src, req.Name+"/"+req.Version+"/"+req.Base)
	rf := registry.RemoteFile{
		Project: src.Project, Format: enum.Maven, Name: req.Name, Version: req.Version, FileName: req.Base, URL: u,
		NeedSHA1: true, NeedMD5: true, NeedSHA512: true, RequireSHA1: true,
	}
	body, err := f.core.Remote.Sidecar(ctx, src.Project, u+".sha1")
	switch {
	case errors.Is(err, registry.ErrUpstreamMiss):
		// The file's own X-Checksum-Sha1 must say it (RequireSHA1); a
		// file that is missing too is the fill's 404.
	case err != nil:
		return rf, err
	default:
		sum, perr := parseChecksum(string(body), "sha1")
		if perr != nil {
			return rf, registry.UpstreamError(perr, "502 Bad Gateway - the upstream's %s.sha1 does not hold a SHA-1 digest", req.Base)
		}
		rf.Expect.SHA1 = sum
	}
	return rf, nil
}

// remoteDocument is a REMOTE source's upstream maven-metadata.xml of a
// directory; ok is false when the upstream has none.
func (f *Format) remoteDocument(ctx context.Context, src registry.Source, dir string) (body []byte, ok bool, err error) {
	path := dir + "/" + metadataFile
	doc, err := f.core.Remote.Document(ctx, src.Project, "maven/"+path, remoteURL(src, path), "")
	switch {
	case errors.Is(err, registry.ErrUpstreamMiss):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	body, err = f.core.Remote.DocumentBody(ctx, doc)
	return body, err == nil, err
}

// remoteDir is a REMOTE source's state of a metadata directory, read from
// its upstream's document (raw keeps the document as served).
func (f *Format) remoteDir(ctx context.Context, src registry.Source, dir string) (dirState, bool, error) {
	body, ok, err := f.remoteDocument(ctx, src, dir)
	if err != nil || !ok {
		return dirState{}, false, err
	}
	st, err := parseDir(dir, body)
	if err != nil {
		return dirState{}, false, registry.UpstreamError(err, "502 Bad Gateway - the upstream's %s/%s is not Maven metadata", dir, metadataFile)
	}
	st.raw = body
	return st, true, nil
}

// parseDir reads an upstream metadata document into the state the
// renderer merges.
func parseDir(dir string, body []byte) (dirState, error) {
	var d metadataDoc
	if err := xml.Unmarshal(body, &d); err != nil {
		return dirState{}, err
	}
	var st dirState
	if v := d.Versioning; v != nil {
		st.updated = parseMavenTime(v.LastUpdated)
		if v.Versions != nil {
			for _, ver := range v.Versions.Version {
				if ver = strings.TrimSpace(ver); ver != "" {
					st.versions = append(st.versions, ver)
				}
			}
		}
		if _, ok := snapshotDir(dir); ok && (v.SnapshotVersions != nil || v.Snapshot != nil) {
			st.snapshot, st.versions = true, nil
			if v.SnapshotVersions != nil {
				for _, sv := range v.SnapshotVersions.SnapshotVersion {
					m := timestampedVersionRe.FindStringSubmatch(strings.TrimSpace(sv.Value))
					if m == nil {
						continue
					}
					build, err := strconv.Atoi(m[3])
					if err != nil {
						continue
					}
					st.snapshotFiles = append(st.snapshotFiles, snapshotFile{
						Timestamp: m[2], BuildNumber: build, Classifier: strings.TrimSpace(sv.Classifier),
						Extension: strings.TrimSpace(sv.Extension), Value: m[0], Updated: parseMavenTime(sv.Updated),
					})
				}
			}
		}
	}
	if d.Plugins != nil {
		for _, p := range d.Plugins.Plugin {
			if a, prefix := strings.TrimSpace(p.ArtifactID), strings.TrimSpace(p.Prefix); a != "" && prefix != "" {
				st.plugins = append(st.plugins, plugin{Name: strings.TrimSpace(p.Name), Prefix: prefix, ArtifactID: a})
			}
		}
	}
	return st, nil
}

// parseMavenTime reads lastUpdated/updated (yyyyMMddHHmmss, UTC); the zero
// time when it is missing or malformed.
func parseMavenTime(s string) time.Time {
	t, err := time.Parse("20060102150405", strings.TrimSpace(s))
	if err != nil {
		return time.Time{}
	}
	return t
}

// snapshotDir reports a SNAPSHOT version directory
// (groupId/artifactId/1.0-SNAPSHOT) and its artifact's name, as readDir
// tells them apart.
func snapshotDir(dir string) (name string, ok bool) {
	i := strings.LastIndexByte(dir, '/')
	if i > 0 && strings.HasSuffix(dir, "SNAPSHOT") && strings.Contains(dir[:i], "/") {
		return dir[:i], true
	}
	return "", false
}
