package schema

import (
	"encoding/json"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// PackageFile is one file of a package. Several rows may share a file name
// when duplicates are allowed; the newest wins on download.
type PackageFile struct{ ent.Schema }

func (PackageFile) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (PackageFile) Fields() []ent.Field {
	return []ent.Field{
		field.Int("package_id"),
		field.Int("blob_id"),
		field.String("file_name").NotEmpty().MaxLen(1024),
		field.Int64("size").NonNegative(),
		field.String("sha256").MaxLen(64),
		field.String("sha1").Optional().Nillable().MaxLen(40),
		field.String("md5").Optional().Nillable().MaxLen(32),
		// sha512 is computed for formats whose clients verify it (npm's
		// integrity).
		field.String("sha512").Optional().Nillable().MaxLen(128),
		// metadata is the format's own data about the file (PyPI's
		// requires_python and yanked state): JSON the format owns.
		field.JSON("metadata", json.RawMessage{}).Optional(),
	}
}

func (PackageFile) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("pkg", Pkg.Type).Ref("files").Field("package_id").Unique().Required(),
		edge.From("blob", Blob.Type).Ref("files").Field("blob_id").Unique().Required(),
	}
}

func (PackageFile) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("package_id", "file_name"),
		index.Fields("blob_id"),
	}
}
