package registry

import (
	"context"

	"entgo.io/ent/dialect/sql"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/member"
	"github.com/pkgreg/registry/ent/namespace"
	"github.com/pkgreg/registry/ent/predicate"
	"github.com/pkgreg/registry/ent/project"
	"github.com/pkgreg/registry/server/registry/enum"
)

// visibleProjectsIn is the one filter for "projects of namespace ns that p
// may see": everything for members of the namespace (or its ancestors),
// otherwise public ones, internal ones for signed-in users, and those the
// user is a direct member of.
func (pr *Projects) visibleProjectsIn(ctx context.Context, p *Principal, ns *ent.Namespace) (predicate.Project, error) {
	chain, err := pr.s.namespaceChain(ctx, ns.FullPath)
	if err != nil {
		return nil, Internal(err, "could not read namespaces")
	}
	level, err := pr.s.effectiveLevel(ctx, p, chain, 0)
	if err != nil {
		return nil, err
	}
	if level >= enum.Guest {
		return project.NamespaceID(ns.ID), nil
	}
	vis := []predicate.Project{project.VisibilityEQ(enum.Public)}
	if p.signedInPerson() {
		vis = append(vis, project.VisibilityEQ(enum.Internal), project.HasMembersWith(member.UserID(p.User.ID)))
	}
	if p.Token != nil && p.Token.ProjectID != nil {
		vis = append(vis, project.ID(*p.Token.ProjectID))
	}
	return project.And(project.NamespaceID(ns.ID), project.Or(vis...)), nil
}

// ListProjects pages through the projects of a namespace that p may see.
func (pr *Projects) ListProjects(ctx context.Context, p *Principal, ns *ent.Namespace, args PageArgs) (*Page[*ent.Project], error) {
	pred, err := pr.visibleProjectsIn(ctx, p, ns)
	if err != nil {
		return nil, err
	}
	return Paginate(args, func(x *ent.Project) int { return x.ID }, func(after, before int, desc bool, limit int) ([]*ent.Project, error) {
		q := pr.s.db.Project.Query().Where(pred).Limit(limit)
		if after > 0 {
			q.Where(project.IDGT(after))
		}
		if before > 0 {
			q.Where(project.IDLT(before))
		}
		q.Order(orderByID(desc, project.FieldID))
		rows, err := q.All(ctx)
		for _, r := range rows {
			r.Edges.Namespace = ns // all in ns: Project.namespace needs no query per row
		}
		return rows, DBError(err, "")
	})
}

func orderByID(desc bool, field string) func(*sql.Selector) {
	if desc {
		return ent.Desc(field)
	}
	return ent.Asc(field)
}

// ProjectByID returns a project by numeric id if p may see it.
func (pr *Projects) ProjectByID(ctx context.Context, p *Principal, id int) (*ProjectAccess, error) {
	prj, err := pr.s.db.Project.Get(ctx, id)
	if err != nil {
		return nil, NotFound("404 Project Not Found")
	}
	return pr.s.projectAccess(ctx, p, prj)
}

// NamespaceByID returns a namespace by numeric id if p may see it.
func (pr *Projects) NamespaceByID(ctx context.Context, p *Principal, id int) (*NamespaceAccess, error) {
	ns, err := pr.s.db.Namespace.Query().Where(namespace.ID(id)).Only(ctx)
	if err != nil {
		return nil, NotFound("404 Namespace Not Found")
	}
	return pr.s.Namespace(ctx, p, ns.FullPath)
}

// UserByID returns a user; users are visible to signed-in callers.
func (us *Users) UserByID(ctx context.Context, p *Principal, id int) (*ent.User, error) {
	u, err := us.s.db.User.Get(ctx, id)
	if err != nil || !p.Authenticated() {
		return nil, NotFound("user not found")
	}
	return u, nil
}

// MemberByID returns a membership if p may see where it applies.
func (pr *Projects) MemberByID(ctx context.Context, p *Principal, id int) (*ent.Member, error) {
	m, err := pr.s.db.Member.Query().Where(member.ID(id)).WithNamespace().WithProject().Only(ctx)
	if err != nil {
		return nil, NotFound("member not found")
	}
	if m.Edges.Project != nil {
		_, err = pr.s.projectAccess(ctx, p, m.Edges.Project)
	} else if m.Edges.Namespace != nil {
		_, err = pr.s.Namespace(ctx, p, m.Edges.Namespace.FullPath)
	}
	if err != nil {
		return nil, NotFound("member not found")
	}
	return m, nil
}

// NamespaceOf returns a project's namespace (the caller already sees the
// project, and a project's namespace is at least as visible).
func (pr *Projects) NamespaceOf(ctx context.Context, prj *ent.Project) (*ent.Namespace, error) {
	if prj.Edges.Namespace != nil { // loaded with the project by listings
		return prj.Edges.Namespace, nil
	}
	ns, err := pr.s.db.Namespace.Get(ctx, prj.NamespaceID)
	return ns, DBError(err, "")
}

// ParentOf returns a namespace's parent if p may see it (nil otherwise).
func (pr *Projects) ParentOf(ctx context.Context, p *Principal, ns *ent.Namespace) (*ent.Namespace, error) {
	if ns.ParentID == nil {
		return nil, nil
	}
	na, err := pr.NamespaceByID(ctx, p, *ns.ParentID)
	if KindOf(err) == KindNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return na.Namespace, nil
}

// PersonalNamespace returns a user's personal namespace.
func (pr *Projects) PersonalNamespace(ctx context.Context, u *ent.User) (*ent.Namespace, error) {
	ns, err := pr.s.db.Namespace.Query().Where(namespace.OwnerID(u.ID), namespace.KindEQ(enum.UserNamespace)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return ns, DBError(err, "")
}

// UserOf returns a membership's user (loaded eagerly by ListMembers).
func (us *Users) UserOf(ctx context.Context, m *ent.Member) (*ent.User, error) {
	if m.Edges.User != nil {
		return m.Edges.User, nil
	}
	u, err := us.s.db.User.Get(ctx, m.UserID)
	return u, DBError(err, "")
}

// MemberSource returns the full path and type (Group/Project) of the
// object a membership applies to.
func (pr *Projects) MemberSource(ctx context.Context, m *ent.Member) (string, string, error) {
	if m.ProjectID != nil {
		prj := m.Edges.Project
		if prj == nil {
			var err error
			if prj, err = pr.s.db.Project.Get(ctx, *m.ProjectID); err != nil {
				return "", "", DBError(err, "")
			}
		}
		return prj.FullPath, "Project", nil
	}
	ns := m.Edges.Namespace
	if ns == nil && m.NamespaceID != nil {
		var err error
		if ns, err = pr.s.db.Namespace.Get(ctx, *m.NamespaceID); err != nil {
			return "", "", DBError(err, "")
		}
	}
	if ns == nil {
		return "", "", Internal(nil, "membership without a source")
	}
	return ns.FullPath, "Group", nil
}
