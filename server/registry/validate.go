package registry

import (
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pkgreg/registry/server/registry/enum"
)

// GitLab's rules for paths (group, project and user namespace segments).
var pathRe = regexp.MustCompile(`^[a-zA-Z0-9_.][a-zA-Z0-9_.\-]*$`)

// GitLab's rule for group and project names: letters, digits, emoji, '_',
// '.', dash, space, parentheses and '+'; starting with a letter, digit,
// emoji or '_'.
var nameRe = regexp.MustCompile(`^[\p{L}\p{N}\p{So}_][\p{L}\p{N}\p{So}_.\-+ ()]*$`)

const (
	maxPathLen      = 255
	maxNameLen      = 255
	maxNestingDepth = 20
)

// ValidatePath checks one path segment of a group, project or username.
func ValidatePath(field, v string) error {
	switch {
	case v == "":
		return Invalid("%s can't be blank", field)
	case len(v) > maxPathLen:
		return Invalid("%s is too long (maximum is %d characters)", field, maxPathLen)
	case !pathRe.MatchString(v):
		return Invalid("%s can contain only letters, digits, '_', '-' and '.'; it cannot start with '-'", field)
	case v == "." || strings.Contains(v, ".."):
		return Invalid("%s must not be '.' or contain '..'", field)
	case strings.HasSuffix(v, ".git") || strings.HasSuffix(v, ".atom"):
		return Invalid("%s cannot end in '.git' or '.atom'", field)
	}
	return nil
}

// ValidateName checks a display name of a group or project.
func ValidateName(field, v string) error {
	switch {
	case strings.TrimSpace(v) == "":
		return Invalid("%s can't be blank", field)
	case utf8.RuneCountInString(v) > maxNameLen:
		return Invalid("%s is too long (maximum is %d characters)", field, maxNameLen)
	case !nameRe.MatchString(v):
		return Invalid("%s can contain only letters, digits, emoji, '_', '.', '+', dashes, spaces and parentheses, and must start with a letter, digit, emoji or '_'", field)
	}
	return nil
}

// validateFullPath checks a slash-separated reference to an existing
// namespace or project before any lookup.
func validateFullPath(field, v string) error {
	v = strings.Trim(v, "/")
	if v == "" {
		return Invalid("%s can't be blank", field)
	}
	if len(v) > 1024 {
		return Invalid("%s is too long (maximum is 1024 characters)", field)
	}
	for _, seg := range strings.Split(v, "/") {
		if err := ValidatePath(field, seg); err != nil {
			return err
		}
	}
	return nil
}

func validateVisibility(v enum.Visibility) error {
	for _, a := range v.Values() {
		if string(v) == a {
			return nil
		}
	}
	return Invalid("visibility must be PUBLIC, INTERNAL or PRIVATE")
}

// validateRemoteURL checks an upstream registry URL.
func validateRemoteURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Invalid("remoteUrl must be an absolute http or https URL")
	}
	if u.User != nil {
		return Invalid("remoteUrl must not contain credentials; pass remoteUsername and remotePassword instead")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return Invalid("remoteUrl must not have a query or fragment")
	}
	if len(raw) > 2048 {
		return Invalid("remoteUrl is too long (maximum is 2048 characters)")
	}
	return nil
}

// validateExpiry checks an optional token expiry against now.
func validateExpiry(expiresAt *time.Time, now time.Time) error {
	if expiresAt != nil && !expiresAt.After(now) {
		return Invalid("expiresAt must be in the future")
	}
	return nil
}

// validateNewPath checks the path, name and visibility of a new group or
// project, defaulting the name to the path and the visibility to PRIVATE.
func validateNewPath(path string, name *string, vis *enum.Visibility) error {
	if err := ValidatePath("path", path); err != nil {
		return err
	}
	if *name == "" {
		*name = path
	}
	if err := ValidateName("name", *name); err != nil {
		return err
	}
	if *vis == "" {
		*vis = enum.Private
	}
	return validateVisibility(*vis)
}
