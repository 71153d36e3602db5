package schema

import (
	"encoding/json"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/pkgreg/registry/server/registry/enum"
)

// Pkg is a package: one name/version of one format in one project. It is
// not called Package because ent derives the Go package name "package".
type Pkg struct{ ent.Schema }

func (Pkg) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "packages"}}
}

func (Pkg) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (Pkg) Fields() []ent.Field {
	return []ent.Field{
		field.Int("project_id"),
		field.Enum("package_type").GoType(enum.Format("")),
		field.String("name").NotEmpty().MaxLen(255),
		field.String("version").MaxLen(255),
		field.Enum("status").GoType(enum.PackageStatus("")).Default(string(enum.StatusDefault)),
		field.Time("last_downloaded_at").Optional().Nillable(),
		// metadata is the format's own data about the version (npm's version
		// manifest, PyPI's core metadata fields): JSON the format owns.
		field.JSON("metadata", json.RawMessage{}).Optional(),
	}
}

func (Pkg) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("project", Project.Type).Ref("packages").Field("project_id").Unique().Required(),
		edge.To("files", PackageFile.Type),
	}
}

func (Pkg) Indexes() []ent.Index {
	return []ent.Index{
		// One package per project/type/name/version, enforced by the database
		// so that concurrent first uploads converge on one row.
		index.Fields("project_id", "package_type", "name", "version").Unique(),
		index.Fields("project_id", "package_type", "status"),
	}
}
