package pypi

import (
	"regexp"
	"strings"

	"github.com/pkgreg/registry/server/registry"
)

// PyPI naming rules: PEP 508 project names, PEP 440 versions (the
// packaging library's permissive pattern), PEP 427 wheel and PEP 625 sdist
// file names.
var (
	nameRe    = regexp.MustCompile(`(?i)^([a-z0-9]|[a-z0-9][a-z0-9._-]*[a-z0-9])$`)
	versionRe = regexp.MustCompile(`(?i)^v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*` +
		`(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?` +
		`(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?` +
		`(?:[-_.]?dev[-_.]?[0-9]*)?` +
		`(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?$`)
	separatorsRe = regexp.MustCompile(`[-_.]+`)
)

const (
	maxNameLen    = 255
	maxVersionLen = 255
	// coreMetadataSuffix names the PEP 658 core metadata file stored beside
	// a wheel.
	coreMetadataSuffix = ".metadata"
	maxCoreMetadata    = 4 << 20
)

// NormalizeName is PEP 503's normalized form: lower case, runs of "-", "_"
// and "." as one "-".
func NormalizeName(name string) string {
	return strings.ToLower(separatorsRe.ReplaceAllString(name, "-"))
}

// ValidName reports a PEP 508 project name.
func ValidName(name string) bool {
	return len(name) <= maxNameLen && nameRe.MatchString(name)
}

// fileKind tells wheels from sdists by file name.
type fileKind int

const (
	unknownKind fileKind = iota
	wheelKind
	sdistKind
)

// parseFileName splits a distribution file name into its normalized
// project name and version: PEP 427 wheels
// ({name}-{version}(-{build})?-{py}-{abi}-{platform}.whl, name with "_"
// for separators) and sdists ({name}-{version}.tar.gz or .zip, where the
// name may itself contain "-": the version is what follows the last "-"
// that leaves a valid version).
func parseFileName(fileName string) (name, version string, kind fileKind) {
	lower := strings.ToLower(fileName)
	switch {
	case strings.HasSuffix(lower, ".whl"):
		parts := strings.Split(fileName[:len(fileName)-4], "-")
		if len(parts) != 5 && len(parts) != 6 {
			return "", "", unknownKind
		}
		return NormalizeName(parts[0]), parts[1], wheelKind
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".zip"):
		stem := fileName[:len(fileName)-len(".tar.gz")]
		if strings.HasSuffix(lower, ".zip") {
			stem = fileName[:len(fileName)-len(".zip")]
		}
		for i := strings.LastIndex(stem, "-"); i > 0; i = strings.LastIndex(stem[:i], "-") {
			if v := stem[i+1:]; versionRe.MatchString(v) {
				return NormalizeName(stem[:i]), v, sdistKind
			}
		}
	}
	return "", "", unknownKind
}

// ValidateUpload checks the form fields before any byte is stored.
func ValidateUpload(in Upload) error {
	switch {
	case in.Name == "":
		return registry.Invalid("name is missing")
	case !ValidName(in.Name):
		return registry.Invalid("name %q is not a valid Python project name (PEP 508)", in.Name)
	case in.Version == "":
		return registry.Invalid("version is missing")
	case len(in.Version) > maxVersionLen || !versionRe.MatchString(in.Version):
		return registry.Invalid("version %q is not a valid PEP 440 version", in.Version)
	case in.FileName == "":
		return registry.Invalid("content is missing: the form needs a file part named content")
	case strings.ContainsAny(in.FileName, "/\\") || len(in.FileName) > 255:
		return registry.Invalid("file name %q is not valid", in.FileName)
	case len(in.RequiresPython) > 255:
		return registry.Invalid("requires_python is longer than 255 characters")
	}
	name, version, kind := parseFileName(in.FileName)
	switch {
	case kind == unknownKind:
		return registry.Invalid("file name %q is neither a wheel (.whl) nor an sdist (.tar.gz, .zip)", in.FileName)
	case name != NormalizeName(in.Name):
		return registry.Invalid("file name %q does not match the project name %q", in.FileName, in.Name)
	case !strings.EqualFold(version, in.Version) && !strings.EqualFold(strings.ReplaceAll(version, "_", "-"), in.Version):
		return registry.Invalid("file name %q does not match the version %q", in.FileName, in.Version)
	case in.FileType != "" && in.FileType != map[fileKind]string{wheelKind: "bdist_wheel", sdistKind: "sdist"}[kind]:
		return registry.Invalid("filetype %q does not match the file %q", in.FileType, in.FileName)
	}
	return nil
}
