package registry

import (
	"context"
	"strings"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/member"
	"github.com/pkgreg/registry/ent/predicate"
	"github.com/pkgreg/registry/server/registry/enum"
)

// AddMember grants username a role on a group (OWNER needed) or a project
// (MAINTAINER+ needed). Nobody grants more than they have.
func (pr *Projects) AddMember(ctx context.Context, p *Principal, sourcePath, username string, level enum.AccessLevel) (*ent.Member, error) {
	if err := requireAPIWrite(p); err != nil {
		return nil, err
	}
	if err := validateFullPath("sourcePath", sourcePath); err != nil {
		return nil, err
	}
	if !level.Valid() {
		return nil, Invalid("accessLevel must be GUEST, REPORTER, DEVELOPER, MAINTAINER or OWNER")
	}
	c := pr.s.db.Member.Create().SetAccessLevel(level)
	if pa, err := pr.s.projectForAdmin(ctx, p, sourcePath, enum.Maintainer, "adding project members"); err == nil {
		if err := checkGrantable(level, pa.Level); err != nil {
			return nil, err
		}
		c.SetProjectID(pa.Project.ID)
	} else if KindOf(err) != KindNotFound {
		return nil, err
	} else if na, err := pr.s.groupForAdmin(ctx, p, sourcePath, enum.Owner, "adding group members"); err == nil {
		c.SetNamespaceID(na.Namespace.ID)
	} else {
		return nil, err
	}
	u, err := pr.s.Users.UserByUsername(ctx, p, username)
	if err != nil {
		return nil, Invalid("user %q does not exist", username)
	}
	m, err := c.SetUserID(u.ID).Save(ctx)
	if err != nil {
		return nil, DBError(err, "Member already exists")
	}
	m.Edges.User = u
	return m, nil
}

// MemberRelation selects direct or inherited memberships.
type MemberRelation string

const (
	DirectMembers    MemberRelation = "DIRECT"
	InheritedMembers MemberRelation = "INHERITED"
)

// ListMembers pages through the memberships of a project or group that p
// can see: direct ones, inherited from ancestor groups, or both (nil).
func (pr *Projects) ListMembers(ctx context.Context, p *Principal, projectID int, chain []*ent.Namespace, self *ent.Namespace, relations []MemberRelation, args PageArgs) (*Page[*ent.Member], error) {
	direct, inherited := len(relations) == 0, len(relations) == 0
	for _, r := range relations {
		switch MemberRelation(strings.ToUpper(string(r))) {
		case DirectMembers:
			direct = true
		case InheritedMembers:
			inherited = true
		default:
			return nil, Invalid("relations must be DIRECT or INHERITED")
		}
	}
	var preds []predicate.Member
	var inheritedIDs []int
	for _, n := range chain {
		if self == nil || n.ID != self.ID {
			inheritedIDs = append(inheritedIDs, n.ID)
		}
	}
	if direct && projectID > 0 {
		preds = append(preds, member.ProjectID(projectID))
	}
	if direct && self != nil {
		preds = append(preds, member.NamespaceID(self.ID))
	}
	if inherited && len(inheritedIDs) > 0 {
		preds = append(preds, member.NamespaceIDIn(inheritedIDs...))
	}
	return Paginate(args, func(m *ent.Member) int { return m.ID }, func(after, before int, desc bool, limit int) ([]*ent.Member, error) {
		if len(preds) == 0 {
			return nil, nil
		}
		q := pr.s.db.Member.Query().Where(member.Or(preds...)).WithUser().WithNamespace().WithProject().Limit(limit)
		if after > 0 {
			q.Where(member.IDGT(after))
		}
		if before > 0 {
			q.Where(member.IDLT(before))
		}
		q.Order(orderByID(desc, member.FieldID))
		ms, err := q.All(ctx)
		return ms, DBError(err, "")
	})
}
