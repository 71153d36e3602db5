package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Limits on one GraphQL request, checked before gqlparser validates the
// query. Validation cannot be interrupted (it takes no context) and its
// OverlappingFieldsCanBeMerged rule compares every pair of fields that
// share a response path: 10,000 copies of one field took 13 s of CPU. The
// numbers below keep the worst accepted document under 50 ms of parsing
// and validation (TestWorstAcceptedQueryValidatesQuickly measures it).
const (
	// maxBodyBytes bounds a POST body (query, variables and extensions).
	maxBodyBytes = 128 << 10
	// maxQueryBytes bounds the query text of POST and GET requests alike.
	maxQueryBytes = 64 << 10
	// maxTokens bounds the lexer's tokens (names, punctuation, values); the
	// parser stops at the limit, so parsing is linear and short.
	maxTokens = 10_000
	// maxFields bounds the fields of the document with every fragment
	// spread expanded where it is used, across all operations and fragment
	// definitions (all are validated, not only the one executed). It equals
	// MaxComplexity: an executed operation with more fields would be refused
	// by the complexity limit anyway.
	maxFields = MaxComplexity
	// maxSamePath bounds how many fields may share one response path (the
	// same field repeated, possibly through fragments). Legitimate queries
	// repeat a field a handful of times when fragments overlap; validation
	// compares each pair, so this keeps that work linear in maxFields.
	maxSamePath = 20
	// maxExpanded bounds the selections (fields, fragment spreads, inline
	// fragments) the check itself visits with fragments expanded, so that
	// fragments spreading each other many times over, or in a cycle, cannot
	// make the check slow before any field is counted.
	maxExpanded = 4 * maxFields
	// RequestTimeout is the most one GraphQL request may take. Resolvers
	// stop at the deadline (database calls take the context), and so does
	// the request between its phases.
	RequestTimeout = 30 * time.Second
)

// codeQueryTooLarge marks requests refused by the limits above. It is a
// protocol error, so gqlgen answers 422 (400 for graphql-response+json)
// rather than 200.
const codeQueryTooLarge = "QUERY_TOO_LARGE"

func init() { errcode.RegisterErrorType(codeQueryTooLarge, errcode.KindProtocol) }

func tooLarge(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, codeQueryTooLarge)
	return err
}

// queryLimits refuses oversized documents before gqlgen parses and
// validates them. Documents already in the query cache passed these checks
// and validation, so they are not parsed again.
type queryLimits struct {
	cache graphql.Cache[*ast.QueryDocument]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = queryLimits{}

func (queryLimits) ExtensionName() string                   { return "QueryLimits" }
func (queryLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (l queryLimits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if err := ctx.Err(); err != nil {
		return contextError(err)
	}
	if len(p.Query) > maxQueryBytes {
		return tooLarge("query is %d bytes; the limit is %d", len(p.Query), maxQueryBytes)
	}
	if _, ok := l.cache.Get(ctx, p.Query); ok {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, maxTokens)
	if err != nil {
		var gerr *gqlerror.Error
		if errors.As(err, &gerr) {
			if gerr.Message == fmt.Sprintf("exceeded token limit of %d", maxTokens) {
				return tooLarge("query has more than %d tokens (names, punctuation and values); that is the limit", maxTokens)
			}
			errcode.Set(gerr, errcode.ParseFailed)
			return gerr
		}
		return gqlerror.Errorf("query could not be parsed")
	}
	if msg := checkShape(doc); msg != "" {
		return tooLarge("%s", msg)
	}
	return nil
}

// checkShape counts fields the way validation visits them: each operation
// and each fragment definition on its own, fragment spreads expanded, and
// fields grouped by response path. It stops as soon as a limit is passed,
// so it costs at most maxFields steps.
func checkShape(doc *ast.QueryDocument) string {
	fragments := make(map[string]*ast.FragmentDefinition, len(doc.Fragments))
	for _, f := range doc.Fragments {
		if _, ok := fragments[f.Name]; !ok {
			fragments[f.Name] = f
		}
	}
	c := shapeCounter{fragments: fragments, active: map[string]bool{}}
	for _, op := range doc.Operations {
		c.walk(op.SelectionSet, &pathNode{})
		if c.msg != "" {
			return c.msg
		}
	}
	for _, f := range doc.Fragments {
		c.walk(f.SelectionSet, &pathNode{})
		if c.msg != "" {
			return c.msg
		}
	}
	return ""
}

// pathNode is one response path: how many fields share it, and its children.
type pathNode struct {
	count    int
	children map[string]*pathNode
}

type shapeCounter struct {
	fragments map[string]*ast.FragmentDefinition
	active    map[string]bool // fragments being expanded; a cycle is validation's to report
	fields    int
	visits    int
	msg       string
}

func (c *shapeCounter) walk(set ast.SelectionSet, at *pathNode) {
	for _, sel := range set {
		if c.msg != "" {
			return
		}
		if c.visits++; c.visits > maxExpanded {
			c.msg = fmt.Sprintf("query has more than %d selections once its fragments are expanded; the limit is %d", maxExpanded, maxExpanded)
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			c.fields++
			if c.fields > maxFields {
				c.msg = fmt.Sprintf("query has more than %d fields (fragments counted where they are spread); the limit is %d", maxFields, maxFields)
				return
			}
			name := s.Alias
			if name == "" {
				name = s.Name
			}
			if at.children == nil {
				at.children = map[string]*pathNode{}
			}
			child := at.children[name]
			if child == nil {
				child = &pathNode{}
				at.children[name] = child
			}
			child.count++
			if child.count > maxSamePath {
				c.msg = fmt.Sprintf("field %q is selected more than %d times at one place (line %d); the limit is %d",
					name, maxSamePath, s.Position.Line, maxSamePath)
				return
			}
			c.walk(s.SelectionSet, child)
		case *ast.InlineFragment:
			c.walk(s.SelectionSet, at)
		case *ast.FragmentSpread:
			f := c.fragments[s.Name]
			if f == nil || c.active[s.Name] {
				continue
			}
			c.active[s.Name] = true
			c.walk(f.SelectionSet, at)
			delete(c.active, s.Name)
		}
	}
}

// contextError reports a request that was cancelled or ran out of time.
func contextError(err error) *gqlerror.Error {
	gerr := gqlerror.Errorf("request cancelled")
	if errors.Is(err, context.DeadlineExceeded) {
		gerr = gqlerror.Errorf("request took longer than %s", RequestTimeout)
	}
	gerr.Extensions = map[string]any{"code": "TIMEOUT"}
	return gerr
}

// contextCheck stops a request whose client left, or whose deadline
// passed, between validation and execution.
type contextCheck struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = contextCheck{}

func (contextCheck) ExtensionName() string                   { return "ContextCheck" }
func (contextCheck) Validate(graphql.ExecutableSchema) error { return nil }

func (contextCheck) MutateOperationContext(ctx context.Context, _ *graphql.OperationContext) *gqlerror.Error {
	if err := ctx.Err(); err != nil {
		return contextError(err)
	}
	return nil
}

// guardRequest puts a deadline on the request and reads POST bodies itself:
// a body over maxBodyBytes gets 413, and one that is not a JSON GraphQL
// request gets 400 with a message that names the problem. (gqlgen's own
// decode error echoes the whole body back, and answers an oversized body
// with 200.)
func guardRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), RequestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		if r.Method == http.MethodPost {
			if r.ContentLength > maxBodyBytes {
				writeRequestError(w, http.StatusRequestEntityTooLarge, codeQueryTooLarge,
					fmt.Sprintf("request body is %d bytes; the limit is %d", r.ContentLength, maxBodyBytes))
				return
			}
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
			if err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					writeRequestError(w, http.StatusRequestEntityTooLarge, codeQueryTooLarge,
						fmt.Sprintf("request body is over the limit of %d bytes", maxBodyBytes))
					return
				}
				writeRequestError(w, http.StatusBadRequest, "BAD_REQUEST", "request body could not be read")
				return
			}
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
				if msg := decodeProblem(body); msg != "" {
					writeRequestError(w, http.StatusBadRequest, "BAD_REQUEST", msg)
					return
				}
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

// decodeProblem decodes body as gqlgen's POST transport will and describes
// what is wrong without quoting the body: the request may carry secrets in
// its variables, and echoing input back is how reflected content gets in.
func decodeProblem(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var p graphql.RawParams
	err := dec.Decode(&p)
	if err == nil {
		return ""
	}
	const want = `request body must be a JSON object {"query": "...", "operationName": "...", "variables": {...}}`
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("%s; it is not valid JSON (syntax error at byte %d)", want, syntax.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("%s; %q must not be a JSON %s", want, typ.Field, typ.Value)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s; it is a JSON %s", want, typ.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("%s; it is empty or cut short", want)
	}
	return want
}

func writeRequestError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{
		{"message": msg, "extensions": map[string]any{"code": code}},
	}})
}
