package maven

import (
	"strings"
	"testing"

	"github.com/pkgreg/registry/server/registry"
)

func TestParseRequest(t *testing.T) {
	for _, c := range []struct {
		path string
		want request
	}{
		{"com/example/my-app/1.0/my-app-1.0.jar", request{Dir: "com/example/my-app/1.0", File: "my-app-1.0.jar", Base: "my-app-1.0.jar",
			Name: "com/example/my-app", Version: "1.0"}},
		{"com/example/my-app/1.0/my-app-1.0.jar.sha1", request{Dir: "com/example/my-app/1.0", File: "my-app-1.0.jar.sha1",
			Base: "my-app-1.0.jar", Sidecar: "sha1", Name: "com/example/my-app", Version: "1.0"}},
		{"com/example/my-app/1.0/my-app-1.0.jar.asc", request{Dir: "com/example/my-app/1.0", File: "my-app-1.0.jar.asc",
			Base: "my-app-1.0.jar.asc", Name: "com/example/my-app", Version: "1.0"}},
		{"com/example/my-app/1.0/my-app-1.0.jar.asc.sha512", request{Dir: "com/example/my-app/1.0", File: "my-app-1.0.jar.asc.sha512",
			Base: "my-app-1.0.jar.asc", Sidecar: "sha512", Name: "com/example/my-app", Version: "1.0"}},
		{"com/example/my-app/1.0-SNAPSHOT/my-app-1.0-20261201.120000-3-sources.jar", request{Dir: "com/example/my-app/1.0-SNAPSHOT",
			File: "my-app-1.0-20261201.120000-3-sources.jar", Base: "my-app-1.0-20261201.120000-3-sources.jar",
			Name: "com/example/my-app", Version: "1.0-SNAPSHOT"}},
		{"org/x/lib/1.0+build.5/lib-1.0+build.5.module", request{Dir: "org/x/lib/1.0+build.5", File: "lib-1.0+build.5.module",
			Base: "lib-1.0+build.5.module", Name: "org/x/lib", Version: "1.0+build.5"}},
		{"com/example/my-app/maven-metadata.xml", request{Dir: "com/example/my-app", File: "maven-metadata.xml",
			Base: "maven-metadata.xml", Metadata: true}},
		{"com/example/maven-metadata.xml.md5", request{Dir: "com/example", File: "maven-metadata.xml.md5",
			Base: "maven-metadata.xml", Sidecar: "md5", Metadata: true}},
		{"com/maven-metadata.xml", request{Dir: "com", File: "maven-metadata.xml", Base: "maven-metadata.xml", Metadata: true}},
		// A file named only ".sha1" is a file, not a sidecar of nothing.
		{"a/b/1/.sha1", request{Dir: "a/b/1", File: ".sha1", Base: ".sha1", Name: "a/b", Version: "1"}},
	} {
		got, err := parseRequest(c.path)
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v\nwant %+v", c.path, got, err, c.want)
		}
	}
}

func TestParseRequestRefuses(t *testing.T) {
	long := strings.Repeat("a", 250)
	for _, c := range []struct{ path, says string }{
		{"", "path is invalid: it is empty"},
		{"com/example/../my-app/1.0/x.jar", "'..' segments"},
		{"com/example/./my-app/1.0/x.jar", "'..' segments"},
		{"com//my-app/1.0/x.jar", "empty segments"},
		{"com/example/my-app/1.0/", "empty segments"},
		{"x.jar", "groupId/artifactId/version/file"},
		{"my-app/1.0/x.jar", "groupId/artifactId/version/file"},
		{"com/example/my-app/1.0/x y.jar", "file_name is invalid"},
		{"com/example/my-app/1.0/x%2e.jar", "file_name is invalid"},
		{"com/exa mple/my-app/1.0/x.jar", "directory 'exa mple'"},
		{"com/exa+mple/my-app/1.0/x.jar", "directory 'exa+mple'"},
		{"com/example/my-app/1..0/x.jar", "package_version is invalid"},
		{"com/" + long + "/my-app/1.0/x.jar", "package_name is invalid"},
		{"com/example/my-app/1.0/" + strings.Repeat("x", 256), "file_name is invalid"},
	} {
		_, err := parseRequest(c.path)
		if err == nil || registry.KindOf(err) != registry.KindInvalid || !strings.Contains(registry.PublicMessage(err), c.says) {
			t.Errorf("%q: %v, want a 400 saying %q", c.path, err, c.says)
		}
	}
}

func TestCoordinates(t *testing.T) {
	if g, a := groupID("org/apache/maven/plugins/maven-deploy-plugin"), artifactID("org/apache/maven/plugins/maven-deploy-plugin"); g != "org.apache.maven.plugins" || a != "maven-deploy-plugin" {
		t.Fatalf("%s %s", g, a)
	}
	for v, want := range map[string]bool{"1.0-SNAPSHOT": true, "SNAPSHOT": true, "1.0-20261201.120000-3": true, "1.0": false,
		"1.0-snapshot": false, "1.0-SNAPSHOT-1": false} {
		if isSnapshot(v) != want {
			t.Errorf("isSnapshot(%s) = %v", v, !want)
		}
	}
}

func TestParseChecksum(t *testing.T) {
	sha1 := "da39a3ee5e6b4b0d3255bfef95601890afd80709"
	for _, in := range []string{sha1, sha1 + "\n", " " + strings.ToUpper(sha1) + "  my-app-1.0.jar\n"} {
		if got, err := parseChecksum(in, "sha1"); err != nil || got != sha1 {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	for _, in := range []string{"", "  \n", sha1[:39], sha1 + "0", "zz" + sha1[2:]} {
		if _, err := parseChecksum(in, "sha1"); err == nil || registry.KindOf(err) != registry.KindInvalid {
			t.Errorf("%q: %v, want a 400", in, err)
		}
	}
	if _, err := parseChecksum(sha1, "md5"); err == nil {
		t.Error("a sha1 passed as an md5")
	}
}
