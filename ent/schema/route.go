package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
)

// Route reserves a full path for exactly one namespace or project, as
// GitLab's routes table does. Its unique index is what stops a concurrent
// createGroup and createProject from claiming the same path.
type Route struct{ ent.Schema }

func (Route) Fields() []ent.Field {
	return []ent.Field{
		field.String("path").Unique().NotEmpty().MaxLen(1024),
		field.Int("namespace_id").Optional().Nillable().Unique(),
		field.Int("project_id").Optional().Nillable().Unique(),
	}
}
