package registry

import (
	"context"
	"strings"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/member"
	"github.com/pkgreg/registry/ent/namespace"
	"github.com/pkgreg/registry/ent/user"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Who gets an upstream's packages through a virtual project.
//
// Readers of a virtual project V need no access to its upstreams (teams
// share through a virtual project), so linking an upstream U to V hands U's
// packages to V's readers. Nobody may widen the audience of a project's
// packages beyond what they could set directly, so a link V -> U serves a
// reader only if, evaluated on every read (not only when the link is
// saved, so that later changes of either visibility or of a role count at
// once):
//
//  1. U's visibility alone admits the reader: U is PUBLIC; or U is INTERNAL,
//     V is not PUBLIC and the reader is a signed-in person (INTERNAL never
//     reaches anonymous callers, nor deploy, job, project or group tokens,
//     not even V's own); or
//  2. the link was approved by a person who now holds MAINTAINER or higher
//     on U (directly, through a group, as owner of its personal namespace,
//     or as an administrator): someone who could make U that visible, or
//     add V's readers to U, themselves. The approval covers V's audience as
//     it was then: when V becomes more visible, the link is suspended until
//     such a person saves the upstream list again.
//
// Reads, listings and name resolution through V skip a link that does not
// serve the reader, as if the upstream were absent; saving a link that
// would serve none of V's readers is refused. Links saved before this rule carry no
// approval, so only (1) applies to them.

// linkReach is how much of a virtual project's audience a link serves.
type linkReach int

const (
	reachNone    linkReach = iota
	reachPersons           // signed-in persons only (an INTERNAL upstream)
	reachAll               // everyone who may read the virtual project
)

// reachByVisibility is rule (1): what U's visibility alone lets V serve.
func reachByVisibility(virtual, up *ent.Project) linkReach {
	switch {
	case up.Visibility == enum.Public:
		return reachAll
	case up.Visibility == enum.Internal && virtual.Visibility != enum.Public:
		return reachPersons
	}
	return reachNone
}

func (r linkReach) serves(p *Principal) bool {
	return r == reachAll || (r == reachPersons && p.signedInPerson())
}

// approvalCovers reports a link whose approval (rule 2) covers the virtual
// project's current visibility; whether the approver still holds the role
// is checked separately.
func approvalCovers(l *ent.Upstream, virtual *ent.Project) bool {
	return l.CreatedByID != nil && l.ApprovedVisibility != nil && virtual.Visibility.Rank() <= l.ApprovedVisibility.Rank()
}

// linkReaches computes each link's reach; approvals are checked (one batch,
// a constant number of queries) only for links whose reach by visibility is
// below need, so the common cases cost nothing.
func (s *Service) linkReaches(ctx context.Context, virtual *ent.Project, links []*ent.Upstream, need linkReach) ([]linkReach, error) {
	out := make([]linkReach, len(links))
	var checks []roleCheck
	var idx []int
	for i, l := range links {
		out[i] = reachByVisibility(virtual, l.Edges.UpstreamProject)
		if out[i] < need && approvalCovers(l, virtual) {
			checks = append(checks, roleCheck{userID: *l.CreatedByID, project: l.Edges.UpstreamProject})
			idx = append(idx, i)
		}
	}
	ok, err := s.maintainers(ctx, checks)
	if err != nil {
		return nil, err
	}
	for j, i := range idx {
		if ok[j] {
			out[i] = reachAll
		}
	}
	return out, nil
}

// roleCheck asks whether a user holds MAINTAINER or higher on a project.
type roleCheck struct {
	userID  int
	project *ent.Project
}

// maintainers answers the checks in three queries (users, namespaces,
// memberships) however many there are: a read through a virtual project
// over many upstreams costs no query per upstream. Bots never qualify:
// approvals are a person's.
func (s *Service) maintainers(ctx context.Context, checks []roleCheck) ([]bool, error) {
	out := make([]bool, len(checks))
	if len(checks) == 0 {
		return out, nil
	}
	var uids, pids []int
	var paths []string
	for _, c := range checks {
		uids = append(uids, c.userID)
		pids = append(pids, c.project.ID)
		paths = append(paths, ancestorPaths(projectNamespacePath(c.project))...)
	}
	users, err := s.db.User.Query().Where(user.IDIn(uids...)).All(ctx)
	if err != nil {
		return nil, Internal(err, "could not read users")
	}
	nss, err := s.db.Namespace.Query().Where(namespace.FullPathIn(paths...)).All(ctx)
	if err != nil {
		return nil, Internal(err, "could not read namespaces")
	}
	ms, err := s.db.Member.Query().Where(member.UserIDIn(uids...),
		member.Or(member.NamespaceIDIn(ids(nss)...), member.ProjectIDIn(pids...))).All(ctx)
	if err != nil {
		return nil, Internal(err, "could not read memberships")
	}
	byID := map[int]*ent.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	nsByPath := map[string]*ent.Namespace{}
	for _, n := range nss {
		nsByPath[n.FullPath] = n
	}
	for i, c := range checks {
		u := byID[c.userID]
		if u == nil || u.Bot {
			continue
		}
		var chain []*ent.Namespace
		inChain := map[int]bool{}
		for _, path := range ancestorPaths(projectNamespacePath(c.project)) {
			if n := nsByPath[path]; n != nil {
				chain = append(chain, n)
				inChain[n.ID] = true
			}
		}
		var mine []*ent.Member
		for _, m := range ms {
			if m.UserID == u.ID && ((m.NamespaceID != nil && inChain[*m.NamespaceID]) || (m.ProjectID != nil && *m.ProjectID == c.project.ID)) {
				mine = append(mine, m)
			}
		}
		out[i] = levelFrom(u, chain, mine) >= enum.Maintainer
	}
	return out, nil
}

// projectNamespacePath is the full path of the namespace a project is in.
func projectNamespacePath(prj *ent.Project) string {
	fp := prj.FullPath
	return fp[:max(strings.LastIndex(fp, "/"), 0)]
}

// UpstreamPolicy is one upstream policy of a virtual project as its
// configuration shows it.
type UpstreamPolicy struct {
	*ent.Upstream
	// Effective reports whether reads through the virtual project use the
	// upstream at all (an INTERNAL upstream without an approval serves
	// signed-in persons only). False when the upstream is less visible than
	// the virtual project and no current MAINTAINER of it approved the link
	// for the virtual project's present visibility.
	Effective bool
}

// UpstreamPolicies returns a virtual project's policies in resolution
// order, each with whether it is in effect, so a misconfiguration (an
// approver who lost the role, an upstream made private) is visible.
func (s *Service) UpstreamPolicies(ctx context.Context, virtual *ent.Project) ([]*UpstreamPolicy, error) {
	ups, err := s.Projects.Upstreams(ctx, virtual)
	if err != nil {
		return nil, err
	}
	reach, err := s.linkReaches(ctx, virtual, ups, reachPersons)
	if err != nil {
		return nil, err
	}
	out := make([]*UpstreamPolicy, len(ups))
	for i, u := range ups {
		out[i] = &UpstreamPolicy{Upstream: u, Effective: reach[i] > reachNone}
	}
	return out, nil
}

// UpstreamLabel is what a response says about the source that served it
// (X-Registry-Upstream): the project's path when the reader could read its
// packages directly, else the virtual project's name for the policy, so
// that a read through a virtual project never discloses the path of an
// upstream the reader may not see (GraphQL hides it the same way).
func (s *Service) UpstreamLabel(ctx context.Context, src Source) string {
	if src.PolicyID == "" || (src.Project.Visibility == enum.Public && src.Project.PackagesEnabled) {
		return src.Project.FullPath
	}
	p := src.reader
	if p == nil {
		p = Anonymous
	}
	if pa, err := s.projectAccess(ctx, p, src.Project); err == nil && s.CanReadPackages(p, pa) == nil {
		return src.Project.FullPath
	}
	return src.PolicyID
}
