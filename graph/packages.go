package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/pkgreg/registry/graph/model"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

func packageFilter(name *string, typ *enum.Format, version *string, status *enum.PackageStatus, versionless *bool) registry.PackageFilter {
	return registry.PackageFilter{Name: deref(name), Type: typ, Version: deref(version), Status: status, IncludeVersionless: deref(versionless)}
}

// packageOrder maps GitLab's PackageSort to a listing order.
func packageOrder(s *model.PackageSort) registry.PackageOrder {
	v := model.PackageSortCreatedDesc
	if s != nil {
		v = *s
	}
	field, dir, _ := strings.Cut(strings.ToLower(string(v)), "_")
	if field == "created" {
		field = "created_at"
	}
	return registry.PackageOrder{Field: field, Desc: dir == "desc"}
}

func packageSettings(ps *registry.PackageSettings) *model.PackageSettings {
	if ps == nil {
		return nil
	}
	return &model.PackageSettings{
		GenericDuplicatesAllowed: ps.Rules[enum.Generic].Allowed, GenericDuplicateExceptionRegex: ps.Rules[enum.Generic].ExceptionRegex,
		PypiDuplicatesAllowed: ps.Rules[enum.PyPI].Allowed, PypiDuplicateExceptionRegex: ps.Rules[enum.PyPI].ExceptionRegex,
		NpmDuplicatesAllowed: ps.Rules[enum.NPM].Allowed, NpmDuplicateExceptionRegex: ps.Rules[enum.NPM].ExceptionRegex,
		MavenDuplicatesAllowed: ps.Rules[enum.Maven].Allowed, MavenDuplicateExceptionRegex: ps.Rules[enum.Maven].ExceptionRegex,
	}
}

// packageConnection lists a page of packages. Queries stay constant per
// page: projects are eager-loaded, files are loaded for the whole page in
// one query when the selection asks for them, count runs only when asked.
func (r *Resolver) packageConnection(ctx context.Context, scope *registry.PackageScope, f registry.PackageFilter, sort *model.PackageSort, args registry.PageArgs) (*model.PackageConnection, error) {
	page, err := r.Svc.Packages.ListPackagesKeyset(ctx, scope, f, packageOrder(sort), args)
	if err != nil {
		return nil, err
	}
	sel := selectedFields(ctx)
	if sel["nodes.packageFiles"] || sel["edges.node.packageFiles"] {
		if err := r.Svc.Packages.WithFiles(ctx, page.Items); err != nil {
			return nil, err
		}
	}
	c := &model.PackageConnection{PageInfo: pageInfo(page), Nodes: page.Items, Edges: make([]*model.PackageEdge, len(page.Items))}
	for i, it := range page.Items {
		c.Edges[i] = &model.PackageEdge{Cursor: page.Cursors[i], Node: it}
	}
	if sel["count"] {
		if c.Count, err = r.Svc.Packages.CountPackages(ctx, scope, f); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// selectedFields lists the dotted paths selected under the current field
// (two levels deep, enough to see nodes.packageFiles and edges.node.x).
func selectedFields(ctx context.Context) map[string]bool {
	out := map[string]bool{}
	oc := graphql.GetOperationContext(ctx)
	var walk func(prefix string, set []graphql.CollectedField, depth int)
	walk = func(prefix string, set []graphql.CollectedField, depth int) {
		for _, f := range set {
			name := prefix + f.Name
			out[name] = true
			if depth < 3 {
				walk(name+".", graphql.CollectFields(oc, f.Selections, nil), depth+1)
			}
		}
	}
	walk("", graphql.CollectFieldsCtx(ctx, nil), 0)
	return out
}
