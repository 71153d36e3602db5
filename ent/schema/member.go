package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/pkgreg/registry/server/registry/enum"
)

// Member grants a user an access level on a group (inherited by subgroups
// and projects) or on one project. Exactly one of namespace/project is set.
type Member struct{ ent.Schema }

func (Member) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (Member) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id"),
		field.Int("namespace_id").Optional().Nillable(),
		field.Int("project_id").Optional().Nillable(),
		field.Int("access_level").GoType(enum.AccessLevel(0)),
	}
}

func (Member) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("memberships").Field("user_id").Unique().Required(),
		edge.From("namespace", Namespace.Type).Ref("members").Field("namespace_id").Unique(),
		edge.From("project", Project.Type).Ref("members").Field("project_id").Unique(),
	}
}

func (Member) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "namespace_id").Unique(),
		index.Fields("user_id", "project_id").Unique(),
		index.Fields("namespace_id"),
		index.Fields("project_id"),
	}
}
