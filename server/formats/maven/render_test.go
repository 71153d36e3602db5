package maven

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func TestRenderArtifactMetadata(t *testing.T) {
	got := string(renderDir("com/example/my-app", dirState{
		versions: []string{"1.10", "1.2", "2.0-SNAPSHOT", "1.2", "1.9"},
		updated:  t0.Add(90 * time.Second),
	}))
	want := `<?xml version="1.0" encoding="UTF-8"?>
<metadata modelVersion="1.1.0">
  <groupId>com.example</groupId>
  <artifactId>my-app</artifactId>
  <versioning>
    <latest>2.0-SNAPSHOT</latest>
    <release>1.10</release>
    <versions>
      <version>1.2</version>
      <version>1.9</version>
      <version>1.10</version>
      <version>2.0-SNAPSHOT</version>
    </versions>
    <lastUpdated>20261201120130</lastUpdated>
  </versioning>
</metadata>
`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestRenderOnlySnapshots(t *testing.T) {
	got := string(renderDir("g/a", dirState{versions: []string{"1.0-SNAPSHOT"}, updated: t0}))
	if strings.Contains(got, "<release>") || !strings.Contains(got, "<latest>1.0-SNAPSHOT</latest>") {
		t.Fatalf("a SNAPSHOT is no release:\n%s", got)
	}
}

func TestParseSnapshotFile(t *testing.T) {
	for _, c := range []struct {
		name string
		want snapshotFile
		ok   bool
	}{
		{"my-app-1.0-20261201.120000-3.jar", snapshotFile{Timestamp: "20261201.120000", BuildNumber: 3, Extension: "jar", Value: "1.0-20261201.120000-3"}, true},
		{"my-app-1.0-20261201.120000-3-sources.jar", snapshotFile{Timestamp: "20261201.120000", BuildNumber: 3, Classifier: "sources",
			Extension: "jar", Value: "1.0-20261201.120000-3"}, true},
		{"my-app-1.0-20261201.120000-12.tar.gz", snapshotFile{Timestamp: "20261201.120000", BuildNumber: 12, Extension: "tar.gz",
			Value: "1.0-20261201.120000-12"}, true},
		{"my-app-1.0-20261201.120000-3.pom.asc", snapshotFile{Timestamp: "20261201.120000", BuildNumber: 3, Extension: "pom.asc",
			Value: "1.0-20261201.120000-3"}, true},
		{"my-app-1.0-20261201.120000-3.module", snapshotFile{Timestamp: "20261201.120000", BuildNumber: 3, Extension: "module",
			Value: "1.0-20261201.120000-3"}, true},
		{"my-app-1.0-SNAPSHOT.jar", snapshotFile{}, false},
		{"other-1.0-20261201.120000-3.jar", snapshotFile{}, false},
		{"my-app-1.0-20261201.120000-3", snapshotFile{}, false},
		{"my-app-1.0-20261201.120000-0.jar", snapshotFile{}, false},
		{"my-app-1.0-20261201.120000-3-.jar", snapshotFile{}, false},
		{"my-app-1.0-20261201-3.jar", snapshotFile{}, false},
	} {
		got, ok := parseSnapshotFile("my-app", "1.0-SNAPSHOT", c.name)
		if ok != c.ok || got != c.want {
			t.Errorf("%s: %+v %v, want %+v %v", c.name, got, ok, c.want, c.ok)
		}
	}
	if _, ok := parseSnapshotFile("my-app", "1.0", "my-app-1.0-20261201.120000-3.jar"); ok {
		t.Error("a release version has no timestamped files")
	}
}

func TestRenderSnapshotMetadata(t *testing.T) {
	var files []snapshotFile
	for i, n := range []string{
		"my-app-1.0-20261201.120000-1.jar", "my-app-1.0-20261201.120000-1.pom", "my-app-1.0-20261201.120000-1-sources.jar",
		"my-app-1.0-20261201.130000-2.jar", "my-app-1.0-20261201.130000-2.pom",
	} {
		f, ok := parseSnapshotFile("my-app", "1.0-SNAPSHOT", n)
		if !ok {
			t.Fatal(n)
		}
		f.Updated = t0.Add(time.Duration(i) * time.Hour / 4)
		files = append(files, f)
	}
	got := string(renderDir("com/example/my-app/1.0-SNAPSHOT", dirState{snapshot: true, snapshotFiles: files, updated: t0.Add(time.Hour)}))
	want := `<?xml version="1.0" encoding="UTF-8"?>
<metadata modelVersion="1.1.0">
  <groupId>com.example</groupId>
  <artifactId>my-app</artifactId>
  <version>1.0-SNAPSHOT</version>
  <versioning>
    <snapshot>
      <timestamp>20261201.130000</timestamp>
      <buildNumber>2</buildNumber>
    </snapshot>
    <lastUpdated>20261201130000</lastUpdated>
    <snapshotVersions>
      <snapshotVersion>
        <extension>jar</extension>
        <value>1.0-20261201.130000-2</value>
        <updated>20261201124500</updated>
      </snapshotVersion>
      <snapshotVersion>
        <extension>pom</extension>
        <value>1.0-20261201.130000-2</value>
        <updated>20261201130000</updated>
      </snapshotVersion>
      <snapshotVersion>
        <classifier>sources</classifier>
        <extension>jar</extension>
        <value>1.0-20261201.120000-1</value>
        <updated>20261201123000</updated>
      </snapshotVersion>
    </snapshotVersions>
  </versioning>
</metadata>
`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestRenderPluginGroup(t *testing.T) {
	got := string(renderDir("org/example/plugins", dirState{plugins: []plugin{
		{Name: "Zeta Maven Plugin", Prefix: "zeta", ArtifactID: "zeta-maven-plugin"},
		{Prefix: "alpha", ArtifactID: "alpha-maven-plugin"},
		{Prefix: "older", ArtifactID: "zeta-maven-plugin"}, // an older entry of the same artifact
	}}))
	want := `<?xml version="1.0" encoding="UTF-8"?>
<metadata modelVersion="1.1.0">
  <plugins>
    <plugin>
      <prefix>alpha</prefix>
      <artifactId>alpha-maven-plugin</artifactId>
    </plugin>
    <plugin>
      <name>Zeta Maven Plugin</name>
      <prefix>zeta</prefix>
      <artifactId>zeta-maven-plugin</artifactId>
    </plugin>
  </plugins>
</metadata>
`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestParsePlugins(t *testing.T) {
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://maven.apache.org/METADATA/1.1.0">
  <plugins>
    <plugin><name>Hello Plugin</name><prefix>hello</prefix><artifactId>hello-maven-plugin</artifactId></plugin>
    <plugin><prefix></prefix><artifactId>no-prefix</artifactId></plugin>
    <plugin><prefix>bad</prefix><artifactId>../x</artifactId></plugin>
  </plugins>
</metadata>`
	ps, err := parsePlugins([]byte(doc))
	if err != nil || len(ps) != 1 || ps[0] != (plugin{Name: "Hello Plugin", Prefix: "hello", ArtifactID: "hello-maven-plugin"}) {
		t.Fatalf("%+v %v", ps, err)
	}
	if ps, err := parsePlugins([]byte(`<metadata><groupId>g</groupId></metadata>`)); err != nil || ps != nil {
		t.Fatalf("artifact metadata: %+v %v", ps, err)
	}
	if _, err := parsePlugins([]byte(`<metadata`)); err == nil {
		t.Fatal("broken XML parsed")
	}
}
