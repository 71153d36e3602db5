package maven

import (
	"regexp"
	"strings"

	"github.com/pkgreg/registry/server/registry"
)

// GitLab's Maven rules (Gitlab::Regex): maven_file_name_regex for the file
// name, maven_path_regex for the directories (the last one, the version,
// may also hold '+'), maven_app_name_regex for the artifactId and
// maven_version_regex for the version (no "..").
var (
	fileNameRe = regexp.MustCompile(`^[A-Za-z0-9._+\-]+$`)
	dirSegRe   = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)
	lastSegRe  = regexp.MustCompile(`^[A-Za-z0-9_.+\-]+$`)
	versionRe  = regexp.MustCompile(`^[A-Za-z0-9_+.\-]+$`)
	appNameRe  = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)
)

const (
	maxNameLen    = 255 // the package name: groupId path and artifactId
	maxVersionLen = 255
	maxFileLen    = 255
)

// metadataFile is the name of Maven's repository metadata at every level.
const metadataFile = "maven-metadata.xml"

// sidecarExts are the checksum files a client may PUT or GET next to any
// file; they are never stored (a GET is computed from the stored digests).
var sidecarExts = []string{"md5", "sha1", "sha256", "sha512"}

// request is a parsed Maven repository path below packages/maven/.
type request struct {
	// Dir is the path without the file name ("com/example/my-app/1.0").
	Dir string
	// File is the last segment as requested ("my-app-1.0.jar.sha1"); Base
	// is File without a checksum extension, Sidecar that extension ("" for
	// a file itself).
	File, Base, Sidecar string
	// Metadata is set when Base is maven-metadata.xml (any level).
	Metadata bool
	// Name and Version are GitLab's package coordinates of an artifact
	// file ("com/example/my-app", "1.0"): Dir split before its last
	// segment. Empty for metadata paths.
	Name, Version string
}

func invalidPath(reason string) error {
	return registry.InvalidParam("path", reason)
}

// parseRequest splits and validates a path below packages/maven/: every
// segment non-empty, never "." or "..", directories as GitLab's
// maven_path_regex, the file name as maven_file_name_regex. An artifact
// file needs at least groupId/artifactId/version/file; a metadata document
// at least one directory (a plugin group's metadata is at the groupId).
func parseRequest(p string) (request, error) {
	if p == "" {
		return request{}, invalidPath("it is empty; a Maven path is groupId/artifactId/version/file")
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		switch s {
		case "":
			return request{}, invalidPath("it must not contain empty segments")
		case ".", "..":
			return request{}, invalidPath("it must not contain '.' or '..' segments")
		}
	}
	if len(segs) < 2 {
		return request{}, invalidPath("a Maven path is groupId/artifactId/version/file")
	}
	file, dirs := segs[len(segs)-1], segs[:len(segs)-1]
	if len(file) > maxFileLen || !fileNameRe.MatchString(file) {
		return request{}, registry.InvalidParam("file_name", "it may hold only letters, digits and . _ - +, at most 255 characters")
	}
	for i, d := range dirs {
		re := dirSegRe
		if i == len(dirs)-1 {
			re = lastSegRe
		}
		if !re.MatchString(d) {
			return request{}, invalidPath("directory '" + d + "' may hold only letters, digits and . _ -")
		}
	}
	r := request{Dir: strings.Join(dirs, "/"), File: file, Base: file}
	for _, ext := range sidecarExts {
		if b, ok := strings.CutSuffix(file, "."+ext); ok && b != "" {
			r.Base, r.Sidecar = b, ext
			break
		}
	}
	if r.Base == metadataFile {
		r.Metadata = true
		return r, nil
	}
	if len(dirs) < 3 {
		return request{}, invalidPath("an artifact file's path is groupId/artifactId/version/file (the groupId's dots as slashes)")
	}
	r.Name, r.Version = strings.Join(dirs[:len(dirs)-1], "/"), dirs[len(dirs)-1]
	switch artifact := dirs[len(dirs)-2]; {
	case !appNameRe.MatchString(artifact):
		return request{}, invalidPath("artifactId '" + artifact + "' may hold only letters, digits and . _ -")
	case len(r.Name) > maxNameLen:
		return request{}, registry.InvalidParam("package_name", "groupId and artifactId are longer than 255 characters")
	case len(r.Version) > maxVersionLen || !versionRe.MatchString(r.Version) || strings.Contains(r.Version, ".."):
		return request{}, registry.InvalidParam("package_version", "a version may hold only letters, digits and . _ - +, never '..'")
	}
	return r, nil
}

// artifactID is the last segment of a package name.
func artifactID(name string) string {
	return name[strings.LastIndexByte(name, '/')+1:]
}

// groupID is the groupId of a package name: its directories, dotted.
func groupID(name string) string {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return ""
	}
	return strings.ReplaceAll(name[:i], "/", ".")
}

// isSnapshot is Maven's ArtifactUtils.isSnapshot: a version ending in
// SNAPSHOT, or a resolved timestamped snapshot version.
func isSnapshot(version string) bool {
	return strings.HasSuffix(version, "SNAPSHOT") || timestampedVersionRe.MatchString(version)
}

var timestampedVersionRe = regexp.MustCompile(`^(.*)-([0-9]{8}\.[0-9]{6})-([0-9]+)$`)
