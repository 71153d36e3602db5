package servertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pkgreg/registry/server/blob"
	"github.com/pkgreg/registry/server/registry"
)

// StoredState counts what uploads leave behind: package rows, file rows,
// blob rows and objects in the blob store.
func (e *Env) StoredState(t testing.TB) string {
	t.Helper()
	ctx := t.Context()
	p, err := e.Server.DB.Pkg.Query().Count(ctx)
	if err != nil {
		t.Fatalf("counting packages: %v", err)
	}
	f, err := e.Server.DB.PackageFile.Query().Count(ctx)
	if err != nil {
		t.Fatalf("counting package files: %v", err)
	}
	b, err := e.Server.DB.Blob.Query().Count(ctx)
	if err != nil {
		t.Fatalf("counting blobs: %v", err)
	}
	objects := 0
	if err := e.Server.Blobs.Walk(ctx, registry.ObjectPrefix, func(blob.Info) error { objects++; return nil }); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("packages=%d files=%d blobs=%d objects=%d", p, f, b, objects)
}

// BadRequest is one request the registry must refuse without storing
// anything.
type BadRequest struct {
	Name   string
	Method string
	// Path (from the root, may carry a ?query) is sent exactly as written:
	// no client-side cleaning of dot segments or escapes.
	Path    string
	Body    []byte
	Chunked bool // send the body without a Content-Length
	Header  map[string]string
	// Status and Message: the answer has this status and its body contains
	// Message; with JSONField, the body is a JSON object with a string field
	// JSONField, and that field contains Message.
	Status    int
	Message   string
	JSONField string
}

// RefusesAndStoresNothing sends each request in a subtest and checks its
// status and message, and that it left no package row, no file row, no
// blob row and no object in the blob store (checked after every request,
// and once more after all of them).
func (e *Env) RefusesAndStoresNothing(t *testing.T, reqs []BadRequest) {
	t.Helper()
	before := e.StoredState(t)
	for _, c := range reqs {
		t.Run(c.Name, func(t *testing.T) {
			start := e.StoredState(t)
			status, body := e.sendRaw(t, c)
			says := string(body)
			if c.JSONField != "" {
				var doc map[string]any
				_ = json.Unmarshal(body, &doc)
				s, ok := doc[c.JSONField].(string)
				if !ok {
					t.Fatalf("%d %s: not a JSON object with a string %q", status, body, c.JSONField)
				}
				says = s
			}
			if status != c.Status || !strings.Contains(says, c.Message) {
				t.Fatalf("%d %s, want %d with %q", status, body, c.Status, c.Message)
			}
			if after := e.StoredState(t); after != start {
				t.Fatalf("stored something: %s -> %s", start, after)
			}
		})
	}
	if after := e.StoredState(t); after != before {
		t.Fatalf("bad input stored something: %s -> %s", before, after)
	}
}

func (e *Env) sendRaw(t testing.TB, c BadRequest) (int, []byte) {
	t.Helper()
	var body io.Reader = bytes.NewReader(c.Body)
	if c.Chunked {
		body = io.MultiReader(body) // hides the length: chunked
	}
	method := c.Method
	if method == "" {
		method = http.MethodPut
	}
	req, err := http.NewRequest(method, e.URL+c.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.Chunked {
		req.ContentLength = -1
	}
	path, query, _ := strings.Cut(c.Path, "?")
	req.URL.Opaque, req.URL.RawQuery = "//"+req.URL.Host+path, query
	for k, v := range c.Header {
		req.Header.Set(k, v)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}
