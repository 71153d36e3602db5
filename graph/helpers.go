package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/graph/model"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/gid"
)

func principal(ctx context.Context) *registry.Principal { return registry.PrincipalFrom(ctx) }

// userErrors splits a domain error the way GitLab's mutations do: problems
// the caller can fix (invalid input, conflicts) go into the payload's
// errors list; everything else (permissions, missing objects, internal
// failures) is a GraphQL error.
func userErrors(err error) ([]string, error) {
	switch registry.KindOf(err) {
	case registry.KindInvalid, registry.KindConflict:
		return []string{registry.PublicMessage(err)}, nil
	}
	return nil, err
}

// notFoundIsNull turns "not visible" into a null result, as GitLab's
// queries do for missing objects.
func notFoundIsNull[T any](v T, err error) (T, error) {
	var zero T
	if registry.KindOf(err) == registry.KindNotFound {
		return zero, nil
	}
	return v, err
}

func pageArgs(first *int, after *string, last *int, before *string) registry.PageArgs {
	return registry.PageArgs{First: first, After: after, Last: last, Before: before}
}

func pageInfo[T any](p *registry.Page[T]) *model.PageInfo {
	pi := &model.PageInfo{HasNextPage: p.HasNextPage, HasPreviousPage: p.HasPreviousPage}
	if n := len(p.Cursors); n > 0 {
		pi.StartCursor, pi.EndCursor = &p.Cursors[0], &p.Cursors[n-1]
	}
	return pi
}

func projectConnection(p *registry.Page[*ent.Project]) *model.ProjectConnection {
	c := &model.ProjectConnection{PageInfo: pageInfo(p), Nodes: p.Items, Edges: make([]*model.ProjectEdge, len(p.Items))}
	for i, it := range p.Items {
		c.Edges[i] = &model.ProjectEdge{Cursor: p.Cursors[i], Node: it}
	}
	return c
}

func memberConnection(p *registry.Page[*ent.Member]) *model.MemberConnection {
	c := &model.MemberConnection{PageInfo: pageInfo(p), Nodes: p.Items, Edges: make([]*model.MemberEdge, len(p.Items))}
	for i, it := range p.Items {
		c.Edges[i] = &model.MemberEdge{Cursor: p.Cursors[i], Node: it}
	}
	return c
}

// group wraps a namespace as a Group, or nil for personal namespaces.
func group(ns *ent.Namespace) *model.Group {
	if ns == nil || ns.Kind != "group" {
		return nil
	}
	return &model.Group{Namespace: ns}
}

// parseID reads a global id of the wanted type.
func parseID(id, want string) (int, error) {
	typ, n, err := gid.Parse(id)
	if err != nil {
		return 0, registry.Invalid("%s", err.Error())
	}
	if typ != want {
		return 0, registry.Invalid("%q is not the id of a %s", id, want)
	}
	return n, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// nodeOrNil avoids a typed-nil interface for missing nodes.
func nodeOrNil[T model.Node](v T, err error) (model.Node, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

// unpack splits a created token into its one-time secret and its metadata.
func unpack(nt *registry.NewToken) (*string, *ent.AccessToken) {
	if nt == nil {
		return nil, nil
	}
	return &nt.Secret, nt.Token
}

// parseIDs reads a list of global ids of the wanted type.
func parseIDs(ids []string, want string) ([]int, error) {
	out := make([]int, len(ids))
	for i, id := range ids {
		n, err := parseID(id, want)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// listedIn is the nearest project above this field in the query (the one
// whose packages listing is being resolved), or nil.
func listedIn(ctx context.Context) *ent.Project {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if p, ok := fc.Result.(*ent.Project); ok {
			return p
		}
	}
	return nil
}
