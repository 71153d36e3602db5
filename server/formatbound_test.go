package server_test

import (
	"bytes"
	"testing"

	"github.com/pkgreg/registry/server/servertest"
)

// TestUploadsOfAnotherFormatAreRefused: a project created with a format
// takes that format's packages only, whichever format's route an upload
// uses (the core's upload pipeline decides, so no format can forget it).
// The refusal is a 400 that names both formats and stores nothing; the
// same uploads succeed in a project without a format.
func TestUploadsOfAnotherFormatAreRefused(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	e.CreateProjectWith(t, alice, servertest.Project{Namespace: "acme", Path: "pylibs", Format: "PYPI"})
	e.CreateProjectWith(t, alice, servertest.Project{Namespace: "acme", Path: "jars", Format: "MAVEN"})
	e.CreateProjectWith(t, alice, servertest.Project{Namespace: "acme", Path: "any"})

	mod := "example.com/m"
	zip := goModuleZip(t, mod, "v1.0.0", map[string]string{"go.mod": "module " + mod + "\n"})
	npmDoc := publishDoc("left-pad", "1.0.0", npmTgz(t, pkgJSON("left-pad", "1.0.0")), nil)
	uploads := func(project string) []servertest.BadRequest {
		return []servertest.BadRequest{
			{Name: "generic", Method: "PUT", Path: "/api/v4/projects/" + project + "/packages/generic/tool/1.0/tool.bin", Body: []byte("bytes")},
			{Name: "npm", Method: "PUT", Path: npmPath(project, "left-pad"), Body: npmDoc, Header: map[string]string{"Content-Type": "application/json"}},
			{Name: "go", Method: "PUT", Path: "/api/v4/projects/" + project + "/packages/go/" + mod + "/@v/v1.0.0.zip", Body: zip},
		}
	}
	var refused []servertest.BadRequest
	for _, target := range []struct{ project, serves string }{{"acme%2Fpylibs", "serves pypi packages"}, {"acme%2Fjars", "serves maven packages"}} {
		for _, u := range uploads(target.project) {
			u.Name = target.project + " " + u.Name
			if u.Header == nil {
				u.Header = map[string]string{}
			}
			u.Header["PRIVATE-TOKEN"] = alice
			u.Status, u.Message = 400, target.serves+", not "
			refused = append(refused, u)
		}
	}
	e.RefusesAndStoresNothing(t, refused)

	for _, u := range uploads("acme%2Fany") {
		h := tok(alice)
		for k, v := range u.Header {
			h[k] = v
		}
		status, body, _ := e.Do(t, u.Method, u.Path, bytes.NewReader(u.Body), h)
		if status/100 != 2 {
			t.Fatalf("%s into a project without a format: %d %s", u.Name, status, body)
		}
	}
}
