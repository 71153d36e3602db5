//go:build unix

package graph

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/pkgreg/registry/graph/generated"
)

// accepted reports whether the pre-validation limits let q through.
func accepted(t *testing.T, q string) bool {
	t.Helper()
	if len(q) > maxQueryBytes {
		return false
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: q}, maxTokens)
	if err != nil {
		t.Log(err)
		return false
	}
	msg := checkShape(doc)
	if msg != "" {
		t.Log(msg)
	}
	return msg == ""
}

func repeat(n int, f func(i int) string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(f(i))
		b.WriteByte(' ')
	}
	return b.String()
}

// TestWorstAcceptedQueryValidatesQuickly builds the most expensive documents
// the limits let through, for each shape that makes validation slow, and
// times parsing plus validation (the part that cannot be interrupted).
func TestWorstAcceptedQueryValidatesQuickly(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}}).Schema()
	same := func(name string, n int) string { return repeat(n, func(int) string { return name }) }
	worst := map[string]string{
		// maxFields fields in groups of maxSamePath sharing a response name.
		"repeated fields": "{ currentUser { " + repeat(maxFields/maxSamePath-1, func(i int) string {
			return same(fmt.Sprintf("u%d: username", i), maxSamePath)
		}) + same("username", maxSamePath-1) + "} }",
		// Repeated objects whose children are compared pairwise.
		"repeated objects": "{ currentUser { " + same("namespace { id fullPath }", maxSamePath) + "} }",
		// Distinct fields up to the token limit, each with arguments.
		"distinct fields": "{ " + repeat(maxTokens/11-1, func(i int) string {
			return fmt.Sprintf(`p%d: project(fullPath: "g/p%d") { id }`, i, i)
		}) + "}",
		// One fragment spread by many operations: validated once per operation.
		"shared fragment": "fragment F on User { " + same("username", maxSamePath) + "} " +
			repeat(maxFields/(maxSamePath+1)-1, func(i int) string { return fmt.Sprintf("query q%d { currentUser { ...F } }", i) }),
		// Fragments spreading one another.
		"fragment chain": repeat(maxSamePath-1, func(i int) string {
			return fmt.Sprintf("fragment F%d on User { username ...F%d } ", i, i+1)
		}) + "fragment F19 on User { id } { currentUser { ...F0 } }",
		// Nesting as deep as the parser allows (the depth limit runs after validation).
		"deep nesting": "{ currentUser { namespace " + strings.Repeat("{ parent ", 997) + strings.Repeat("} ", 997) + "} }",
		// One long list argument.
		"long list":     `{ nodes(ids: [` + repeat(maxTokens-20, func(i int) string { return `"x"` }) + `]) { id } }`,
		"introspection": introspection.Query,
	}
	for name, q := range worst {
		if !accepted(t, q) {
			t.Errorf("%s: the limits refuse it; it is meant to be the worst accepted document", name)
			continue
		}
		// CPU time of the process, not wall time: the figure is the work
		// done, whatever else the machine runs; the best of 5 runs.
		best := time.Hour
		for range 5 {
			start := cpuTime(t)
			doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: q}, maxTokens)
			if err != nil {
				t.Fatal(err)
			}
			_ = validator.ValidateWithRules(schema, doc, rules.NewDefaultRules())
			best = min(best, cpuTime(t)-start)
		}
		t.Logf("%-16s %6d bytes: parse+validate %v of CPU", name, len(q), best)
		if best > 50*time.Millisecond {
			t.Errorf("%s: parse+validate took %v of CPU; the budget is 50ms", name, best)
		}
	}

	// The documents of the report, and their cousins, are refused.
	for name, q := range map[string]string{
		"10,000 username":      "{ currentUser { " + same("username", 10_000) + "} }",
		"21 username":          "{ currentUser { " + same("username", maxSamePath+1) + "} }",
		"nested repeats":       "{ currentUser { " + same("namespace { "+same("id", 5)+"}", 5) + "} }",
		"too many fields":      "{ currentUser { " + repeat(maxFields+1, func(i int) string { return fmt.Sprintf("u%d: username", i) }) + "} }",
		"fragment fan-out":     "fragment F on User { " + same("username", 10) + "} " + repeat(maxFields/10+1, func(i int) string { return fmt.Sprintf("query q%d { currentUser { ...F } }", i) }),
		"fragment bomb":        repeat(30, func(i int) string { return fmt.Sprintf("fragment F%d on User { ...F%d ...F%d } ", i, i+1, i+1) }) + "fragment F30 on User { id } { currentUser { ...F0 } }",
		"fragment cycle bomb":  repeat(30, func(i int) string { return fmt.Sprintf("fragment F%d on User { ...F%d ...F%d } ", i, i+1, i+1) }) + "fragment F30 on User { ...F0 } { currentUser { ...F0 } }",
		"too many tokens":      "{ currentUser { username(" + repeat(maxTokens, func(i int) string { return fmt.Sprintf("a%d: 1", i) }) + ") } }",
		"too many query bytes": "{ currentUser { username } }" + strings.Repeat(" ", maxQueryBytes),
	} {
		if accepted(t, q) {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestRequestsHaveADeadlineAndStopWhenCancelled: every request runs under
// RequestTimeout, and a request whose client left stops before parsing.
func TestRequestsHaveADeadlineAndStopWhenCancelled(t *testing.T) {
	var deadline time.Time
	h := guardRequest(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { deadline, _ = r.Context().Deadline() }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/graphql?query={__typename}", nil))
	if left := time.Until(deadline); left <= 0 || left > RequestTimeout {
		t.Fatalf("deadline in %v", left)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := queryLimits{cache: lru.New[*ast.QueryDocument](1)}.MutateOperationParameters(ctx, &graphql.RawParams{Query: "{ __typename }"})
	if err == nil || err.Message != "request cancelled" {
		t.Fatalf("cancelled request: %v", err)
	}
	if err := (contextCheck{}).MutateOperationContext(ctx, nil); err == nil {
		t.Fatal("cancelled request passed the check before execution")
	}
}

// cpuTime is the CPU time the process has used (user and system).
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
