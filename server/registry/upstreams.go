package registry

import (
	"context"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/remotedocument"
	"github.com/pkgreg/registry/ent/upstream"
	"github.com/pkgreg/registry/server/registry/enum"
)

const (
	maxUpstreams    = 100
	maxUpstreamPrio = 1000000
)

// UpstreamPolicyInput is one entry of a virtual project's upstream list;
// ID is the caller's name for it, unique within the list.
type UpstreamPolicyInput struct {
	ID             string
	RepositoryPath string
	Priority       int
}

var policyIDRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9_.\-]{0,61}[a-z0-9])?$`)

// Upstreams returns a virtual project's policies in resolution order, each
// with its upstream project loaded.
//
// Resolution order, the one rule every format follows: higher priority
// first; at equal priority a STANDARD upstream before a REMOTE one (the
// dependency-confusion guard: a public package never shadows a private one
// unless someone set a higher priority on purpose); then by policy id, so
// that equal priorities resolve deterministically.
func (pr *Projects) Upstreams(ctx context.Context, virtual *ent.Project) ([]*ent.Upstream, error) {
	ups, err := pr.s.db.Upstream.Query().Where(upstream.VirtualProjectID(virtual.ID)).WithUpstreamProject().All(ctx)
	if err != nil {
		return nil, Internal(err, "could not read upstreams")
	}
	sort.SliceStable(ups, func(i, j int) bool {
		a, b := ups[i], ups[j]
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		am, bm := a.Edges.UpstreamProject.RepositoryMode, b.Edges.UpstreamProject.RepositoryMode
		if am != bm {
			return am == enum.Standard
		}
		return a.PolicyID < b.PolicyID
	})
	return ups, nil
}

// UpdateVirtualUpstreams replaces a virtual project's upstream list
// atomically. The caller needs MAINTAINER on the virtual project and must
// be able to read the packages of every upstream: nobody exposes a
// repository they cannot read. An upstream less visible than the virtual
// project also needs an approval (audience.go): the caller's, as a person
// with MAINTAINER or higher on it, or one the link already carries that
// still holds (so V's maintainers may reorder what U's maintainers linked).
func (pr *Projects) UpdateVirtualUpstreams(ctx context.Context, p *Principal, projectPath string, in []UpstreamPolicyInput) ([]*UpstreamPolicy, error) {
	pa, err := pr.s.projectForAdmin(ctx, p, projectPath, enum.Maintainer, "changing upstreams")
	if err != nil {
		return nil, err
	}
	virtual := pa.Project
	if virtual.RepositoryMode != enum.Virtual {
		return nil, Invalid("%s is not a VIRTUAL project", virtual.FullPath)
	}
	if len(in) > maxUpstreams {
		return nil, Invalid("a virtual project has at most %d upstreams", maxUpstreams)
	}
	seenIDs, seenProjects := map[string]bool{}, map[int]bool{}
	targets := make([]*ent.Project, len(in))
	callerApproves := make([]bool, len(in))
	for i, pol := range in {
		if pol.Priority < 0 || pol.Priority > maxUpstreamPrio {
			return nil, Invalid("priority %d is outside 0..%d", pol.Priority, maxUpstreamPrio)
		}
		if !policyIDRe.MatchString(pol.ID) {
			return nil, Invalid("policy id %q must be 1-63 lower-case letters, digits, '-', '_' or '.'", pol.ID)
		}
		if seenIDs[pol.ID] {
			return nil, Invalid("policy id %q is listed twice", pol.ID)
		}
		seenIDs[pol.ID] = true
		if err := validateFullPath("repositoryPath", pol.RepositoryPath); err != nil {
			return nil, err
		}
		up, err := pr.s.Project(ctx, p, pol.RepositoryPath)
		if err != nil {
			return nil, err
		}
		if err := pr.s.CanReadPackages(p, up); err != nil {
			return nil, Forbidden("you cannot add %s as an upstream: you may not read its packages", up.Project.FullPath)
		}
		switch t := up.Project; {
		case t.ID == virtual.ID:
			return nil, Invalid("a virtual project cannot be its own upstream")
		case t.RepositoryMode == enum.Virtual:
			return nil, Invalid("%s is VIRTUAL; virtual projects cannot be nested", t.FullPath)
		case seenProjects[t.ID]:
			return nil, Invalid("%s is listed twice", t.FullPath)
		case t.Format != nil && virtual.Format != nil && *t.Format != *virtual.Format:
			return nil, Invalid("%s serves %s packages; this virtual project serves %s", t.FullPath, *t.Format, *virtual.Format)
		}
		seenProjects[up.Project.ID] = true
		targets[i] = up.Project
		callerApproves[i] = p.signedInPerson() && p.User.ID > 0 && up.Level >= enum.Maintainer
	}
	approvals, err := pr.upstreamApprovals(ctx, p, virtual, targets, callerApproves)
	if err != nil {
		return nil, err
	}
	err = pr.s.RetryTx(ctx, func(tx *ent.Tx) error {
		if _, err := tx.Upstream.Delete().Where(upstream.VirtualProjectID(virtual.ID)).Exec(ctx); err != nil {
			return err
		}
		for i, pol := range in {
			c := tx.Upstream.Create().SetVirtualProjectID(virtual.ID).SetUpstreamProjectID(targets[i].ID).
				SetPolicyID(pol.ID).SetPriority(pol.Priority)
			if a := approvals[i]; a != nil {
				c.SetCreatedByID(a.userID).SetApprovedVisibility(a.visibility)
			}
			err := c.Exec(ctx)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pr.s.UpstreamPolicies(ctx, virtual)
}

// approval is who approved a link and for which visibility of the virtual
// project.
type approval struct {
	userID     int
	visibility enum.Visibility
}

// upstreamApprovals decides, for each new link to targets[i], the approval
// it is saved with: none when the upstream's visibility serves all of the
// virtual project's readers; the caller's when they may give it; else the
// one the existing link carries, if it still holds. A link that would then
// serve none of the virtual project's readers is refused, naming the rule.
func (pr *Projects) upstreamApprovals(ctx context.Context, p *Principal, virtual *ent.Project, targets []*ent.Project, callerApproves []bool) ([]*approval, error) {
	out := make([]*approval, len(targets))
	existing, err := pr.s.db.Upstream.Query().Where(upstream.VirtualProjectID(virtual.ID)).All(ctx)
	if err != nil {
		return nil, Internal(err, "could not read upstreams")
	}
	prev := map[int]*ent.Upstream{}
	for _, e := range existing {
		prev[e.UpstreamProjectID] = e
	}
	var checks []roleCheck
	var idx []int
	for i, t := range targets {
		switch e := prev[t.ID]; {
		case reachByVisibility(virtual, t) == reachAll:
		case callerApproves[i]:
			out[i] = &approval{userID: p.User.ID, visibility: virtual.Visibility}
		case e != nil && approvalCovers(e, virtual):
			checks = append(checks, roleCheck{userID: *e.CreatedByID, project: t})
			idx = append(idx, i)
		}
	}
	ok, err := pr.s.maintainers(ctx, checks)
	if err != nil {
		return nil, err
	}
	for j, i := range idx {
		if ok[j] {
			e := prev[targets[i].ID]
			out[i] = &approval{userID: *e.CreatedByID, visibility: *e.ApprovedVisibility}
		}
	}
	for i, t := range targets {
		if out[i] == nil && reachByVisibility(virtual, t) == reachNone {
			return nil, Forbidden("you cannot add %s as an upstream of %s: %s is %s and %s is %s, and readers of a virtual project need no access to its upstreams; "+
				"linking a project whose visibility does not admit the virtual project's readers needs the MAINTAINER role on it (with a personal access token)",
				t.FullPath, virtual.FullPath, t.FullPath, strings.ToUpper(string(t.Visibility)), virtual.FullPath, strings.ToUpper(string(virtual.Visibility)))
		}
	}
	return out, nil
}

// RemoteConfigInput holds changes to a REMOTE project (nil: unchanged).
type RemoteConfigInput struct {
	URL              *string
	CacheTTLSeconds  *int
	ServeStale       *bool
	Username         *string
	Password         *string
	ClearCredentials bool
}

const maxCacheTTLSeconds = 365 * 24 * 3600

// UpdateRemoteConfig changes a REMOTE project's upstream settings.
// MAINTAINER. Credentials are sealed and never returned.
func (pr *Projects) UpdateRemoteConfig(ctx context.Context, p *Principal, projectPath string, in RemoteConfigInput) (*ent.Project, error) {
	pa, err := pr.s.projectForAdmin(ctx, p, projectPath, enum.Maintainer, "changing the remote configuration")
	if err != nil {
		return nil, err
	}
	prj := pa.Project
	if prj.RepositoryMode != enum.Remote {
		return nil, Invalid("%s is not a REMOTE project", prj.FullPath)
	}
	u := prj.Update()
	if in.URL != nil {
		if err := validateRemoteURL(*in.URL); err != nil {
			return nil, err
		}
		if pointsAtItself(*in.URL, prj) {
			return nil, Invalid("remoteUrl points at this project itself")
		}
		if err := pr.s.Remote.checkRemoteHost(ctx, *in.URL); err != nil {
			return nil, err
		}
		u.SetRemoteURL(*in.URL)
	}
	if in.CacheTTLSeconds != nil {
		if *in.CacheTTLSeconds < 0 || *in.CacheTTLSeconds > maxCacheTTLSeconds {
			return nil, Invalid("cacheTtlSeconds must be between 0 and %d", maxCacheTTLSeconds)
		}
		u.SetRemoteCacheTTLSeconds(*in.CacheTTLSeconds)
	}
	if in.ServeStale != nil {
		u.SetRemoteServeStale(*in.ServeStale)
	}
	if in.ClearCredentials {
		if in.Username != nil || in.Password != nil {
			return nil, Invalid("pass either clearCredentials or new credentials, not both")
		}
		u.ClearRemoteUsername().ClearRemoteSecret()
	}
	if in.Username != nil {
		u.SetRemoteUsername(*in.Username)
	}
	if in.Password != nil {
		if len(*in.Password) > 4096 {
			return nil, Invalid("remotePassword is too long")
		}
		u.SetRemoteSecret(pr.s.sealer.seal([]byte(*in.Password)))
	}
	prj, err = u.Save(ctx)
	if err != nil {
		return nil, DBError(err, "")
	}
	if in.URL != nil {
		// Documents cached from the old upstream say nothing about the new
		// one. (Cached files stay: they were verified when stored.)
		if _, err := pr.s.db.RemoteDocument.Delete().Where(remotedocument.ProjectID(prj.ID)).Exec(ctx); err != nil {
			return nil, Internal(err, "could not clear the remote cache")
		}
	}
	return prj, nil
}

// pointsAtItself reports an upstream URL that names this very project on
// any host: a remote project reading from itself would loop.
func pointsAtItself(raw string, prj *ent.Project) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	path := u.EscapedPath()
	for _, ref := range []string{strconv.Itoa(prj.ID), url.PathEscape(prj.FullPath), strings.ReplaceAll(url.PathEscape(prj.FullPath), "%2F", "%2f")} {
		if strings.Contains(path, "/api/v4/projects/"+ref+"/") || strings.HasSuffix(path, "/api/v4/projects/"+ref) {
			return true
		}
	}
	return false
}
