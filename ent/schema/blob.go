package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Blob maps content (by SHA-256) to the object that holds it, so identical
// files are stored once. The sweeper deletes blobs no file and no cached
// remote document references.
type Blob struct{ ent.Schema }

func (Blob) Fields() []ent.Field {
	return []ent.Field{
		field.String("sha256").Unique().NotEmpty().MaxLen(64),
		field.Int64("size").NonNegative(),
		field.String("storage_key").Unique().NotEmpty(),
		field.String("sha1").Optional().Nillable().MaxLen(40),
		field.String("md5").Optional().Nillable().MaxLen(32),
		field.Time("created_at").Immutable(),
		// orphaned_at is set when the last file using the blob is deleted;
		// the sweeper removes the blob a grace period later (so downloads in
		// flight finish) unless an upload has reused it meanwhile.
		field.Time("orphaned_at").Optional().Nillable(),
	}
}

func (Blob) Indexes() []ent.Index {
	return []ent.Index{index.Fields("orphaned_at")}
}

func (Blob) Edges() []ent.Edge {
	return []ent.Edge{edge.To("files", PackageFile.Type), edge.To("remote_documents", RemoteDocument.Type)}
}
