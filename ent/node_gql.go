package ent

// Hand-written (not generated): makes ent entities satisfy the GraphQL Node
// interface that gqlgen generates.

import (
	"github.com/pkgreg/registry/server/registry/enum"
	"github.com/pkgreg/registry/server/registry/gid"
)

func (*User) IsNode()         {}
func (u *User) GetID() string { return gid.Format("User", u.ID) }

func (*Namespace) IsNode() {}
func (n *Namespace) GetID() string {
	if n.Kind == enum.GroupNamespace {
		return gid.Format("Group", n.ID)
	}
	return gid.Format("Namespace", n.ID)
}

func (*Project) IsNode()         {}
func (p *Project) GetID() string { return gid.Format("Project", p.ID) }

func (*Member) IsNode()         {}
func (m *Member) GetID() string { return gid.Format("Member", m.ID) }

func (*AccessToken) IsNode()         {}
func (t *AccessToken) GetID() string { return gid.Format("AccessToken", t.ID) }

func (*Pkg) IsNode()         {}
func (p *Pkg) GetID() string { return gid.Format("Packages::Package", p.ID) }

func (*PackageFile) IsNode()         {}
func (f *PackageFile) GetID() string { return gid.Format("Packages::PackageFile", f.ID) }
