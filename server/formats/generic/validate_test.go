package generic

import (
	"errors"
	"strings"
	"testing"

	"github.com/pkgreg/registry/server/registry"
)

// refusal is what a client is told about err: the parameter GitLab names
// and the 400 body's "error" text ("" when err is nil).
func refusal(t *testing.T, err error) (param, msg string) {
	t.Helper()
	if err == nil {
		return "", ""
	}
	var pe *registry.ParamError
	if !errors.As(err, &pe) {
		t.Fatalf("%v is not a parameter error (it would not be a 400 {\"error\": ...})", err)
	}
	if registry.KindOf(err) != registry.KindInvalid {
		t.Fatalf("%v: kind %v, want invalid", err, registry.KindOf(err))
	}
	return pe.Param, registry.PublicMessage(err)
}

// The cases marked GitLab are Gitlab::Regex's own spec examples
// (spec/lib/gitlab/regex_spec.rb: generic_package_name_regex,
// generic_package_version_regex, generic_package_file_name_regex); the
// rest are GitLab's API rules around them (file_path: no "..", the
// 255/1024 length limits, directory segments in a file path).

func TestValidateName(t *testing.T) {
	for _, c := range []struct {
		name, want string // want: the 400 "error" text, "" when accepted
	}{
		// GitLab: accepted.
		{"123", ""},
		{"foo", ""},
		{"foo.bar.baz-2.0-20190901.47283-1", ""},
		// The documented character set: letters, digits, . - _ (and +).
		{"My_Package-1.0+build", ""},
		{strings.Repeat("a", 255), ""},
		// GitLab: refused.
		{"../../foo", "package_name is invalid"},
		{`..\..\foo`, "package_name is invalid"},
		{"%2f%2e%2e%2f%2essh%2fauthorized_keys", "package_name is invalid"},
		{"$foo/bar", "package_name is invalid"},
		{"my file name", "package_name is invalid"},
		{"!!()()", "package_name is invalid"},
		// A name is one path segment, never empty, never traversal.
		{"", "package_name is invalid"},
		{"a/b", "package_name is invalid"},
		{"a..b", "package_name is invalid"},
		{"..", "package_name is invalid"},
		{"naïve", "package_name is invalid"},
		{strings.Repeat("a", 256), "package_name is invalid: longer than 255 characters"},
	} {
		param, msg := refusal(t, ValidateCoordinates(c.name, "1.0.0", "file.txt"))
		if msg != c.want || c.want != "" && param != "package_name" {
			t.Errorf("name %.40q: %q (param %q), want %q", c.name, msg, param, c.want)
		}
	}
}

func TestValidateVersion(t *testing.T) {
	for _, c := range []struct{ version, want string }{
		// GitLab: accepted (the relaxed rule, not x.y.z only).
		{"1.2.3", ""},
		{"1.3.350", ""},
		{"1.3.350-20201230123456", ""},
		{"1.2.3-rc1", ""},
		{"1.2.3g", ""},
		{"1.2", ""},
		{"1.2.bananas", ""},
		{"v1.2.4-build", ""},
		{"d50d836eb3de6177ce6c7a5482f27f9c2c84b672", ""},
		{"this_is_a_string_only", ""},
		{"1.0.0+build.5", ""},
		{strings.Repeat("1", 255), ""},
		// GitLab: refused.
		{"..1.2.3", "package_version is invalid"},
		{"  1.2.3", "package_version is invalid"},
		{"1.2.3  \r\t", "package_version is invalid"},
		{"\r\t 1.2.3", "package_version is invalid"},
		{"1.2.3-4/../../", "package_version is invalid"},
		{"1.2.3-4%2e%2e%", "package_version is invalid"},
		{"../../../../../1.2.3", "package_version is invalid"},
		{"%2e%2e%2f1.2.3", "package_version is invalid"},
		{"", "package_version is invalid"},
		// No "..", no path separator, no spaces.
		{"1..0", "package_version is invalid"},
		{"1.0/x", "package_version is invalid"},
		{"- bad", "package_version is invalid"},
		{"1.0~rc1", "package_version is invalid"},
		{strings.Repeat("1", 256), "package_version is invalid: longer than 255 characters"},
	} {
		param, msg := refusal(t, ValidateCoordinates("pkg", c.version, "file.txt"))
		if msg != c.want || c.want != "" && param != "package_version" {
			t.Errorf("version %.40q: %q (param %q), want %q", c.version, msg, param, c.want)
		}
	}
}

func TestValidateFilePath(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		// GitLab: accepted.
		{"123", ""},
		{"foo", ""},
		{"foo.bar.baz-2.0-20190901.47283-1.jar", ""},
		// Directories, each segment a valid file name.
		{"linux/amd64/tool.tar.gz", ""},
		{".hidden", ""},
		{"c++.txt", ""},
		// Tildes and at signs inside a name (Debian-style versions), not
		// at either end of a segment.
		{"hello_1.2.3~rc1-1_amd64.deb", ""},
		{"pkg@2.0.tgz", ""},
		{"dir~1/a@b", ""},
		{strings.Repeat("a", 1024), ""},
		{strings.Repeat("d/", 511) + "ff", ""}, // 1024 characters
		// GitLab: refused.
		{"../../foo", "file_name is invalid"},
		{`..\..\foo`, "file_name is invalid"},
		{"%2f%2e%2e%2f%2essh%2fauthorized_keys", "file_name is invalid"},
		{"$foo/bar", "file_name is invalid"},
		{"my file name", "file_name is invalid"},
		{"!!()()", "file_name is invalid"},
		// Tilde or at sign at an end, of the path or of a directory.
		{"~f.txt", "file_name is invalid"},
		{"f.txt@", "file_name is invalid"},
		{"@scope/f.txt", "file_name is invalid"},
		{"dir~/f.txt", "file_name is invalid"},
		// Traversal and empty or dot segments.
		{"..", "file_name is invalid"},
		{"dir/../f.txt", "file_name is invalid"},
		{"dir/..", "file_name is invalid"},
		{"f..txt", "file_name is invalid"},
		{".", "file_name is invalid"},
		{"./f.txt", "file_name is invalid"},
		{"dir/./f.txt", "file_name is invalid"},
		{"/f.txt", "file_name is invalid"},
		{"dir/", "file_name is invalid"},
		{"dir//f.txt", "file_name is invalid"},
		// Characters outside the set.
		{`dir\f.txt`, "file_name is invalid"},
		{"f:1.txt", "file_name is invalid"},
		{"f%20x.txt", "file_name is invalid"},
		{"f\x00.txt", "file_name is invalid"},
		// Empty, or longer than 1024 characters.
		{"", "file_name is invalid: empty or longer than 1024 characters"},
		{strings.Repeat("a", 1025), "file_name is invalid: empty or longer than 1024 characters"},
		{strings.Repeat("d/", 520) + "f", "file_name is invalid: empty or longer than 1024 characters"},
	} {
		param, msg := refusal(t, ValidateCoordinates("pkg", "1.0.0", c.path))
		if msg != c.want || c.want != "" && param != "file_name" {
			t.Errorf("path %.40q: %q (param %q), want %q", c.path, msg, param, c.want)
		}
	}
}

// The name is checked first, then the version, then the file path: the
// 400 names the first bad parameter.
func TestValidateCoordinatesOrder(t *testing.T) {
	for _, c := range []struct{ name, version, path, want string }{
		{"bad name", "bad version", "../x", "package_name"},
		{"pkg", "bad version", "../x", "package_version"},
		{"pkg", "1.0", "../x", "file_name"},
		{strings.Repeat("a", 256), "..", "", "package_name"},
	} {
		if param, _ := refusal(t, ValidateCoordinates(c.name, c.version, c.path)); param != c.want {
			t.Errorf("(%.20q, %q, %q): refused %q, want %q", c.name, c.version, c.path, param, c.want)
		}
	}
}
