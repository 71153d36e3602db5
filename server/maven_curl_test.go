package server_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"strconv"
	"testing"

	"github.com/pkgreg/registry/server/servertest"
)

// mvn drives the Maven repository endpoints of one registry with plain
// HTTP calls, as curl would.
type mvn struct {
	e       *servertest.Env
	t       *testing.T
	project string
	token   string
}

func (m mvn) url(path string) string {
	return "/api/v4/projects/" + m.project + "/packages/maven/" + path
}

func (m mvn) put(path string, body []byte) (int, string) {
	m.t.Helper()
	status, b, _ := m.e.Do(m.t, "PUT", m.url(path), bytes.NewReader(body), tok(m.token))
	return status, string(b)
}

func (m mvn) mustPut(path string, body []byte) {
	m.t.Helper()
	if status, b := m.put(path, body); status/100 != 2 {
		m.t.Fatalf("PUT %s: %d %s", path, status, b)
	}
}

func (m mvn) get(path string) (int, string, http.Header) {
	m.t.Helper()
	status, b, h := m.e.Do(m.t, "GET", m.url(path), nil, tok(m.token))
	return status, string(b), h
}

func sha1hex(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }
func md5hex(b []byte) string  { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

// newMavenProject starts a registry where alice owns the private Maven
// project acme/libs.
func newMavenProject(t *testing.T) (*servertest.Env, mvn) {
	t.Helper()
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	id := e.CreateProjectWith(t, alice, servertest.Project{Namespace: "acme", Path: "libs", Format: "MAVEN", Visibility: "PRIVATE"})
	return e, mvn{e: e, t: t, project: strconv.Itoa(id), token: alice}
}

func TestMavenPutGetRoundTrip(t *testing.T) {
	_, m := newMavenProject(t)
	pom := []byte("<project><modelVersion>4.0.0</modelVersion></project>")
	jar := []byte("PK\x03\x04 not really a jar")
	m.mustPut("com/example/my-app/1.0/my-app-1.0.pom", pom)
	m.mustPut("com/example/my-app/1.0/my-app-1.0.jar", jar)
	if status, b := m.put("com/example/my-app/1.0/my-app-1.0.jar.sha1", []byte(sha1hex(jar))); status != http.StatusNoContent {
		t.Fatalf("matching sha1: %d %s", status, b)
	}
	status, body, h := m.get("com/example/my-app/1.0/my-app-1.0.jar")
	if status != 200 || body != string(jar) {
		t.Fatalf("GET jar: %d %q", status, body)
	}
	if h.Get("X-Checksum-Sha1") != sha1hex(jar) || h.Get("X-Checksum-MD5") != md5hex(jar) || h.Get("X-Checksum-Sha256") != sha(jar) ||
		h.Get("X-Checksum-Sha512") == "" || h.Get("ETag") == "" {
		t.Fatalf("GET jar headers: %v", h)
	}
	for ext, want := range map[string]string{"sha1": sha1hex(jar), "md5": md5hex(jar), "sha256": sha(jar)} {
		if status, body, _ := m.get("com/example/my-app/1.0/my-app-1.0.jar." + ext); status != 200 || body != want {
			t.Fatalf("GET jar.%s: %d %q, want %q", ext, status, body, want)
		}
	}
	if status, body, _ := m.get("com/example/my-app/1.0/my-app-1.0.pom"); status != 200 || body != string(pom) {
		t.Fatalf("GET pom: %d %q", status, body)
	}
}
