package server_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pkgreg/registry/server/servertest"
)

// An upload whose form has no requires_python (curl, or a tool other than
// twine) still gets its Requires-Python from the distribution's own core
// metadata: the wheel's METADATA, the sdist's PKG-INFO. pip reads it from
// the index to skip releases the running Python cannot install. A value in
// the form wins over the file's.
func TestPyPIRequiresPythonFromCoreMetadata(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	id := createPyPIProject(t, e, alice, "acme", "py", "STANDARD", "")
	upload := func(fields map[string]string, fileName string, content []byte) {
		t.Helper()
		body, ctype := pypiForm(t, fields, fileName, content)
		if status, b, _ := e.Do(t, "POST", fmt.Sprintf("/api/v4/projects/%d/packages/pypi", id), bytes.NewReader(body),
			map[string]string{"PRIVATE-TOKEN": alice, "Content-Type": ctype}); status != 201 {
			t.Fatalf("upload %s: %d %s", fileName, status, b)
		}
	}
	page := func(name, accept string) string {
		t.Helper()
		status, b, _ := e.Do(t, "GET", fmt.Sprintf("/api/v4/projects/%d/packages/pypi/simple/%s/", id, name), nil,
			map[string]string{"PRIVATE-TOKEN": alice, "Accept": accept})
		if status != 200 {
			t.Fatalf("simple page %s: %d %s", name, status, b)
		}
		return string(b)
	}
	const jsonAccept = "application/vnd.pypi.simple.v1+json"

	t.Run("wheel", func(t *testing.T) {
		d := pyDist{Name: "wheel-only", Version: "1.0", RequiresPython: ">=3.9"}
		upload(map[string]string{"name": d.Name, "version": d.Version}, "wheel_only-1.0-py3-none-any.whl", wheelBytes(t, d))
		if html := page("wheel-only", "text/html"); !strings.Contains(html, `data-requires-python="&gt;=3.9"`) {
			t.Errorf("HTML page without data-requires-python from METADATA:\n%s", html)
		}
		if js := page("wheel-only", jsonAccept); !strings.Contains(js, `"requires-python":">=3.9"`) {
			t.Errorf("JSON page without requires-python from METADATA:\n%s", js)
		}
	})

	t.Run("sdist", func(t *testing.T) {
		d := pyDist{Name: "sdist-only", Version: "2.0", RequiresPython: ">=3.10,<4"}
		raw, err := os.ReadFile(d.sdist(t, t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		upload(map[string]string{"name": d.Name, "version": d.Version}, "sdist_only-2.0.tar.gz", raw)
		if html := page("sdist-only", "text/html"); !strings.Contains(html, `data-requires-python="&gt;=3.10,&lt;4"`) {
			t.Errorf("HTML page without data-requires-python from PKG-INFO:\n%s", html)
		}
		if js := page("sdist-only", jsonAccept); !strings.Contains(js, `"requires-python":">=3.10,<4"`) {
			t.Errorf("JSON page without requires-python from PKG-INFO:\n%s", js)
		}
	})

	t.Run("the form wins", func(t *testing.T) {
		d := pyDist{Name: "form-wins", Version: "1.0", RequiresPython: ">=3.9"}
		upload(map[string]string{"name": d.Name, "version": d.Version, "requires_python": ">=3.11"}, "form_wins-1.0-py3-none-any.whl", wheelBytes(t, d))
		if html := page("form-wins", "text/html"); !strings.Contains(html, `data-requires-python="&gt;=3.11"`) || strings.Contains(html, "3.9") {
			t.Errorf("HTML page should carry the form's requires_python only:\n%s", html)
		}
	})

	t.Run("neither", func(t *testing.T) {
		d := pyDist{Name: "no-requirement", Version: "1.0"}
		upload(map[string]string{"name": d.Name, "version": d.Version}, "no_requirement-1.0-py3-none-any.whl", wheelBytes(t, d))
		if html := page("no-requirement", "text/html"); strings.Contains(html, "data-requires-python") {
			t.Errorf("HTML page has a data-requires-python no one declared:\n%s", html)
		}
		if js := page("no-requirement", jsonAccept); strings.Contains(js, "requires-python") {
			t.Errorf("JSON page has a requires-python no one declared:\n%s", js)
		}
	})
}
