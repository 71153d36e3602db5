package registry

import (
	"context"
	"sort"
	"strings"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/member"
	"github.com/pkgreg/registry/ent/namespace"
	"github.com/pkgreg/registry/ent/predicate"
	"github.com/pkgreg/registry/ent/project"
	"github.com/pkgreg/registry/server/registry/enum"
)

// Listings across namespaces for GitLab's REST API (GET /projects,
// /groups, /groups/:id/projects). They apply, as SQL predicates, the same
// rules as computeProjectAccess and Namespace: public to everyone, internal
// to signed-in people, private to members (GUEST+ on the object or an
// ancestor group, the personal namespace's owner, administrators) and to
// tokens bound to the object.

// ProjectQuery filters and orders a cross-namespace project listing.
type ProjectQuery struct {
	Search     string
	Membership bool // only projects the caller is a member of (or bound to)
	Owned      bool // only projects in the caller's personal namespace
	Visibility *enum.Visibility
	// Group, when set, limits the listing to projects of this namespace
	// (and of its subgroups with IncludeSubgroups).
	Group            *ent.Namespace
	IncludeSubgroups bool
	// OrderBy is id, name, path, created_at or last_activity_at.
	OrderBy string
	Desc    bool
	// IDAfter and IDBefore keep ids above / below them (GitLab's id_after
	// and id_before filters, which keyset pages use as their cursor).
	IDAfter, IDBefore int
	// Keyset pagination (order by id only); Offset's page is unused then.
	Keyset bool
	Offset Offset
}

// projectOrderFields are GitLab's order_by values for projects.
var projectOrderFields = map[string]string{
	"id": project.FieldID, "name": project.FieldName, "path": project.FieldPath,
	"created_at": project.FieldCreatedAt, "last_activity_at": project.FieldUpdatedAt,
}

// ValidProjectOrder reports whether order_by is one this registry sorts by.
func ValidProjectOrder(o string) bool { _, ok := projectOrderFields[o]; return ok }

// inSubtree matches namespaces at fullPath or below it.
func inSubtree(fullPath string) predicate.Namespace {
	return namespace.Or(namespace.FullPath(fullPath), namespace.FullPathHasPrefix(fullPath+"/"))
}

// boundProjects is what p is a member of or bound to (beyond what is
// open to it): the project predicates and the namespace subtrees where p
// is GUEST+.
func (pr *Projects) boundProjects(ctx context.Context, p *Principal) ([]predicate.Project, []string, error) {
	var preds []predicate.Project
	var subtrees []string
	t := p.Token
	if p.User != nil && (t == nil || t.Kind == enum.PersonalToken) {
		u := p.User
		ms, err := pr.s.db.Member.Query().Where(member.UserID(u.ID), member.AccessLevelGTE(enum.Guest)).WithNamespace().All(ctx)
		if err != nil {
			return nil, nil, Internal(err, "could not read memberships")
		}
		var projectIDs []int
		for _, m := range ms {
			switch {
			case m.ProjectID != nil:
				projectIDs = append(projectIDs, *m.ProjectID)
			case m.Edges.Namespace != nil:
				subtrees = append(subtrees, m.Edges.Namespace.FullPath)
			}
		}
		if len(projectIDs) > 0 {
			preds = append(preds, project.IDIn(projectIDs...))
		}
		if pn, err := pr.PersonalNamespace(ctx, u); err != nil {
			return nil, nil, err
		} else if pn != nil {
			subtrees = append(subtrees, pn.FullPath)
		}
	} else if t != nil {
		// Bound tokens: ask the one access check about what they are bound
		// to, so token levels (job tokens capped by their user) stay in it.
		if t.ProjectID != nil {
			if _, err := pr.ProjectByID(ctx, p, *t.ProjectID); err == nil {
				preds = append(preds, project.ID(*t.ProjectID))
			}
		}
		if t.NamespaceID != nil {
			if ns, err := pr.s.db.Namespace.Get(ctx, *t.NamespaceID); err == nil {
				chain, err := pr.s.namespaceChain(ctx, ns.FullPath)
				if err != nil {
					return nil, nil, Internal(err, "could not read namespaces")
				}
				if l, err := pr.s.effectiveLevel(ctx, p, chain, 0); err == nil && l >= enum.Guest {
					subtrees = append(subtrees, ns.FullPath)
				}
			}
		}
	}
	for _, fp := range subtrees {
		preds = append(preds, project.HasNamespaceWith(inSubtree(fp)))
	}
	return preds, subtrees, nil
}

// noProject matches nothing.
var noProject = project.IDLT(0)

// visibleProjects is the predicate for "projects p may see" (nil: all).
func (pr *Projects) visibleProjects(ctx context.Context, p *Principal, membership bool) (predicate.Project, error) {
	if p.IsAdmin() && !membership {
		return nil, nil
	}
	bound, _, err := pr.boundProjects(ctx, p)
	if err != nil {
		return nil, err
	}
	preds := bound
	if !membership {
		preds = append(preds, project.VisibilityEQ(enum.Public))
		if p.signedInPerson() {
			preds = append(preds, project.VisibilityEQ(enum.Internal))
		}
	}
	if len(preds) == 0 {
		return noProject, nil
	}
	return project.Or(preds...), nil
}

// SearchProjects lists the projects p may see that match q, with their
// namespaces loaded; total is -1 for keyset pages, and more tells whether
// a keyset page has a successor.
func (pr *Projects) SearchProjects(ctx context.Context, p *Principal, q ProjectQuery) (rows []*ent.Project, total int, more bool, err error) {
	field, ok := projectOrderFields[q.OrderBy]
	if !ok {
		return nil, 0, false, Invalid("order_by does not have a valid value")
	}
	if q.Keyset && field != project.FieldID {
		return nil, 0, false, Invalid("keyset pagination is supported only with order_by=id")
	}
	vis, err := pr.visibleProjects(ctx, p, q.Membership)
	if err != nil {
		return nil, 0, false, err
	}
	query := pr.s.db.Project.Query().WithNamespace()
	if vis != nil {
		query.Where(vis)
	}
	if q.Search != "" {
		query.Where(project.Or(project.NameContainsFold(q.Search), project.PathContainsFold(q.Search)))
	}
	if q.Visibility != nil {
		query.Where(project.VisibilityEQ(*q.Visibility))
	}
	if q.Owned {
		if p.User == nil {
			query.Where(noProject)
		} else {
			query.Where(project.HasNamespaceWith(namespace.OwnerID(p.User.ID), namespace.KindEQ(enum.UserNamespace)))
		}
	}
	if g := q.Group; g != nil {
		if q.IncludeSubgroups {
			query.Where(project.HasNamespaceWith(inSubtree(g.FullPath)))
		} else {
			query.Where(project.NamespaceID(g.ID))
		}
	}
	if q.IDAfter > 0 {
		query.Where(project.IDGT(q.IDAfter))
	}
	if q.IDBefore > 0 {
		query.Where(project.IDLT(q.IDBefore))
	}
	order := orderByID(q.Desc, field)
	if q.Keyset {
		q.Offset.Normalize()
		rows, err = query.Order(order).Limit(q.Offset.PerPage + 1).All(ctx)
		if err != nil {
			return nil, 0, false, DBError(err, "")
		}
		if len(rows) > q.Offset.PerPage {
			rows, more = rows[:q.Offset.PerPage], true
		}
		return rows, -1, more, nil
	}
	total, err = query.Clone().Count(ctx)
	if err != nil {
		return nil, 0, false, DBError(err, "")
	}
	q.Offset.Normalize()
	// id breaks ties, so that pages of equal names do not overlap.
	rows, err = query.Order(order, orderByID(q.Desc, project.FieldID)).
		Offset((q.Offset.Page - 1) * q.Offset.PerPage).Limit(q.Offset.PerPage).All(ctx)
	return rows, total, false, DBError(err, "")
}

// GroupQuery filters a group listing.
type GroupQuery struct {
	Search string
	// AllAvailable lists every group p may see; otherwise signed-in
	// callers get the groups they are members of (GitLab's default).
	AllAvailable bool
	Owned        bool // groups where p's user is a direct OWNER
	TopLevelOnly bool
	OrderBy      string // name (default), path or id
	Desc         bool
	Offset       Offset
}

var groupOrderFields = map[string]string{"name": namespace.FieldName, "path": namespace.FieldPath, "id": namespace.FieldID}

// SearchGroups lists the groups p may see that match q.
func (pr *Projects) SearchGroups(ctx context.Context, p *Principal, q GroupQuery) ([]*ent.Namespace, int, error) {
	field, ok := groupOrderFields[q.OrderBy]
	if !ok {
		return nil, 0, Invalid("order_by does not have a valid value")
	}
	query := pr.s.db.Namespace.Query().Where(namespace.KindEQ(enum.GroupNamespace))
	_, subtrees, err := pr.boundProjects(ctx, p)
	if err != nil {
		return nil, 0, err
	}
	var memberOf []predicate.Namespace
	for _, fp := range subtrees {
		memberOf = append(memberOf, inSubtree(fp))
	}
	// Administrators see every group; their default listing too (GitLab).
	switch {
	case p.IsAdmin():
	case q.AllAvailable || !p.Authenticated():
		open := append(append([]predicate.Namespace(nil), memberOf...), namespace.VisibilityEQ(enum.Public))
		if p.signedInPerson() {
			open = append(open, namespace.VisibilityEQ(enum.Internal))
		}
		query.Where(namespace.Or(open...))
	case len(memberOf) == 0:
		query.Where(namespace.IDLT(0))
	default:
		query.Where(namespace.Or(memberOf...))
	}
	if q.Owned {
		if p.User == nil {
			query.Where(namespace.IDLT(0))
		} else {
			query.Where(namespace.HasMembersWith(member.UserID(p.User.ID), member.AccessLevelGTE(enum.Owner)))
		}
	}
	if q.TopLevelOnly {
		query.Where(namespace.ParentIDIsNil())
	}
	if q.Search != "" {
		query.Where(namespace.Or(namespace.NameContainsFold(q.Search), namespace.PathContainsFold(q.Search)))
	}
	total, err := query.Clone().Count(ctx)
	if err != nil {
		return nil, 0, DBError(err, "")
	}
	q.Offset.Normalize()
	rows, err := query.Order(orderByID(q.Desc, field), orderByID(q.Desc, namespace.FieldID)).
		Offset((q.Offset.Page - 1) * q.Offset.PerPage).Limit(q.Offset.PerPage).All(ctx)
	return rows, total, DBError(err, "")
}

// Group returns the group (not a personal namespace) named by ref, a
// numeric id or a full path, if p may see it; otherwise NotFound.
func (pr *Projects) Group(ctx context.Context, p *Principal, ref string) (*NamespaceAccess, error) {
	var na *NamespaceAccess
	var err error
	if id, aerr := atoiStrict(ref); aerr == nil {
		na, err = pr.NamespaceByID(ctx, p, id)
	} else {
		na, err = pr.s.Namespace(ctx, p, ref)
	}
	if err != nil || na.Namespace.Kind != enum.GroupNamespace {
		if err == nil || KindOf(err) == KindNotFound {
			return nil, NotFound("404 Group Not Found")
		}
		return nil, err
	}
	return na, nil
}

// NamespaceAncestry returns the namespace at fullPath and its ancestors,
// outermost first (for GitLab's "Acme / Tools" names).
func (pr *Projects) NamespaceAncestry(ctx context.Context, fullPath string) ([]*ent.Namespace, error) {
	chain, err := pr.s.namespaceChain(ctx, fullPath)
	if err != nil {
		return nil, Internal(err, "could not read namespaces")
	}
	out := append([]*ent.Namespace(nil), chain...)
	sort.Slice(out, func(i, j int) bool { return len(out[i].FullPath) < len(out[j].FullPath) })
	return out, nil
}

// atoiStrict parses a positive decimal id ("acme" and "1a" are paths).
func atoiStrict(s string) (int, error) {
	n := 0
	if s == "" || strings.TrimLeft(s, "0123456789") != "" || len(s) > 9 {
		return 0, Invalid("not an id")
	}
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n, nil
}
