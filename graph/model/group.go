package model

import (
	"github.com/pkgreg/registry/ent"
)

// Group is a namespace of kind group; a distinct Go type so that the Node
// interface can tell Group from Namespace.
type Group struct{ *ent.Namespace }

func (Group) IsNode() {}
