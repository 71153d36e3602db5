package servertest

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// MavenDebianRepo is the Maven repository Debian's packages install: the
// tests' "Maven Central" (settings.xml mirrors central to it), so that mvn
// runs without the network.
const MavenDebianRepo = "/usr/share/maven-repo"

// MavenPlugins pins every plugin a test build runs to the version Debian
// ships in MavenDebianRepo (maven 3.8.7's defaults are other versions, which
// are not there). .ci/run installs these packages: libmaven-resources-,
// -compiler-, -jar-, -install-, -deploy-, -dependency-plugin-java,
// libsurefire-java and libmaven-plugin-tools-java (maven-plugin-plugin).
var MavenPlugins = []struct{ ArtifactID, Version string }{
	{"maven-resources-plugin", "3.3.0"},
	{"maven-compiler-plugin", "3.10.1"},
	{"maven-surefire-plugin", "2.22.3"},
	{"maven-jar-plugin", "3.3.0"},
	{"maven-install-plugin", "3.1.0"},
	{"maven-deploy-plugin", "3.0.0"},
	{"maven-dependency-plugin", "3.5.0"},
	{"maven-plugin-plugin", "3.7.1"},
}

// MavenPlugin is the fully qualified goal prefix of a pinned plugin, for
// goals run without a pom ("deploy-file" of maven-deploy-plugin:
// MavenPlugin("maven-deploy-plugin")+":deploy-file").
func MavenPlugin(artifactID string) string {
	for _, p := range MavenPlugins {
		if p.ArtifactID == artifactID {
			return "org.apache.maven.plugins:" + p.ArtifactID + ":" + p.Version
		}
	}
	panic("servertest: no pinned Maven plugin " + artifactID)
}

// MavenURL is a project's Maven repository URL, as a pom or settings.xml
// names it (GitLab's layout).
func (e *Env) MavenURL(projectRef string) string {
	return e.URL + "/api/v4/projects/" + projectRef + "/packages/maven"
}

// MavenGroupURL is a group's Maven repository URL (reads only).
func (e *Env) MavenGroupURL(group string) string {
	return e.URL + "/api/v4/groups/" + url.PathEscape(group) + "/-/packages/maven"
}

// RequireMaven skips the test when mvn or Debian's Maven plugins are
// missing, except under CI=true, where that fails it: CI must prove the
// format with the real client.
func RequireMaven(t testing.TB) {
	t.Helper()
	var missing string
	if _, err := exec.LookPath("mvn"); err != nil {
		missing = "mvn is not installed"
	} else {
		for _, p := range MavenPlugins {
			dir := filepath.Join(MavenDebianRepo, "org/apache/maven/plugins", p.ArtifactID, p.Version)
			if _, err := os.Stat(dir); err != nil {
				missing = fmt.Sprintf("%s %s is not in %s", p.ArtifactID, p.Version, MavenDebianRepo)
				break
			}
		}
	}
	if missing == "" {
		return
	}
	const install = "apt-get install maven libmaven-resources-plugin-java libmaven-compiler-plugin-java libmaven-jar-plugin-java " +
		"libmaven-install-plugin-java libmaven-deploy-plugin-java libmaven-dependency-plugin-java libsurefire-java libmaven-plugin-tools-java"
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: CI needs the real Maven client (.ci/run installs it: %s)", missing, install)
	}
	t.Skipf("%s (%s)", missing, install)
}

// MavenServer is one <server> of settings.xml: the credentials mvn uses for
// the repositories with this id.
type MavenServer struct {
	ID string
	// Header and Token: an HTTP header (Private-Token, Job-Token,
	// Deploy-Token) mvn sends on every request, as GitLab documents.
	Header, Token string
	// Username and Password: HTTP Basic, which mvn sends on a GET only
	// after a 401 challenge.
	Username, Password string
}

// Maven is the real mvn with its own settings.xml, home and local
// repository, so that it never reads the machine's ~/.m2 nor shares
// resolved artifacts between tests.
type Maven struct {
	t testing.TB
	// Home is HOME (and user.home) for mvn.
	Home string
	// Settings is the settings.xml mvn runs with (-s).
	Settings string
	// LocalRepo is the local repository (-Dmaven.repo.local).
	LocalRepo string
	// Timeout bounds one mvn run (default 4 minutes).
	Timeout time.Duration

	servers      []MavenServer
	pluginGroups []string
}

// NewMaven writes a settings.xml with a mirror of central to
// MavenDebianRepo and the given servers, and returns an mvn that uses it.
// It calls RequireMaven.
func NewMaven(t testing.TB, servers ...MavenServer) *Maven {
	t.Helper()
	RequireMaven(t)
	home := t.TempDir()
	m := &Maven{t: t, Home: home, Settings: filepath.Join(home, "settings.xml"), LocalRepo: filepath.Join(home, "repository"),
		Timeout: 4 * time.Minute, servers: servers}
	m.writeSettings()
	return m
}

// AddPluginGroup adds a <pluginGroup> to settings.xml: mvn then resolves
// plugin prefixes ("greet:hello") through that group's maven-metadata.xml.
func (m *Maven) AddPluginGroup(groupID string) {
	m.t.Helper()
	m.pluginGroups = append(m.pluginGroups, groupID)
	m.writeSettings()
}

func (m *Maven) writeSettings() {
	m.t.Helper()
	var s strings.Builder
	s.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<settings xmlns="http://maven.apache.org/SETTINGS/1.2.0">
  <interactiveMode>false</interactiveMode>
  <pluginGroups>
`)
	for _, g := range m.pluginGroups {
		s.WriteString("    <pluginGroup>" + xmlText(g) + "</pluginGroup>\n")
	}
	s.WriteString(`  </pluginGroups>
  <mirrors>
    <mirror><id>debian-central</id><mirrorOf>central</mirrorOf><url>file://` + MavenDebianRepo + `</url></mirror>
  </mirrors>
  <servers>
`)
	for _, sv := range m.servers {
		s.WriteString("    <server><id>" + xmlText(sv.ID) + "</id>")
		if sv.Username != "" || sv.Password != "" {
			s.WriteString("<username>" + xmlText(sv.Username) + "</username><password>" + xmlText(sv.Password) + "</password>")
		}
		if sv.Header != "" {
			s.WriteString("<configuration><httpHeaders><property><name>" + xmlText(sv.Header) + "</name><value>" +
				xmlText(sv.Token) + "</value></property></httpHeaders></configuration>")
		}
		s.WriteString("</server>\n")
	}
	s.WriteString("  </servers>\n</settings>\n")
	if err := os.WriteFile(m.Settings, []byte(s.String()), 0o600); err != nil {
		m.t.Fatal(err)
	}
}

// FreshLocalRepo points mvn at a new, empty local repository: the next run
// resolves everything again, as on a machine that never built the project.
func (m *Maven) FreshLocalRepo() {
	m.LocalRepo = filepath.Join(m.t.TempDir(), "repository")
}

// Run runs mvn -B -q in dir and returns its output.
func (m *Maven) Run(dir string, args ...string) (string, error) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), m.Timeout)
	defer cancel()
	quiet := []string{"-q"}
	if os.Getenv("REGISTRY_TEST_VERBOSE") != "" {
		quiet = nil
	}
	full := append([]string{"-B", "-s", m.Settings, "-Dmaven.repo.local=" + m.LocalRepo, "-Dstyle.color=never"}, quiet...)
	cmd := exec.CommandContext(ctx, "mvn", append(full, args...)...)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + m.Home, "PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8",
		// user.home keeps Java (and so mvn) away from the real ~/.m2; C1
		// only: these runs are short, and JIT warm-up dominates them.
		"MAVEN_OPTS=-Duser.home=" + m.Home + " -XX:+TieredCompilation -XX:TieredStopAtLevel=1"}
	if jh := os.Getenv("JAVA_HOME"); jh != "" {
		cmd.Env = append(cmd.Env, "JAVA_HOME="+jh)
	}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("mvn timed out after %v: %w", m.Timeout, err)
	}
	m.t.Logf("mvn %s (%.1fs)", strings.Join(args, " "), time.Since(start).Seconds())
	// Maven 3.8's console resets colours even with style.color=never.
	return ansiEscape.ReplaceAllString(string(out), ""), err
}

// Must runs mvn and fails the test, with mvn's output, when it fails.
func (m *Maven) Must(dir string, args ...string) string {
	m.t.Helper()
	out, err := m.Run(dir, args...)
	if err != nil {
		m.t.Fatalf("mvn %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// MustFail runs mvn and fails the test when it succeeds; it returns the
// output, which names the failure.
func (m *Maven) MustFail(dir string, args ...string) string {
	m.t.Helper()
	out, err := m.Run(dir, args...)
	if err == nil {
		m.t.Fatalf("mvn %s succeeded, want a failure\n%s", strings.Join(args, " "), out)
	}
	return out
}

// LocalFile reads a file of the local repository by its path under it
// ("com/example/lib/1.0/lib-1.0.jar"); a missing file fails the test.
func (m *Maven) LocalFile(path string) []byte {
	m.t.Helper()
	b, err := os.ReadFile(filepath.Join(m.LocalRepo, filepath.FromSlash(path)))
	if err != nil {
		m.t.Fatalf("local repository: %v", err)
	}
	return b
}

// MavenRepository is a repository of a pom: the id matches a MavenServer's.
type MavenRepository struct{ ID, URL string }

// MavenDependency is one <dependency>; Version may be a range ("[1.0,2.0)").
type MavenDependency struct {
	GroupID, ArtifactID, Version string
	Type, Classifier, Scope      string
}

// MavenProject is a one-module Maven project.
type MavenProject struct {
	GroupID, ArtifactID, Version string
	// Packaging is jar (the default: a Java class is compiled and packed),
	// maven-plugin (a plugin whose goal "hello" writes greeted.txt in the
	// directory mvn runs in) or pom (nothing to build: a consumer that only
	// resolves).
	Packaging string
	// Deploy is the distributionManagement repository (releases and
	// snapshots); empty: none.
	Deploy MavenRepository
	// Repositories are where dependencies resolve from, with
	// checksumPolicy fail: a wrong checksum from the registry fails the
	// build rather than warning.
	Repositories []MavenRepository
	// PluginRepositories are where plugins resolve from (checksumPolicy
	// fail too).
	PluginRepositories []MavenRepository
	Dependencies       []MavenDependency
	// Marker goes into the compiled class, so that two builds of one
	// version have different bytes.
	Marker string
}

// WriteMavenProject writes p (pom.xml and, for a jar, one Java class) into
// a new directory and returns it.
func WriteMavenProject(t testing.TB, p MavenProject) string {
	t.Helper()
	dir := t.TempDir()
	RewriteMavenProject(t, dir, p)
	return dir
}

// RewriteMavenProject writes p into dir, replacing what is there (a second
// build of one project: another version or Marker).
func RewriteMavenProject(t testing.TB, dir string, p MavenProject) {
	t.Helper()
	if p.Packaging == "" {
		p.Packaging = "jar"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>%s</groupId>
  <artifactId>%s</artifactId>
  <version>%s</version>
  <packaging>%s</packaging>
  <properties>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
    <maven.compiler.release>17</maven.compiler.release>
  </properties>
`, xmlText(p.GroupID), xmlText(p.ArtifactID), xmlText(p.Version), xmlText(p.Packaging))
	if p.Deploy.URL != "" {
		fmt.Fprintf(&b, `  <distributionManagement>
    <repository><id>%[1]s</id><url>%[2]s</url></repository>
    <snapshotRepository><id>%[1]s</id><url>%[2]s</url></snapshotRepository>
  </distributionManagement>
`, xmlText(p.Deploy.ID), xmlText(p.Deploy.URL))
	}
	for _, kind := range []struct {
		tag, list string
		repos     []MavenRepository
	}{{"repository", "repositories", p.Repositories}, {"pluginRepository", "pluginRepositories", p.PluginRepositories}} {
		if len(kind.repos) == 0 {
			continue
		}
		b.WriteString("  <" + kind.list + ">\n")
		for _, r := range kind.repos {
			fmt.Fprintf(&b, `    <%[1]s><id>%[2]s</id><url>%[3]s</url>
      <releases><enabled>true</enabled><checksumPolicy>fail</checksumPolicy></releases>
      <snapshots><enabled>true</enabled><checksumPolicy>fail</checksumPolicy></snapshots>
    </%[1]s>
`, kind.tag, xmlText(r.ID), xmlText(r.URL))
		}
		b.WriteString("  </" + kind.list + ">\n")
	}
	deps := p.Dependencies
	if p.Packaging == "maven-plugin" {
		deps = append([]MavenDependency{
			{GroupID: "org.apache.maven", ArtifactID: "maven-plugin-api", Version: "3.8.7", Scope: "provided"},
			{GroupID: "org.apache.maven.plugin-tools", ArtifactID: "maven-plugin-annotations", Version: "3.7.1", Scope: "provided"},
			// Without it, Maven 3 gives the plugin plexus-utils 1.1, which
			// Debian does not ship.
			{GroupID: "org.codehaus.plexus", ArtifactID: "plexus-utils", Version: "3.4.2"},
		}, deps...)
	}
	if len(deps) > 0 {
		b.WriteString("  <dependencies>\n")
		for _, d := range deps {
			fmt.Fprintf(&b, "    <dependency><groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version>",
				xmlText(d.GroupID), xmlText(d.ArtifactID), xmlText(d.Version))
			if d.Type != "" {
				fmt.Fprintf(&b, "<type>%s</type>", xmlText(d.Type))
			}
			if d.Classifier != "" {
				fmt.Fprintf(&b, "<classifier>%s</classifier>", xmlText(d.Classifier))
			}
			if d.Scope != "" {
				fmt.Fprintf(&b, "<scope>%s</scope>", xmlText(d.Scope))
			}
			b.WriteString("</dependency>\n")
		}
		b.WriteString("  </dependencies>\n")
	}
	b.WriteString("  <build><pluginManagement><plugins>\n")
	for _, pl := range MavenPlugins {
		fmt.Fprintf(&b, "    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>%s</artifactId><version>%s</version></plugin>\n", pl.ArtifactID, pl.Version)
	}
	b.WriteString("  </plugins></pluginManagement></build>\n</project>\n")
	if err := os.WriteFile(filepath.Join(dir, "pom.xml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "src/main/java/registrytest")
	_ = os.RemoveAll(filepath.Join(dir, "src"))
	_ = os.RemoveAll(filepath.Join(dir, "target"))
	id := p.GroupID + ":" + p.ArtifactID + ":" + p.Version + " " + p.Marker
	var file, java string
	switch p.Packaging {
	case "jar":
		file, java = "Hello.java", fmt.Sprintf("package registrytest;\n\npublic final class Hello {\n    public static final String ID = %q;\n}\n", id)
	case "maven-plugin":
		file, java = "GreetMojo.java", fmt.Sprintf(`package registrytest;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugins.annotations.Mojo;

@Mojo(name = "hello", requiresProject = false)
public class GreetMojo extends AbstractMojo {
    public void execute() throws MojoExecutionException {
        try {
            Files.writeString(Path.of(System.getProperty("user.dir"), "greeted.txt"), %q);
        } catch (java.io.IOException e) {
            throw new MojoExecutionException("greeted.txt", e);
        }
    }
}
`, id)
	default:
		return
	}
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, file), []byte(java), 0o644); err != nil {
		t.Fatal(err)
	}
}

// BuiltJar reads the jar a build of the project in dir left in target/.
func BuiltJar(t testing.TB, dir string, p MavenProject) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "target", p.ArtifactID+"-"+p.Version+".jar"))
	if err != nil {
		t.Fatalf("built jar: %v", err)
	}
	return b
}

// MavenPath is the repository path of one file of groupId:artifactId:
// version ("com/example/lib/1.0/lib-1.0.jar"); file is the file name.
func MavenPath(groupID, artifactID, version, file string) string {
	return strings.ReplaceAll(groupID, ".", "/") + "/" + artifactID + "/" + version + "/" + file
}

// MavenMetadata is a maven-metadata.xml (artifact, SNAPSHOT version or
// plugin group level).
type MavenMetadata struct {
	XMLName    xml.Name `xml:"metadata"`
	GroupID    string   `xml:"groupId"`
	ArtifactID string   `xml:"artifactId"`
	Version    string   `xml:"version"`
	Versioning struct {
		Latest      string   `xml:"latest"`
		Release     string   `xml:"release"`
		Versions    []string `xml:"versions>version"`
		LastUpdated string   `xml:"lastUpdated"`
		Snapshot    struct {
			Timestamp   string `xml:"timestamp"`
			BuildNumber int    `xml:"buildNumber"`
			LocalCopy   bool   `xml:"localCopy"`
		} `xml:"snapshot"`
		SnapshotVersions []MavenSnapshotVersion `xml:"snapshotVersions>snapshotVersion"`
	} `xml:"versioning"`
	Plugins []struct {
		Name       string `xml:"name"`
		Prefix     string `xml:"prefix"`
		ArtifactID string `xml:"artifactId"`
	} `xml:"plugins>plugin"`
}

// MavenSnapshotVersion is one file of a SNAPSHOT version's latest build.
type MavenSnapshotVersion struct {
	Classifier string `xml:"classifier"`
	Extension  string `xml:"extension"`
	Value      string `xml:"value"`
	Updated    string `xml:"updated"`
}

// ParseMavenMetadata decodes a maven-metadata.xml; bad XML fails the test.
func ParseMavenMetadata(t testing.TB, b []byte) *MavenMetadata {
	t.Helper()
	var m MavenMetadata
	if err := xml.Unmarshal(b, &m); err != nil {
		t.Fatalf("maven-metadata.xml: %v\n%s", err, b)
	}
	return &m
}

// SnapshotValue is the value of the snapshotVersion with this extension and
// classifier, or "".
func (m *MavenMetadata) SnapshotValue(extension, classifier string) string {
	i := slices.IndexFunc(m.Versioning.SnapshotVersions, func(v MavenSnapshotVersion) bool {
		return v.Extension == extension && v.Classifier == classifier
	})
	if i < 0 {
		return ""
	}
	return m.Versioning.SnapshotVersions[i].Value
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

func xmlText(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
