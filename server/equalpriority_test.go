package server_test

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/packagefile"
	"github.com/pkgreg/registry/ent/pkg"
	"github.com/pkgreg/registry/server/servertest"
)

// upstreamTarball downloads name@version's tarball from the mirror's
// upstream registry directly.
func upstreamTarball(t *testing.T, m *npmMirror, name, version string) []byte {
	t.Helper()
	file := name[strings.LastIndex(name, "/")+1:] + "-" + version + ".tgz"
	status, body, _ := m.up.Do(t, "GET", npmPath(m.upRef, escName(name)+"/-/"+file), nil, tok(m.bob))
	if status != 200 {
		t.Fatalf("upstream tarball %s@%s: %d", name, version, status)
	}
	return body
}

// remoteFiles are the files of name@version cached in the mirror's REMOTE
// project (and only there).
func remoteFiles(t *testing.T, m *npmMirror, name, version string) []*ent.PackageFile {
	t.Helper()
	id, err := strconv.Atoi(m.remote)
	must0(t, err)
	fs, err := m.e.Server.DB.PackageFile.Query().
		Where(packagefile.HasPkgWith(pkg.ProjectID(id), pkg.Name(name), pkg.Version(version))).All(t.Context())
	must0(t, err)
	return fs
}

// npmPackument is the part of a packument these tests read.
type npmPackument struct {
	DistTags map[string]string `json:"dist-tags"`
	Versions map[string]struct {
		Dist struct{ Shasum, Tarball string }
	}
}

func getPackument(t *testing.T, e *servertest.Env, token, ref, name string) npmPackument {
	t.Helper()
	status, body, _ := e.Do(t, "GET", npmPath(ref, escName(name)), nil, tok(token))
	var p npmPackument
	if status != 200 || json.Unmarshal(body, &p) != nil {
		t.Fatalf("packument %s from %s: %d %s", name, ref, status, body)
	}
	return p
}

func versionsOf(p npmPackument) string {
	var vs []string
	for v := range p.Versions {
		vs = append(vs, v)
	}
	sort.Strings(vs)
	return fmt.Sprint(vs)
}

// TestNPMVirtualEqualPriorityStandardWins checks the dependency-confusion
// guard for npm where it matters: a STANDARD and a REMOTE upstream of the
// same priority, with the REMOTE's policy id sorting first. The private
// package owns its name, and the public registry's higher version of it is
// neither listed nor downloadable. The HTTP checks need no npm binary.
func TestNPMVirtualEqualPriorityStandardWins(t *testing.T) {
	m := newNPMMirror(t)
	e := m.e
	e.SetUpstreams(t, m.alice, "acme/npm-all",
		servertest.Upstream{ID: "a-public", Path: "acme/npm-remote", Priority: 10},
		servertest.Upstream{ID: "z-local", Path: "acme/js", Priority: 10},
	)
	m.publishUp(t, "internal-lib", "9.9.9")
	m.publishUp(t, "shared-lib", "1.2.0")
	benchPublish(t, e, m.alice, m.std, "internal-lib", "1.0.0", nil)

	p := getPackument(t, e, m.alice, m.virtual, "internal-lib")
	if versionsOf(p) != "[1.0.0]" || p.DistTags["latest"] != "1.0.0" {
		t.Fatalf("internal-lib through the virtual project: versions %s, tags %v", versionsOf(p), p.DistTags)
	}
	if status, _, _ := e.Do(t, "GET", npmPath(m.virtual, "internal-lib/-/internal-lib-9.9.9.tgz"), nil, tok(m.alice)); status != 404 {
		t.Fatalf("the public internal-lib 9.9.9 tarball through the virtual project: %d", status)
	}
	// A name only the public registry has still comes through.
	if p := getPackument(t, e, m.alice, m.virtual, "shared-lib"); versionsOf(p) != "[1.2.0]" {
		t.Fatalf("shared-lib through the virtual project: %s", versionsOf(p))
	}

	virt := newNPM(t, npmRegistry(e, m.virtual), m.alice)
	if got := virt.mustInstall("internal-lib"); got["internal-lib"] != "1.0.0" {
		t.Fatalf("npm install internal-lib through the virtual project: %v", got)
	}
}

// TestNPMVirtualMergesEqualUpstreams checks that upstreams of the same
// priority and kind form one tier whose versions merge: a name split over
// two private projects shows all its versions, and where both have a
// version, the first by policy id serves it (packument and tarball agree,
// so the client's integrity check passes).
func TestNPMVirtualMergesEqualUpstreams(t *testing.T) {
	m := newNPMMirror(t)
	e := m.e
	other := fmt.Sprint(e.CreateProject(t, m.alice, "acme", "js2", "PRIVATE"))
	e.SetUpstreams(t, m.alice, "acme/npm-all",
		servertest.Upstream{ID: "a-js", Path: "acme/js", Priority: 10},
		servertest.Upstream{ID: "b-js2", Path: "acme/js2", Priority: 10},
		servertest.Upstream{ID: "public", Path: "acme/npm-remote", Priority: 10},
	)
	benchPublish(t, e, m.alice, m.std, "split-lib", "1.0.0", nil)
	benchPublish(t, e, m.alice, m.std, "split-lib", "1.5.0", nil)
	benchPublish(t, e, m.alice, other, "split-lib", "1.5.0", map[string]string{"left-pad": "*"}) // other bytes
	benchPublish(t, e, m.alice, other, "split-lib", "2.0.0", nil)
	m.publishUp(t, "split-lib", "3.0.0") // the REMOTE is another kind: not merged

	p := getPackument(t, e, m.alice, m.virtual, "split-lib")
	if versionsOf(p) != "[1.0.0 1.5.0 2.0.0]" {
		t.Fatalf("merged versions: %s", versionsOf(p))
	}
	for v, from := range map[string]string{"1.0.0": m.std, "1.5.0": m.std, "2.0.0": other} {
		_, want, _ := e.Do(t, "GET", npmPath(from, "split-lib/-/split-lib-"+v+".tgz"), nil, tok(m.alice))
		status, got, _ := e.Do(t, "GET", npmPath(m.virtual, "split-lib/-/split-lib-"+v+".tgz"), nil, tok(m.alice))
		sum := sha1.Sum(got)
		if status != 200 || !bytes.Equal(got, want) || hex.EncodeToString(sum[:]) != p.Versions[v].Dist.Shasum {
			t.Fatalf("split-lib %s through the virtual project: %d, from project %s: %v, shasum %s vs packument %s",
				v, status, from, bytes.Equal(got, want), hex.EncodeToString(sum[:]), p.Versions[v].Dist.Shasum)
		}
	}
	if status, _, _ := e.Do(t, "GET", npmPath(m.virtual, "split-lib/-/split-lib-3.0.0.tgz"), nil, tok(m.alice)); status != 404 {
		t.Fatalf("the public split-lib 3.0.0 through the virtual project: %d", status)
	}
}

// TestGoVirtualEqualPriorityStandardWins is the same guard for Go modules:
// at equal priority, with the REMOTE's policy id first, the private
// module's versions are the only ones listed and served. Raw GOPROXY
// requests, no go command.
func TestGoVirtualEqualPriorityStandardWins(t *testing.T) {
	up := servertest.New(t)
	owner := up.CreateUser(t, "owner")
	up.CreateGroup(t, owner, "", "up", "PUBLIC")
	pubID := up.CreateProject(t, owner, "up", "pub", "PUBLIC")
	const greet, other = "example.com/acme/greet", "example.com/shared/other"
	mustGoPublish(t, up, owner, "up%2Fpub", greet, "v1.9.0", greetModule(t, greet, "v1.9.0", "hello from the impostor"))
	mustGoPublish(t, up, owner, "up%2Fpub", other, "v0.3.0", greetModule(t, other, "v0.3.0", "public"))

	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "team", "PRIVATE")
	e.CreateProject(t, alice, "team", "private", "PRIVATE")
	mustGoPublish(t, e, alice, "team%2Fprivate", greet, "v1.0.0", greetModule(t, greet, "v1.0.0", "hello from the private v1.0.0"))
	e.CreateRemoteProject(t, alice, "team", "mirror", "GOLANG", fmt.Sprintf("%s/api/v4/projects/%d/packages/go", up.URL, pubID))
	e.CreateVirtualProject(t, alice, "team", "all", "GOLANG")
	e.SetUpstreams(t, alice, "team/all",
		servertest.Upstream{ID: "a-mirror", Path: "team/mirror", Priority: 10},
		servertest.Upstream{ID: "z-private", Path: "team/private", Priority: 10},
	)
	all := strconv.Itoa(e.ProjectID(t, alice, "team/all"))
	get := func(modPath, rest string) (int, string) {
		t.Helper()
		status, body, _ := e.Do(t, "GET", goPath(all, modPath, rest), nil, tok(alice))
		return status, string(body)
	}
	if status, body := get(greet, "@v/list"); status != 200 || body != "v1.0.0\n" {
		t.Fatalf("%s versions through the virtual project: %d %q", greet, status, body)
	}
	if status, body := get(greet, "@latest"); status != 200 || !strings.Contains(body, `"Version":"v1.0.0"`) {
		t.Fatalf("%s@latest through the virtual project: %d %s", greet, status, body)
	}
	for _, rest := range []string{"@v/v1.9.0.info", "@v/v1.9.0.mod", "@v/v1.9.0.zip"} {
		if status, _ := get(greet, rest); status != 404 {
			t.Fatalf("the impostor's %s through the virtual project: %d", rest, status)
		}
	}
	// A module only the public side has still comes through.
	if status, body := get(other, "@v/list"); status != 200 || body != "v0.3.0\n" {
		t.Fatalf("%s versions through the virtual project: %d %q", other, status, body)
	}
}
