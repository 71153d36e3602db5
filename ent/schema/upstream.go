package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/pkgreg/registry/server/registry/enum"
)

// Upstream is one entry of a virtual project's upstream list.
type Upstream struct{ ent.Schema }

func (Upstream) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (Upstream) Fields() []ent.Field {
	return []ent.Field{
		field.Int("virtual_project_id"),
		field.Int("upstream_project_id"),
		// policy_id is the caller's name for the entry (as in cloud artifact
		// registries' upstream policies); it breaks priority ties.
		field.String("policy_id").NotEmpty().MaxLen(63),
		field.Int("priority").Range(0, 1000000),
		// created_by_id is the person whose authority the link rests on when
		// the upstream is less visible than the virtual project: the link
		// serves only while they hold MAINTAINER or higher on the upstream
		// (a role that could change its visibility and members directly).
		// Unset on links made before the rule, and for links whose upstream
		// is at least as visible as the virtual project.
		field.Int("created_by_id").Optional().Nillable(),
		// approved_visibility is the virtual project's visibility when that
		// person approved the link: the approval covers no wider audience,
		// so making the virtual project more visible later suspends the link
		// until someone with that role saves it again.
		field.Enum("approved_visibility").GoType(enum.Visibility("")).Optional().Nillable(),
	}
}

func (Upstream) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("virtual_project", Project.Type).Ref("upstreams").Field("virtual_project_id").Unique().Required(),
		edge.From("upstream_project", Project.Type).Ref("downstreams").Field("upstream_project_id").Unique().Required(),
		edge.To("created_by", User.Type).Field("created_by_id").Unique(),
	}
}

func (Upstream) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("virtual_project_id", "upstream_project_id").Unique(),
		index.Fields("virtual_project_id", "policy_id").Unique(),
	}
}
