package generic

import (
	"regexp"
	"strings"

	"github.com/pkgreg/registry/server/registry"
)

// GitLab's generic package rules (Gitlab::Regex): RE2 here, so the nested
// version pattern runs in linear time.
var (
	nameRe     = regexp.MustCompile(`^[A-Za-z0-9._+\-]+$`)
	versionRe  = regexp.MustCompile(`^(\.?[\w+\-]+\.?)+$`)
	fileNameRe = regexp.MustCompile(`^[A-Za-z0-9._+\-]([A-Za-z0-9._+\-~@]*[A-Za-z0-9._+\-])?$`)
)

const (
	maxNameLen     = 255
	maxVersionLen  = 255
	maxFilePathLen = 1024
)

// ValidateCoordinates checks package name, version and file path
// (directory segments allowed, each a valid file name). A refusal is a
// registry.InvalidParam naming package_name, package_version or file_name,
// which REST renders as GitLab does: 400 {"error":"<param> is invalid"}.
func ValidateCoordinates(name, version, filePath string) error {
	switch {
	case len(name) > maxNameLen:
		return registry.InvalidParam("package_name", "longer than 255 characters")
	case !nameRe.MatchString(name) || strings.Contains(name, ".."):
		return registry.InvalidParam("package_name", "")
	case len(version) > maxVersionLen:
		return registry.InvalidParam("package_version", "longer than 255 characters")
	case !versionRe.MatchString(version) || strings.Contains(version, ".."):
		return registry.InvalidParam("package_version", "")
	}
	return validateFilePath(filePath)
}

func validateFilePath(filePath string) error {
	if filePath == "" || len(filePath) > maxFilePathLen {
		return registry.InvalidParam("file_name", "empty or longer than 1024 characters")
	}
	for _, seg := range strings.Split(filePath, "/") {
		if seg == "" || seg == "." || strings.Contains(seg, "..") || !fileNameRe.MatchString(seg) {
			return registry.InvalidParam("file_name", "")
		}
	}
	return nil
}
