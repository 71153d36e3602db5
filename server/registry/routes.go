package registry

import (
	"context"
	"strings"

	"github.com/pkgreg/registry/ent"
	"github.com/pkgreg/registry/ent/predicate"
	"github.com/pkgreg/registry/ent/route"
)

// claimRoute reserves fullPath for a namespace or a project. Routes are
// stored lower-cased so that "Group" and "group" cannot both exist (GitLab
// treats paths case-insensitively); the unique index makes it race-free.
func claimRoute(ctx context.Context, tx *ent.Tx, fullPath string, nsID, projectID *int) error {
	c := tx.Route.Create().SetPath(strings.ToLower(fullPath))
	if nsID != nil {
		c.SetNamespaceID(*nsID)
	}
	if projectID != nil {
		c.SetProjectID(*projectID)
	}
	if err := c.Exec(ctx); err != nil {
		return DBError(err, "path '"+fullPath+"' has already been taken")
	}
	return nil
}

func routePathFold(p string) predicate.Route {
	return route.PathEQ(strings.ToLower(p))
}
