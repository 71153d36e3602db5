package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/pkgreg/registry/server/registry/enum"
)

// PackageTag names one version of a package in a project (npm's dist-tags:
// "latest", "next"). A tag points at a version, not at a package row, so
// that it survives the version's files being replaced.
type PackageTag struct{ ent.Schema }

func (PackageTag) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (PackageTag) Fields() []ent.Field {
	return []ent.Field{
		field.Int("project_id"),
		field.Enum("package_type").GoType(enum.Format("")),
		field.String("name").NotEmpty().MaxLen(255),
		field.String("tag").NotEmpty().MaxLen(255),
		field.String("version").NotEmpty().MaxLen(255),
	}
}

func (PackageTag) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("project", Project.Type).Ref("package_tags").Field("project_id").Unique().Required(),
	}
}

func (PackageTag) Indexes() []ent.Index {
	return []ent.Index{index.Fields("project_id", "package_type", "name", "tag").Unique()}
}
