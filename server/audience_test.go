package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pkgreg/registry/ent/member"
	"github.com/pkgreg/registry/ent/namespace"
	"github.com/pkgreg/registry/ent/user"
	"github.com/pkgreg/registry/server/registry/enum"
	"github.com/pkgreg/registry/server/servertest"
)

// The audience of an upstream's packages through a virtual project: a link
// never lets anyone reach readers the upstream does not admit, unless a
// current MAINTAINER of the upstream approved it for the virtual project's
// visibility. Checked at configuration and on every read.

// audEnv is a registry with mia, MAINTAINER of the private group ga (so of
// its private project ga/pa, which holds secret/1.0/s.bin), and carol,
// GUEST of ga/pa, who owns the group gb.
type audEnv struct {
	*servertest.Env
	t           *testing.T
	g           gen
	mia, carol  string
	root        string
	secretBytes []byte
}

func newAudEnv(t *testing.T) *audEnv {
	t.Helper()
	e := servertest.New(t)
	a := &audEnv{Env: e, t: t, g: gen{e, t}, root: servertest.RootToken, secretBytes: []byte("the private bits")}
	a.mia = e.CreateUser(t, "mia")
	a.carol = e.CreateUser(t, "carol")
	e.CreateGroup(t, a.root, "", "ga", "PUBLIC")
	e.CreateProject(t, a.root, "ga", "pa", "PRIVATE")
	e.AddMember(t, a.root, "ga", "mia", "MAINTAINER")
	e.AddMember(t, a.root, "ga/pa", "carol", "GUEST")
	e.CreateGroup(t, a.carol, "", "gb", "PUBLIC")
	if status, body := a.g.put(tok(a.mia), "ga%2Fpa", "secret/1.0/s.bin", a.secretBytes); status != 201 {
		t.Fatalf("publish to ga/pa: %d %s", status, body)
	}
	return a
}

// virtual creates a VIRTUAL generic project.
func (a *audEnv) virtual(token, ns, path, visibility string) {
	a.t.Helper()
	a.CreateProjectWith(a.t, token, servertest.Project{Namespace: ns, Path: path, Mode: "VIRTUAL", Format: "GENERIC", Visibility: visibility})
}

func (a *audEnv) setVisibility(token, project, visibility string) {
	a.t.Helper()
	a.MustGraphQL(a.t, token, `mutation($p: ID!, $v: Visibility) { updateProject(input: {fullPath: $p, visibility: $v}) { errors } }`,
		map[string]any{"p": project, "v": visibility})
}

// link sets the virtual project's upstream list to the one project.
func (a *audEnv) link(token, virtual, upstream string, priority int) *servertest.GQLResponse {
	a.t.Helper()
	return setUpstreams(a.t, a.Env, token, virtual, []map[string]any{{"id": "up", "repositoryPath": upstream, "priority": priority}})
}

// read downloads the secret through a project and says what the reader got.
func (a *audEnv) read(headers map[string]string, project, rest string) string {
	a.t.Helper()
	status, body, h := a.g.get(headers, strings.ReplaceAll(project, "/", "%2F"), rest)
	if status != 200 {
		return fmt.Sprint(status)
	}
	return fmt.Sprintf("200 %q from %q", body, h.Get("X-Registry-Upstream"))
}

// listed is what GET /projects/:id/packages shows the reader, as name@version.
func (a *audEnv) listed(headers map[string]string, project string) string {
	a.t.Helper()
	status, body, _ := a.Do(a.t, "GET", "/api/v4/projects/"+strings.ReplaceAll(project, "/", "%2F")+"/packages", nil, headers)
	if status != 200 {
		return fmt.Sprint(status)
	}
	var pkgs []struct{ Name, Version string }
	if err := json.Unmarshal(body, &pkgs); err != nil {
		a.t.Fatalf("listing %s: %v: %s", project, err, body)
	}
	var out []string
	for _, p := range pkgs {
		out = append(out, p.Name+"@"+p.Version)
	}
	return "[" + strings.Join(out, " ") + "]"
}

// policies is the virtual project's configuration as the caller sees it.
func (a *audEnv) policies(token, virtual string) string {
	a.t.Helper()
	r := a.MustGraphQL(a.t, token, `query($p: ID!) { project(fullPath: $p) { virtualRepositoryConfig { upstreamPolicies { id effective repository { fullPath } } } } }`,
		map[string]any{"p": virtual})
	var out struct {
		Project struct {
			VirtualRepositoryConfig struct {
				UpstreamPolicies []struct {
					ID         string
					Effective  bool
					Repository *struct{ FullPath string }
				}
			}
		}
	}
	r.Decode(a.t, &out)
	var s []string
	for _, p := range out.Project.VirtualRepositoryConfig.UpstreamPolicies {
		repo := "-"
		if p.Repository != nil {
			repo = p.Repository.FullPath
		}
		s = append(s, fmt.Sprintf("%s:%s:effective=%v", p.ID, repo, p.Effective))
	}
	return strings.Join(s, " ")
}

// setRole changes or (level NoAccess) removes a user's membership of a
// group directly in the database: the API has no mutation for either yet, and an
// administrator doing it is what the read path must notice.
func (a *audEnv) setRole(username, group string, level enum.AccessLevel) {
	a.t.Helper()
	ctx := context.Background()
	db := a.Server.DB
	u := db.User.Query().Where(user.Username(username)).OnlyX(ctx)
	ns := db.Namespace.Query().Where(namespace.FullPath(group)).OnlyX(ctx)
	q := member.And(member.UserID(u.ID), member.NamespaceID(ns.ID))
	if level == enum.NoAccess {
		if n := db.Member.Delete().Where(q).ExecX(ctx); n != 1 {
			a.t.Fatalf("removing %s from %s: %d rows", username, group, n)
		}
		return
	}
	if n := db.Member.Update().Where(q).SetAccessLevel(level).SaveX(ctx); n != 1 {
		a.t.Fatalf("changing %s on %s: %d rows", username, group, n)
	}
}

const secretPath = "secret/1.0/s.bin"

// Issue 11, item 3: carol, GUEST of the private ga/pa, cannot publish it to
// the world through a public virtual project of her own.
func TestAudienceGuestCannotPublishPrivateUpstream(t *testing.T) {
	a := newAudEnv(t)
	a.virtual(a.carol, "carol", "mirror", "PUBLIC")
	r := a.link(a.carol, "carol/mirror", "ga/pa", 1)
	if r.Code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "needs the MAINTAINER role on it") ||
		!strings.Contains(r.Errors[0].Message, "ga/pa is PRIVATE and carol/mirror is PUBLIC") {
		t.Fatalf("carol linking private ga/pa into her public project: %s %+v", r.Data, r.Errors)
	}
	if got := a.read(nil, "carol/mirror", secretPath); got != "404" {
		t.Fatalf("anonymous download through carol/mirror: %s", got)
	}
	if got := a.listed(nil, "carol/mirror"); got != "[]" {
		t.Fatalf("anonymous listing of carol/mirror: %s", got)
	}
	// A private virtual project is no better: its members are not ga/pa's.
	a.virtual(a.carol, "carol", "quiet", "PRIVATE")
	if r := a.link(a.carol, "carol/quiet", "ga/pa", 1); r.Code() != "FORBIDDEN" {
		t.Fatalf("carol linking ga/pa into her private project: %s %+v", r.Data, r.Errors)
	}
	// Nothing was stored by the refused changes.
	if got := a.policies(a.carol, "carol/mirror") + a.policies(a.carol, "carol/quiet"); got != "" {
		t.Fatalf("refused links were saved: %s", got)
	}
}

// A link made by a MAINTAINER of the upstream serves while that person holds
// the role, and stops at once (downloads 404, listings empty) when they are
// demoted or removed; the virtual project's own maintainers may still reorder
// the list without breaking it.
func TestAudienceApproverLosesRole(t *testing.T) {
	a := newAudEnv(t)
	a.virtual(a.carol, "gb", "share", "PUBLIC")
	a.AddMember(t, a.carol, "gb/share", "mia", "MAINTAINER")
	if errs := payloadErrors(t, a.link(a.mia, "gb/share", "ga/pa", 1), "updateVirtualRepositoryUpstreams"); len(errs) > 0 {
		t.Fatalf("mia linking ga/pa: %v", errs)
	}
	// The world reads it, on mia's authority (she could make ga/pa public).
	// Item 4: anonymous callers see the policy id, not the private path.
	if got := a.read(nil, "gb/share", secretPath); got != `200 "the private bits" from "up"` {
		t.Fatalf("anonymous download approved by mia: %s", got)
	}
	if got := a.read(tok(a.mia), "gb/share", secretPath); got != `200 "the private bits" from "ga/pa"` {
		t.Fatalf("mia's download: %s", got)
	}
	if got := a.listed(nil, "gb/share"); got != "[secret@1.0]" {
		t.Fatalf("anonymous listing: %s", got)
	}
	// carol (OWNER of gb, GUEST of ga/pa) may change the priority: mia's
	// approval stays with the link.
	if errs := payloadErrors(t, a.link(a.carol, "gb/share", "ga/pa", 7), "updateVirtualRepositoryUpstreams"); len(errs) > 0 {
		t.Fatalf("carol re-saving mia's link: %v", errs)
	}
	if got := a.policies(a.carol, "gb/share"); got != "up:ga/pa:effective=true" {
		t.Fatalf("policies: %s", got)
	}

	a.setRole("mia", "ga", enum.Developer)
	if got := a.read(nil, "gb/share", secretPath); got != "404" {
		t.Fatalf("anonymous download after mia's demotion: %s", got)
	}
	if got := a.read(tok(a.carol), "gb/share", secretPath); got != "404" {
		t.Fatalf("carol's download through gb/share after mia's demotion: %s", got)
	}
	if got := a.listed(nil, "gb/share"); got != "[]" {
		t.Fatalf("anonymous listing after mia's demotion: %s", got)
	}
	// Still listed for gb/share's maintainers, marked as not in effect.
	if got := a.policies(a.carol, "gb/share"); got != "up:ga/pa:effective=false" {
		t.Fatalf("policies after the demotion: %s", got)
	}
	if r := a.link(a.carol, "gb/share", "ga/pa", 1); r.Code() != "FORBIDDEN" {
		t.Fatalf("carol re-saving a link whose approver lost the role: %s %+v", r.Data, r.Errors)
	}
	// mia's own read of ga/pa is untouched: a DEVELOPER reads directly.
	if got := a.read(tok(a.mia), "ga/pa", secretPath); got != `200 "the private bits" from "ga/pa"` {
		t.Fatalf("mia reading ga/pa directly: %s", got)
	}

	// The check is live, not a snapshot: the role back, the link back.
	a.setRole("mia", "ga", enum.Maintainer)
	if got := a.read(nil, "gb/share", secretPath); got != `200 "the private bits" from "up"` {
		t.Fatalf("anonymous download after mia's promotion: %s", got)
	}
	a.setRole("mia", "ga", enum.NoAccess)
	if got := a.read(nil, "gb/share", secretPath); got != "404" {
		t.Fatalf("anonymous download after mia's removal from ga: %s", got)
	}
	if got := a.listed(nil, "gb/share"); got != "[]" {
		t.Fatalf("anonymous listing after mia's removal: %s", got)
	}
}

// An upstream linked because it was public stops serving when it becomes
// private: the rule is evaluated on every read.
func TestAudienceUpstreamMadeLessVisible(t *testing.T) {
	a := newAudEnv(t)
	a.CreateProject(t, a.root, "ga", "pub", "PUBLIC")
	if status, body := a.g.put(tok(a.mia), "ga%2Fpub", "open/1.0/o.bin", []byte("open")); status != 201 {
		t.Fatalf("publish to ga/pub: %d %s", status, body)
	}
	a.virtual(a.carol, "carol", "mirror", "PUBLIC")
	// carol has no role on ga/pub; its visibility admits everyone.
	if errs := payloadErrors(t, a.link(a.carol, "carol/mirror", "ga/pub", 1), "updateVirtualRepositoryUpstreams"); len(errs) > 0 {
		t.Fatalf("carol linking public ga/pub: %v", errs)
	}
	if got := a.read(nil, "carol/mirror", "open/1.0/o.bin"); got != `200 "open" from "ga/pub"` {
		t.Fatalf("anonymous download of a public upstream: %s", got)
	}
	a.setVisibility(a.mia, "ga/pub", "PRIVATE")
	for who, h := range map[string]map[string]string{"anonymous": nil, "carol": tok(a.carol)} {
		if got := a.read(h, "carol/mirror", "open/1.0/o.bin"); got != "404" {
			t.Fatalf("%s downloading after ga/pub became private: %s", who, got)
		}
		if got := a.listed(h, "carol/mirror"); got != "[]" {
			t.Fatalf("%s listing after ga/pub became private: %s", who, got)
		}
	}
	if got := a.policies(a.carol, "carol/mirror"); got != "up:-:effective=false" {
		t.Fatalf("policies after ga/pub became private: %s", got)
	}
	// mia, who may read it, still does (directly).
	if got := a.read(tok(a.mia), "ga/pub", "open/1.0/o.bin"); !strings.HasPrefix(got, "200") {
		t.Fatalf("mia reading ga/pub: %s", got)
	}
}

// A private upstream approved for a private virtual project is not thereby
// approved for the world: when the virtual project becomes public, the link
// is suspended (even though its approver is still a MAINTAINER of the
// upstream) until such a person saves the list again. Members of the
// virtual project who cannot read the upstream see the policy id only.
func TestAudienceVirtualMadeMoreVisible(t *testing.T) {
	a := newAudEnv(t)
	rita := a.CreateUser(t, "rita")
	a.virtual(a.carol, "gb", "team", "PRIVATE")
	a.AddMember(t, a.carol, "gb/team", "mia", "MAINTAINER")
	a.AddMember(t, a.carol, "gb/team", "rita", "REPORTER")
	deploy, _ := cgDeployToken(t, a.Env, a.carol, "gb/team", "READ_PACKAGE_REGISTRY")
	if errs := payloadErrors(t, a.link(a.mia, "gb/team", "ga/pa", 1), "updateVirtualRepositoryUpstreams"); len(errs) > 0 {
		t.Fatalf("mia linking ga/pa into private gb/team: %v", errs)
	}
	// Teams share through the virtual project: rita needs nothing on ga/pa,
	// and neither does gb/team's deploy token (mia approved the link).
	if got := a.read(tok(rita), "gb/team", secretPath); got != `200 "the private bits" from "up"` {
		t.Fatalf("rita's download: %s", got)
	}
	if got := a.read(map[string]string{"Deploy-Token": deploy}, "gb/team", secretPath); got != `200 "the private bits" from "up"` {
		t.Fatalf("deploy token's download: %s", got)
	}
	if got := a.read(nil, "gb/team", secretPath); got != "401" {
		t.Fatalf("anonymous download from private gb/team: %s", got)
	}

	a.setVisibility(a.carol, "gb/team", "PUBLIC")
	for who, h := range map[string]map[string]string{"anonymous": nil, "rita": tok(rita), "carol": tok(a.carol)} {
		if got := a.read(h, "gb/team", secretPath); got != "404" {
			t.Fatalf("%s downloading after gb/team became public: %s", who, got)
		}
		if got := a.listed(h, "gb/team"); got != "[]" {
			t.Fatalf("%s listing after gb/team became public: %s", who, got)
		}
	}
	if got := a.policies(a.carol, "gb/team"); got != "up:ga/pa:effective=false" {
		t.Fatalf("policies after gb/team became public: %s", got)
	}
	// carol cannot renew the approval; mia can, and then the world reads.
	if r := a.link(a.carol, "gb/team", "ga/pa", 1); r.Code() != "FORBIDDEN" {
		t.Fatalf("carol re-approving ga/pa for public gb/team: %s %+v", r.Data, r.Errors)
	}
	if errs := payloadErrors(t, a.link(a.mia, "gb/team", "ga/pa", 1), "updateVirtualRepositoryUpstreams"); len(errs) > 0 {
		t.Fatalf("mia re-approving: %v", errs)
	}
	if got := a.read(nil, "gb/team", secretPath); got != `200 "the private bits" from "up"` {
		t.Fatalf("anonymous download after mia approved the public audience: %s", got)
	}
	if got := a.listed(nil, "gb/team"); got != "[secret@1.0]" {
		t.Fatalf("anonymous listing after mia's approval: %s", got)
	}
}

// An INTERNAL upstream linked without an approval serves signed-in people
// only: not the virtual project's deploy tokens, and not anonymous callers
// of a public virtual project (which cannot link it at all).
func TestAudienceInternalUpstreamAndTokens(t *testing.T) {
	a := newAudEnv(t)
	rita := a.CreateUser(t, "rita")
	a.CreateProject(t, a.root, "ga", "inner", "INTERNAL")
	if status, body := a.g.put(tok(a.mia), "ga%2Finner", "inner/1.0/i.bin", []byte("inner")); status != 201 {
		t.Fatalf("publish to ga/inner: %d %s", status, body)
	}
	a.virtual(a.carol, "gb", "team", "PRIVATE")
	a.AddMember(t, a.carol, "gb/team", "rita", "REPORTER")
	deploy, _ := cgDeployToken(t, a.Env, a.carol, "gb/team", "READ_PACKAGE_REGISTRY")
	dt := map[string]string{"Deploy-Token": deploy}
	// carol, signed in, may read ga/inner, and so may every reader of
	// private gb/team who is a person.
	if errs := payloadErrors(t, a.link(a.carol, "gb/team", "ga/inner", 1), "updateVirtualRepositoryUpstreams"); len(errs) > 0 {
		t.Fatalf("carol linking internal ga/inner into private gb/team: %v", errs)
	}
	if got := a.read(tok(rita), "gb/team", "inner/1.0/i.bin"); got != `200 "inner" from "ga/inner"` {
		t.Fatalf("rita's download of an internal upstream: %s", got)
	}
	if got := a.read(dt, "gb/team", "inner/1.0/i.bin"); got != "404" {
		t.Fatalf("deploy token downloading an internal upstream carol linked: %s", got)
	}
	if got := a.listed(dt, "gb/team"); got != "[]" {
		t.Fatalf("deploy token listing: %s", got)
	}
	// mia's approval extends it to gb/team's tokens.
	if r := a.link(a.mia, "gb/team", "ga/inner", 1); r.Code() != "NOT_FOUND" {
		t.Fatalf("mia, no member of private gb/team, changing its upstreams: %s %+v", r.Data, r.Errors)
	}
	a.AddMember(t, a.carol, "gb/team", "mia", "MAINTAINER")
	if errs := payloadErrors(t, a.link(a.mia, "gb/team", "ga/inner", 1), "updateVirtualRepositoryUpstreams"); len(errs) > 0 {
		t.Fatalf("mia approving ga/inner: %v", errs)
	}
	if got := a.read(dt, "gb/team", "inner/1.0/i.bin"); got != `200 "inner" from "up"` {
		t.Fatalf("deploy token after mia's approval: %s", got)
	}
	// A public virtual project: carol may not link an internal upstream.
	a.virtual(a.carol, "carol", "mirror", "PUBLIC")
	if r := a.link(a.carol, "carol/mirror", "ga/inner", 1); r.Code() != "FORBIDDEN" {
		t.Fatalf("carol linking internal ga/inner into public carol/mirror: %s %+v", r.Data, r.Errors)
	}
}

// Issue 11, item 4: X-Registry-Upstream names a private upstream only to
// callers who may read it; others see the policy id. Public upstreams are
// named to everyone.
func TestAudienceUpstreamHeader(t *testing.T) {
	a := newAudEnv(t)
	rita := a.CreateUser(t, "rita")
	a.virtual(a.mia, "ga", "all", "PUBLIC")
	a.AddMember(t, a.root, "ga/all", "rita", "REPORTER")
	if errs := payloadErrors(t, a.link(a.mia, "ga/all", "ga/pa", 1), "updateVirtualRepositoryUpstreams"); len(errs) > 0 {
		t.Fatalf("mia linking: %v", errs)
	}
	for who, c := range map[string]struct {
		h    map[string]string
		want string
	}{
		"anonymous":                 {nil, "up"},
		"rita (member of ga/all)":   {tok(rita), "up"},
		"carol (GUEST of ga/pa)":    {tok(a.carol), "ga/pa"},
		"mia (MAINTAINER of ga/pa)": {tok(a.mia), "ga/pa"},
	} {
		if got := a.read(c.h, "ga/all", secretPath); got != `200 "the private bits" from "`+c.want+`"` {
			t.Errorf("%s: %s, want the upstream named %q", who, got, c.want)
		}
		// HEAD carries the same headers.
		status, _, h := a.Do(t, "HEAD", a.g.url("ga%2Fall", secretPath), nil, c.h)
		if status != 200 || h.Get("X-Registry-Upstream") != c.want {
			t.Errorf("%s HEAD: %d from %q", who, status, h.Get("X-Registry-Upstream"))
		}
	}
}

// The audience check costs a constant number of queries per request,
// however many upstreams need an approval (mia's, for each private
// upstream of the public ga/all).
func TestAudienceQueriesDoNotGrowWithUpstreams(t *testing.T) {
	a := newAudEnv(t)
	a.virtual(a.mia, "ga", "all", "PUBLIC")
	var policies []map[string]any
	queries := func(n int) int64 {
		for i := len(policies); i < n; i++ {
			path := fmt.Sprintf("p%d", i)
			a.CreateProject(t, a.root, "ga", path, "PRIVATE")
			if status, body := a.g.put(tok(a.mia), "ga%2F"+path, "tool/1.0/t.bin", []byte(path)); status != 201 {
				t.Fatalf("publish to ga/%s: %d %s", path, status, body)
			}
			policies = append(policies, map[string]any{"id": path, "repositoryPath": "ga/" + path, "priority": i})
		}
		if errs := payloadErrors(t, setUpstreams(t, a.Env, a.mia, "ga/all", policies), "updateVirtualRepositoryUpstreams"); len(errs) > 0 {
			t.Fatalf("linking %d upstreams: %v", n, errs)
		}
		a.Queries.Store(0)
		want := fmt.Sprintf(`200 "p%d" from "p%d"`, n-1, n-1)
		if got := a.read(nil, "ga/all", "tool/1.0/t.bin"); got != want {
			t.Fatalf("anonymous download through %d approved upstreams: %s, want %s", n, got, want)
		}
		if got := a.listed(nil, "ga/all"); got != "[tool@1.0]" {
			t.Fatalf("anonymous listing through %d approved upstreams: %s", n, got)
		}
		return a.Queries.Load()
	}
	small := queries(2)
	if large := queries(10); large != small {
		t.Fatalf("queries for a download and a listing through a public virtual project: 2 private upstreams %d, 10: %d", small, large)
	}
	t.Logf("a download and a listing through a public virtual project over private upstreams: %d queries", small)
}

// The PyPI simple page names the upstreams it merged the same way.
func TestAudiencePyPIPageHeader(t *testing.T) {
	a := newAudEnv(t)
	up := createPyPIProject(t, a.Env, a.mia, "ga", "pyu", "STANDARD", "")
	virt := createPyPIProject(t, a.Env, a.mia, "ga", "pyall", "VIRTUAL", "")
	a.setVisibility(a.mia, "ga/pyall", "PUBLIC")
	body, ctype := pypiForm(t, map[string]string{"name": "lib", "version": "1.0"}, "lib-1.0.tar.gz", []byte("lib"))
	if status, out, _ := a.Do(t, "POST", fmt.Sprintf("/api/v4/projects/%d/packages/pypi", up), strings.NewReader(string(body)),
		map[string]string{"PRIVATE-TOKEN": a.mia, "Content-Type": ctype}); status != 201 {
		t.Fatalf("upload: %d %s", status, out)
	}
	if errs := payloadErrors(t, a.link(a.mia, "ga/pyall", "ga/pyu", 1), "updateVirtualRepositoryUpstreams"); len(errs) > 0 {
		t.Fatalf("mia linking: %v", errs)
	}
	for who, c := range map[string]struct {
		h    map[string]string
		want string
	}{"anonymous": {nil, "up"}, "mia": {tok(a.mia), "ga/pyu"}} {
		status, page, h := a.Do(t, "GET", fmt.Sprintf("/api/v4/projects/%d/packages/pypi/simple/lib/", virt), nil, c.h)
		if status != 200 || !strings.Contains(string(page), "lib-1.0.tar.gz") || h.Get("X-Registry-Upstream") != c.want {
			t.Errorf("%s: %d from %q, want %q: %s", who, status, h.Get("X-Registry-Upstream"), c.want, page)
		}
	}
}
