package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/pkgreg/registry/server/registry/enum"
)

// Namespace is a group (possibly nested) or a user's personal namespace.
type Namespace struct{ ent.Schema }

func (Namespace) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (Namespace) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").GoType(enum.NamespaceKind("")).Immutable(),
		field.String("path").NotEmpty().MaxLen(255),
		// full_path is unique across namespaces AND projects; the domain checks
		// projects, the index guards namespaces against concurrent creation.
		field.String("full_path").Unique().NotEmpty().MaxLen(1024),
		field.String("name").NotEmpty().MaxLen(255),
		field.String("description").Default(""),
		field.Enum("visibility").GoType(enum.Visibility("")).Default(string(enum.Private)),
		field.Int("parent_id").Optional().Nillable(),
		field.Int("owner_id").Optional().Nillable(),
	}
}

func (Namespace) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("children", Namespace.Type).From("parent").Field("parent_id").Unique(),
		edge.From("owner", User.Type).Ref("namespace").Field("owner_id").Unique(),
		edge.To("projects", Project.Type),
		edge.To("members", Member.Type),
		edge.To("package_setting", NamespacePackageSetting.Type).Unique(),
	}
}

func (Namespace) Indexes() []ent.Index {
	return []ent.Index{index.Fields("parent_id")}
}
