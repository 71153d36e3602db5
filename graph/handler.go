package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/pkgreg/registry/graph/generated"
	"github.com/pkgreg/registry/graph/model"
	"github.com/pkgreg/registry/server/registry"
	"github.com/pkgreg/registry/server/registry/enum"
)

const (
	// MaxComplexity bounds how much work one query may ask for (each
	// field costs 1; connections multiply by their page size).
	MaxComplexity = 2000
	// MaxDepth bounds query nesting.
	MaxDepth = 12
)

// NewHandler builds the GraphQL endpoint (POST and GET queries; no
// subscriptions) over the domain service and the formats that have
// GraphQL fields of their own.
func NewHandler(svc *registry.Service, log *slog.Logger, formats Formats) http.Handler {
	cfg := generated.Config{Resolvers: &Resolver{Svc: svc, Log: log, PyPI: formats.PyPI}}
	cfg.Complexity = complexity()
	srv := handler.New(generated.NewExecutableSchema(cfg))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	queries := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(queries)
	srv.SetParserTokenLimit(maxTokens)
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	// After APQ, which may fill in the query text from its hash.
	srv.Use(queryLimits{cache: queries})
	srv.Use(contextCheck{})
	srv.Use(extension.FixedComplexityLimit(MaxComplexity))
	srv.Use(depthLimit{max: MaxDepth})
	srv.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			// The request's deadline passed or its client left: not a fault to log.
			cerr := contextError(err)
			cerr.Path = gerr.Path
			return cerr
		}
		var de *registry.Error
		if !errors.As(err, &de) {
			var ge *gqlerror.Error
			if errors.As(err, &ge) && ge.Err == nil {
				return gerr // parse and validation errors: already clear
			}
			de = registry.Internal(err, "internal server error")
		}
		if de.Kind == registry.KindInternal || de.Kind == registry.KindUnavailable {
			log.ErrorContext(ctx, "graphql resolver failed", "err", err, "path", gerr.Path.String())
		}
		gerr.Message = de.Message
		if gerr.Extensions == nil {
			gerr.Extensions = map[string]any{}
		}
		gerr.Extensions["code"] = de.Kind.String()
		return gerr
	})
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		log.ErrorContext(ctx, "panic in graphql resolver", "panic", fmt.Sprint(v))
		return registry.Internal(fmt.Errorf("panic: %v", v), "internal server error")
	})
	return guardRequest(requireAPIScope(srv))
}

// requireAPIScope turns away tokens that may not use the API before any
// query runs, with GitLab's 403 and a message that says which scope is missing.
func requireAPIScope(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := registry.AuthorizeAPI(registry.PrincipalFrom(r.Context())); err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{
				{"message": registry.PublicMessage(err), "extensions": map[string]any{"code": registry.KindForbidden.String()}},
			}})
			return
		}
		// Access checks are memoized per request: GraphQL resolves the same
		// projects for many fields, and the answer cannot change mid-request
		// for the same caller.
		next.ServeHTTP(w, r.WithContext(registry.WithAccessCache(r.Context())))
	})
}

// Explorer serves GraphiQL pointed at endpoint.
func Explorer(endpoint string) http.Handler {
	return playground.Handler("Registry GraphQL explorer", endpoint)
}

// complexity makes connections cost their page size times their children.
func complexity() generated.ComplexityRoot {
	var c generated.ComplexityRoot
	page := func(child int, first, last *int) int {
		n := 20
		if first != nil {
			n = *first
		} else if last != nil {
			n = *last
		}
		return 1 + child*max(n, 1)
	}
	c.Namespace.Projects = func(child int, first *int, _ *string, last *int, _ *string) int { return page(child, first, last) }
	c.Group.Projects = c.Namespace.Projects
	c.Group.GroupMembers = func(child int, _ []registry.MemberRelation, first *int, _ *string, last *int, _ *string) int {
		return page(child, first, last)
	}
	c.Project.ProjectMembers = c.Group.GroupMembers
	c.Project.Packages = func(child int, _ *string, _ *enum.Format, _ *string, _ *enum.PackageStatus, _ *bool, _ *model.PackageSort, first *int, _ *string, last *int, _ *string) int {
		return page(child, first, last)
	}
	c.Group.Packages = func(child int, _ *string, _ *enum.Format, _ *string, _ *enum.PackageStatus, _ *bool, _ *bool, _ *model.PackageSort, first *int, _ *string, last *int, _ *string) int {
		return page(child, first, last)
	}
	c.Package.PackageFiles = func(child int, first *int, _ *string, last *int, _ *string) int { return page(child, first, last) }
	return c
}

// depthLimit rejects operations nested deeper than max.
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (d depthLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, 0); depth > d.max {
		err := gqlerror.Errorf("query is nested %d levels deep; the limit is %d", depth, d.max)
		err.Extensions = map[string]any{"code": "DEPTH_LIMIT_EXCEEDED"}
		return err
	}
	return nil
}

func selectionDepth(set ast.SelectionSet, seen int) int {
	if seen > 64 { // fragments can refer to each other; validation catches cycles
		return seen
	}
	deepest := seen
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			d = selectionDepth(s.SelectionSet, seen+1)
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, seen)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				d = selectionDepth(s.Definition.SelectionSet, seen)
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
}
