package npm

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"regexp"
	"strings"

	"github.com/pkgreg/registry/server/registry"
)

// validate-npm-package-name's rules for new packages: lowercase, URL-safe,
// optionally scoped, not starting with "." or "_".
var nameRe = regexp.MustCompile(`^(?:@[a-z0-9\-~][a-z0-9\-._~]*/)?[a-z0-9\-~][a-z0-9\-._~]*$`)

// Semantic Versioning 2.0.0, as npm requires of published versions.
var versionRe = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

const (
	maxNameLen    = 214
	maxVersionLen = 255
	maxTagLen     = 255
)

// ValidateName checks a package name against npm's rules.
func ValidateName(name string) error {
	switch {
	case name == "" || len(name) > maxNameLen:
		return registry.Invalid("invalid package name %q: a name has 1 to %d characters", name, maxNameLen)
	case !nameRe.MatchString(name):
		return registry.Invalid("invalid package name %q: npm names are lowercase and URL-safe, optionally scoped (@scope/name), and do not start with . or _", name)
	case name == "node_modules" || name == "favicon.ico":
		return registry.Invalid("invalid package name %q: the name is reserved", name)
	}
	return nil
}

// ValidateVersion checks a version is semver, as npm publishes them.
func ValidateVersion(v string) error {
	if len(v) > maxVersionLen || !versionRe.MatchString(v) {
		return registry.Invalid("invalid version %q: npm versions are semantic versions (1.2.3, 1.2.3-beta.1)", v)
	}
	return nil
}

// validateTag refuses tags npm could not tell apart from versions.
func validateTag(tag string) error {
	switch {
	case tag == "" || len(tag) > maxTagLen || strings.ContainsAny(tag, "/ \t\r\n%"):
		return registry.Invalid("invalid dist-tag %q", tag)
	case versionRe.MatchString(strings.TrimPrefix(tag, "v")):
		return registry.Invalid("invalid dist-tag %q: a tag must not look like a version", tag)
	}
	return nil
}

// unscoped is the name without its scope: tarballs are <unscoped>-<version>.tgz.
func unscoped(name string) string { return name[strings.LastIndex(name, "/")+1:] }

// tarballName is the file name of a version's tarball.
func tarballName(name, version string) string { return unscoped(name) + "-" + version + ".tgz" }

// escapedName is how npm puts a name in a URL: the scope's slash encoded.
func escapedName(name string) string {
	return strings.Replace(url.PathEscape(name), "%2F", "%2f", 1)
}

// versionFromTarball reads the version out of a tarball file name.
func versionFromTarball(name, fileName string) (string, error) {
	prefix := unscoped(name) + "-"
	if !strings.HasPrefix(fileName, prefix) || !strings.HasSuffix(fileName, ".tgz") {
		return "", registry.NotFound("404 Not found - %s is not a tarball of %s", fileName, name)
	}
	v := strings.TrimSuffix(strings.TrimPrefix(fileName, prefix), ".tgz")
	if ValidateVersion(v) != nil {
		return "", registry.NotFound("404 Not found - %s is not a tarball of %s", fileName, name)
	}
	return v, nil
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
