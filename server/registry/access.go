package registry

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/member"
	"github.com/pkgreg/registry/ent/namespace"
	"github.com/pkgreg/registry/ent/project"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Permission model (GitLab's, in one place):
//   - a user's level on a project is the highest of their membership on the
//     project and on every ancestor group; the owner of a personal namespace
//     is OWNER there; administrators are OWNER everywhere;
//   - project, group, deploy and job tokens act only inside what they are
//     bound to (a project, or a group and its descendants); project and group
//     tokens with their own access level, deploy tokens as DEVELOPER limited
//     by their scopes, job tokens with their user's level capped at DEVELOPER;
//   - public objects are visible to everyone, internal ones to every signed-in
//     person (personal token; not bots, deploy or job tokens), private ones
//     to members (GUEST and up);
//   - packages: members (GUEST and up) read, DEVELOPER+ publish, MAINTAINER+
//     delete;
//   - scopes limit what any credential may do, whatever the role.

// ancestorPaths returns "a", "a/b", "a/b/c" for "a/b/c".
func ancestorPaths(fullPath string) []string {
	parts := strings.Split(fullPath, "/")
	out := make([]string, len(parts))
	for i := range parts {
		out[i] = strings.Join(parts[:i+1], "/")
	}
	return out
}

// namespaceChain returns the namespace with this full path and its
// ancestors (once per request and path when the request has an access
// cache: the projects of a listing share their chains).
func (s *Service) namespaceChain(ctx context.Context, fullPath string) ([]*ent.Namespace, error) {
	c := accessCacheOf(ctx)
	if c != nil {
		c.mu.Lock()
		chain, ok := c.chains[fullPath]
		c.mu.Unlock()
		if ok {
			return chain, nil
		}
	}
	chain, err := s.db.Namespace.Query().Where(namespace.FullPathIn(ancestorPaths(fullPath)...)).All(ctx)
	if err == nil && c != nil {
		c.mu.Lock()
		c.chains[fullPath] = chain
		c.mu.Unlock()
	}
	return chain, err
}

// userMemberships returns u's memberships that bear on a project or
// namespace: those on the chain's namespaces and on the project. With an
// access cache, all of u's memberships are read once per request and
// filtered here, instead of one query per project checked.
func (s *Service) userMemberships(ctx context.Context, u *ent.User, chain []*ent.Namespace, projectID int) ([]*ent.Member, error) {
	c := accessCacheOf(ctx)
	if c == nil {
		preds := member.NamespaceIDIn(ids(chain)...)
		if projectID > 0 {
			preds = member.Or(preds, member.ProjectID(projectID))
		}
		return s.db.Member.Query().Where(member.UserID(u.ID), preds).All(ctx)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.members == nil || c.membersOf != u.ID {
		all, err := s.db.Member.Query().Where(member.UserID(u.ID)).All(ctx)
		if err != nil {
			return nil, err
		}
		c.members, c.membersOf = all, u.ID
	}
	inChain := map[int]bool{}
	for _, n := range chain {
		inChain[n.ID] = true
	}
	var out []*ent.Member
	for _, m := range c.members {
		if (m.NamespaceID != nil && inChain[*m.NamespaceID]) || (projectID > 0 && m.ProjectID != nil && *m.ProjectID == projectID) {
			out = append(out, m)
		}
	}
	return out, nil
}

func ids(nss []*ent.Namespace) []int {
	out := make([]int, len(nss))
	for i, n := range nss {
		out[i] = n.ID
	}
	return out
}

// userLevel is a user's highest level from memberships on the namespaces in
// chain and (if projectID > 0) on the project, including personal ownership.
func (s *Service) userLevel(ctx context.Context, u *ent.User, chain []*ent.Namespace, projectID int) (enum.AccessLevel, error) {
	if u == nil {
		return enum.NoAccess, nil
	}
	if l := ownLevel(u, chain); l == enum.Owner {
		return l, nil
	}
	ms, err := s.userMemberships(ctx, u, chain, projectID)
	if err != nil {
		return 0, Internal(err, "could not read memberships")
	}
	return levelFrom(u, chain, ms), nil
}

// ownLevel is OWNER for administrators and for the owner of a personal
// namespace in chain, else no access (memberships decide).
func ownLevel(u *ent.User, chain []*ent.Namespace) enum.AccessLevel {
	if u.Admin {
		return enum.Owner
	}
	for _, n := range chain {
		if n.Kind == enum.UserNamespace && n.OwnerID != nil && *n.OwnerID == u.ID {
			return enum.Owner
		}
	}
	return enum.NoAccess
}

// levelFrom is u's level given its memberships ms that bear on chain (and
// the project): the one place that turns memberships into a level.
func levelFrom(u *ent.User, chain []*ent.Namespace, ms []*ent.Member) enum.AccessLevel {
	level := ownLevel(u, chain)
	for _, m := range ms {
		level = max(level, m.AccessLevel)
	}
	return level
}

// effectiveLevel is what principal p may do on a project (projectID > 0) or
// on the namespace whose chain is given (projectID == 0).
func (s *Service) effectiveLevel(ctx context.Context, p *Principal, chain []*ent.Namespace, projectID int) (enum.AccessLevel, error) {
	if !p.Authenticated() {
		return enum.NoAccess, nil
	}
	if p.IsAdmin() {
		return enum.Owner, nil
	}
	t := p.Token
	if t == nil || t.Kind == enum.PersonalToken {
		return s.userLevel(ctx, p.User, chain, projectID)
	}
	bound := false
	if t.ProjectID != nil && projectID > 0 && *t.ProjectID == projectID {
		bound = true
	}
	if t.NamespaceID != nil {
		for _, n := range chain {
			if n.ID == *t.NamespaceID {
				bound = true
			}
		}
	}
	if !bound {
		return enum.NoAccess, nil
	}
	switch t.Kind {
	case enum.ProjectToken, enum.GroupToken:
		return t.AccessLevel, nil
	case enum.DeployToken:
		return enum.Developer, nil
	case enum.JobToken:
		l, err := s.userLevel(ctx, p.User, chain, projectID)
		return min(l, enum.Developer), err
	}
	return enum.NoAccess, nil
}

// canSee applies visibility: can p know that an object with this
// visibility and this caller level exists?
func canSee(p *Principal, v enum.Visibility, level enum.AccessLevel) bool {
	switch {
	case level >= enum.Guest, v == enum.Public:
		return true
	case v == enum.Internal:
		return p.signedInPerson()
	}
	return false
}

// ProjectAccess is a project with the caller's level on it.
type ProjectAccess struct {
	Project *ent.Project
	Level   enum.AccessLevel
	// Namespaces is the project's namespace and its ancestors.
	Namespaces []*ent.Namespace
}

// lookupProject finds a project by numeric id or full path (no checks).
func (s *Service) lookupProject(ctx context.Context, ref string) (*ent.Project, error) {
	q := s.db.Project.Query()
	if id, err := strconv.Atoi(ref); err == nil {
		q = q.Where(project.ID(id))
	} else {
		q = q.Where(project.FullPath(strings.Trim(ref, "/")))
	}
	return q.Only(ctx)
}

// errProjectNotFound is the one answer for "no such project, or you may not
// see it"; package endpoints turn it into a 401 challenge for anonymous
// callers so that clients (pip, npm, curl --user) send credentials.
var errProjectNotFound = &Error{Kind: KindNotFound, Message: "404 Project Not Found"}

// IsProjectNotFound reports the error Project returns for invisible
// projects, and GroupReadSources for invisible groups.
func IsProjectNotFound(err error) bool {
	return errors.Is(err, errProjectNotFound) || errors.Is(err, errGroupNotFound)
}

// Project returns the project named by ref (numeric id or full path) if p
// may see it; otherwise NotFound, whether or not it exists.
func (s *Service) Project(ctx context.Context, p *Principal, ref string) (*ProjectAccess, error) {
	prj, err := s.lookupProject(ctx, ref)
	if ent.IsNotFound(err) {
		return nil, errProjectNotFound
	}
	if err != nil {
		return nil, Internal(err, "could not read the project")
	}
	return s.projectAccess(ctx, p, prj)
}

// accessCache memoizes projectAccess for one request (one principal), so
// that a listing that checks the same few projects per row costs a
// constant number of queries.
type accessCache struct {
	mu sync.Mutex
	m  map[int]accessResult
	// chains by namespace path, and the principal's user's memberships.
	chains    map[string][]*ent.Namespace
	members   []*ent.Member
	membersOf int
}

func accessCacheOf(ctx context.Context) *accessCache {
	c, _ := ctx.Value(accessCacheKey{}).(*accessCache)
	return c
}

type accessResult struct {
	pa  *ProjectAccess
	err error
}

type accessCacheKey struct{}

// WithAccessCache returns a context that memoizes project access checks;
// use it for one request only.
func WithAccessCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, accessCacheKey{}, &accessCache{m: map[int]accessResult{}, chains: map[string][]*ent.Namespace{}})
}

func (s *Service) projectAccess(ctx context.Context, p *Principal, prj *ent.Project) (*ProjectAccess, error) {
	c := accessCacheOf(ctx)
	if c == nil {
		return s.computeProjectAccess(ctx, p, prj)
	}
	c.mu.Lock()
	r, ok := c.m[prj.ID]
	c.mu.Unlock()
	if !ok {
		r.pa, r.err = s.computeProjectAccess(ctx, p, prj)
		c.mu.Lock()
		c.m[prj.ID] = r
		c.mu.Unlock()
	}
	return r.pa, r.err
}

func (s *Service) computeProjectAccess(ctx context.Context, p *Principal, prj *ent.Project) (*ProjectAccess, error) {
	fp := prj.FullPath
	nsPath := fp[:max(strings.LastIndex(fp, "/"), 0)]
	chain, err := s.namespaceChain(ctx, nsPath)
	if err != nil {
		return nil, Internal(err, "could not read namespaces")
	}
	level, err := s.effectiveLevel(ctx, p, chain, prj.ID)
	if err != nil {
		return nil, err
	}
	if !canSee(p, prj.Visibility, level) {
		return nil, errProjectNotFound
	}
	return &ProjectAccess{Project: prj, Level: level, Namespaces: chain}, nil
}

// NamespaceAccess is a namespace with the caller's level on it.
type NamespaceAccess struct {
	Namespace *ent.Namespace
	Level     enum.AccessLevel
	Chain     []*ent.Namespace
}

// Namespace returns the namespace (group or personal) at fullPath if p may
// see it; otherwise NotFound.
func (s *Service) Namespace(ctx context.Context, p *Principal, fullPath string) (*NamespaceAccess, error) {
	fullPath = strings.Trim(fullPath, "/")
	chain, err := s.namespaceChain(ctx, fullPath)
	if err != nil {
		return nil, Internal(err, "could not read namespaces")
	}
	var ns *ent.Namespace
	for _, n := range chain {
		if n.FullPath == fullPath {
			ns = n
		}
	}
	if ns == nil {
		return nil, NotFound("404 Namespace Not Found")
	}
	level, err := s.effectiveLevel(ctx, p, chain, 0)
	if err != nil {
		return nil, err
	}
	if !canSee(p, ns.Visibility, level) {
		return nil, NotFound("404 Namespace Not Found")
	}
	return &NamespaceAccess{Namespace: ns, Level: level, Chain: chain}, nil
}

// require turns a visible object plus a needed level and scopes into nil,
// 401, or 403.
func require(p *Principal, have, need enum.AccessLevel, scopes []enum.Scope, what string) error {
	if !p.Authenticated() {
		return Unauthenticated("401 Unauthorized")
	}
	if !p.HasScope(scopes...) {
		return Forbidden("403 Forbidden - insufficient_scope: this token's scopes do not allow %s", what)
	}
	if have < need {
		return Forbidden("403 Forbidden - %s needs the %s role or higher", what, strings.ToUpper(need.String()))
	}
	return nil
}

var errPackagesDisabled = Forbidden("403 Forbidden - the package registry is disabled for this project")

// CanReadPackages checks that p may download/list packages of the project.
func (s *Service) CanReadPackages(p *Principal, pa *ProjectAccess) error {
	if !pa.Project.PackagesEnabled {
		return errPackagesDisabled
	}
	open := pa.Project.Visibility == enum.Public || (pa.Project.Visibility == enum.Internal && p.signedInPerson())
	if open && (!p.Authenticated() || p.HasScope(readPackageScopes...)) {
		return nil
	}
	// GitLab lets every member, guests included, pull packages.
	return require(p, pa.Level, enum.Guest, readPackageScopes, "reading packages")
}

// CanWritePackages checks that p may publish to the project.
func (s *Service) CanWritePackages(p *Principal, pa *ProjectAccess) error {
	if !pa.Project.PackagesEnabled {
		return errPackagesDisabled
	}
	return require(p, pa.Level, enum.Developer, writePackageScopes, "publishing packages")
}

// CanDeletePackages checks that p may delete packages of the project:
// MAINTAINER+ with the api scope, or a deploy token bound to the project
// with write_package_registry (GitLab's destroy_package rule).
func (s *Service) CanDeletePackages(p *Principal, pa *ProjectAccess) error {
	if p.Token != nil && p.Token.Kind == enum.DeployToken && pa.Level >= enum.Developer && p.HasScope(enum.ScopeWritePackageRegistry) {
		return nil
	}
	return require(p, pa.Level, enum.Maintainer, writeAPIScopes, "deleting packages")
}

// requireAPIWrite is the credential rule for administrative writes (tokens,
// projects, groups, members, settings): a credential with the api scope.
func requireAPIWrite(p *Principal) error {
	if !p.Authenticated() {
		return Unauthenticated("401 Unauthorized")
	}
	if !p.HasScope(writeAPIScopes...) {
		return Forbidden("403 Forbidden - insufficient_scope: this action needs a token with the API scope")
	}
	return nil
}

// projectForAdmin resolves a project for an administrative action that
// needs the api scope and the given role (Tokens and Projects use it).
func (s *Service) projectForAdmin(ctx context.Context, p *Principal, ref string, need enum.AccessLevel, what string) (*ProjectAccess, error) {
	if err := requireAPIWrite(p); err != nil {
		return nil, err
	}
	if err := validateFullPath("projectPath", ref); err != nil {
		return nil, err
	}
	pa, err := s.Project(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	return pa, require(p, pa.Level, need, writeAPIScopes, what)
}

// groupForAdmin is projectForAdmin for groups.
func (s *Service) groupForAdmin(ctx context.Context, p *Principal, ref string, need enum.AccessLevel, what string) (*NamespaceAccess, error) {
	if err := requireAPIWrite(p); err != nil {
		return nil, err
	}
	if err := validateFullPath("groupPath", ref); err != nil {
		return nil, err
	}
	na, err := s.Namespace(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	if na.Namespace.Kind != enum.GroupNamespace {
		return nil, NotFound("404 Group Not Found")
	}
	return na, require(p, na.Level, need, writeAPIScopes, what)
}
