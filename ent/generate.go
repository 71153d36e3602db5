// Package ent holds the generated data access code. The schema is in ./schema.
package ent

//go:generate go tool ent generate --feature sql/upsert,sql/lock,sql/execquery ./schema
