package registry

import (
	"context"
	"strings"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/server/registry/enum"
)

// CreateGroupInput describes a new group.
type CreateGroupInput struct {
	Path       string
	Name       string
	ParentPath string
	Visibility enum.Visibility
}

// CreateGroup creates a group; its creator becomes its OWNER. Top-level
// groups may be created by any user with an api-scoped personal token;
// subgroups need MAINTAINER+ on the parent.
func (pr *Projects) CreateGroup(ctx context.Context, p *Principal, in CreateGroupInput) (*ent.Namespace, error) {
	if err := requireAPIWrite(p); err != nil {
		return nil, err
	}
	if p.User == nil || p.User.Bot || (p.Token != nil && p.Token.Kind != enum.PersonalToken) {
		return nil, Forbidden("groups are created with a personal access token")
	}
	if err := validateNewPath(in.Path, &in.Name, &in.Visibility); err != nil {
		return nil, err
	}
	fullPath := in.Path
	var parent *ent.Namespace
	if in.ParentPath = strings.Trim(in.ParentPath, "/"); in.ParentPath != "" {
		na, err := pr.s.groupForAdmin(ctx, p, in.ParentPath, enum.Maintainer, "creating subgroups")
		if err != nil {
			return nil, err
		}
		parent = na.Namespace
		if len(na.Chain) >= maxNestingDepth {
			return nil, Invalid("groups can be nested at most %d levels deep", maxNestingDepth)
		}
		if in.Visibility.Rank() > parent.Visibility.Rank() {
			return nil, Invalid("visibility %s is not allowed: the parent group is %s", strings.ToUpper(string(in.Visibility)), strings.ToUpper(string(parent.Visibility)))
		}
		fullPath = parent.FullPath + "/" + in.Path
	}
	var ns *ent.Namespace
	err := pr.s.withTx(ctx, func(tx *ent.Tx) error {
		c := tx.Namespace.Create().SetKind(enum.GroupNamespace).SetPath(in.Path).SetFullPath(fullPath).
			SetName(in.Name).SetVisibility(in.Visibility)
		if parent != nil {
			c.SetParentID(parent.ID)
		}
		var err error
		if ns, err = c.Save(ctx); err != nil {
			return DBError(err, "path '"+fullPath+"' has already been taken")
		}
		if err := claimRoute(ctx, tx, fullPath, &ns.ID, nil); err != nil {
			return err
		}
		if p.User.ID != 0 {
			err = tx.Member.Create().SetUserID(p.User.ID).SetNamespaceID(ns.ID).SetAccessLevel(enum.Owner).Exec(ctx)
		}
		return DBError(err, "membership already exists")
	})
	return ns, err
}
