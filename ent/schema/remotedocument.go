package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// RemoteDocument is a REMOTE project's cached copy of one upstream metadata
// document (a PyPI simple page, an npm packument, a Go version list). It is
// fresh for the project's cache TTL; after that it is revalidated, and
// served stale when the upstream is down and the project allows it.
// Package files are not documents: they are cached as package files.
//
// The row is a pointer: the body is a content-addressed Blob (by SHA-256),
// so the same document cached by several REMOTE projects is stored once,
// and the database holds no document bodies. The sweeper reclaims a body
// once no document and no package file references it.
type RemoteDocument struct{ ent.Schema }

func (RemoteDocument) Fields() []ent.Field {
	return []ent.Field{
		field.Int("project_id"),
		// key names the document within the project (format-defined).
		field.String("key").NotEmpty().MaxLen(2048),
		// status is the upstream's answer: 200, or 404/410 for a cached miss.
		field.Int("status"),
		// blob_id is the body; nil on rows written before bodies moved to
		// the blob store (those rows are dropped at start: a cache).
		field.Int("blob_id").Optional().Nillable(),
		field.String("sha256").Default("").MaxLen(64),
		field.Int64("size").Default(0),
		field.String("content_type").Default(""),
		field.String("etag").Default(""),
		field.Time("fetched_at"),
	}
}

func (RemoteDocument) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("project", Project.Type).Ref("remote_documents").Field("project_id").Unique().Required(),
		edge.From("blob", Blob.Type).Ref("remote_documents").Field("blob_id").Unique(),
	}
}

func (RemoteDocument) Indexes() []ent.Index {
	return []ent.Index{index.Fields("project_id", "key").Unique(), index.Fields("blob_id")}
}
