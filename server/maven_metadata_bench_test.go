package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/pkgreg/registry/server/servertest"
)

// BenchmarkMavenMetadata1000 measures an artifact's maven-metadata.xml
// with 1,000 versions, rendered from the rows on every request (the
// issue's target: median under 10 ms).
func BenchmarkMavenMetadata1000(b *testing.B) {
	e := servertest.New(b)
	alice := e.CreateUser(b, "alice")
	e.CreateGroup(b, alice, "", "acme", "PRIVATE")
	id := e.CreateProjectWith(b, alice, servertest.Project{Namespace: "acme", Path: "libs", Format: "MAVEN", Visibility: "PRIVATE"})
	base := "/api/v4/projects/" + strconv.Itoa(id) + "/packages/maven/com/example/many/"
	for i := range 1000 {
		v := fmt.Sprintf("%d.%d.%d", i/100, i/10%10, i%10)
		status, body, _ := e.Do(b, "PUT", base+v+"/many-"+v+".pom", strings.NewReader("<project/>"), tok(alice))
		if status != 201 {
			b.Fatalf("PUT %s: %d %s", v, status, body)
		}
	}
	req, _ := http.NewRequest("GET", e.URL+base+"maven-metadata.xml", nil)
	req.Header.Set("PRIVATE-TOKEN", alice)
	timed(b, func() {
		resp, err := e.Client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n < 1000*20 {
			b.Fatalf("%d, %d bytes", resp.StatusCode, n)
		}
	})
}
