package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
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
	}
}

func (Upstream) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("virtual_project", Project.Type).Ref("upstreams").Field("virtual_project_id").Unique().Required(),
		edge.From("upstream_project", Project.Type).Ref("downstreams").Field("upstream_project_id").Unique().Required(),
	}
}

func (Upstream) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("virtual_project_id", "upstream_project_id").Unique(),
		index.Fields("virtual_project_id", "policy_id").Unique(),
	}
}
