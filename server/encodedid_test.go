package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestURLsKeepTheCallersProjectID: every redirect and every absolute URL
// the registry writes in answer to a project route names the project as
// the caller did (numeric id, URL-encoded path in either hex case), and
// following it works. A decoded "acme/pystd" is a path no route serves,
// and clients send credentials only under the URL they were configured
// with.
func TestURLsKeepTheCallersProjectID(t *testing.T) {
	e, alice, _, _ := newAcmeTools(t)
	id := e.CreateProject(t, alice, "acme", "pystd", "PRIVATE")
	dist := pyDist{Name: "Acme_Utils", Version: "1.0"}
	body, ctype := pypiForm(t, map[string]string{"name": dist.Name, "version": "1.0"}, "acme_utils-1.0-py3-none-any.whl", wheelBytes(t, dist))
	if status, b, _ := e.Do(t, "POST", fmt.Sprintf("/api/v4/projects/%d/packages/pypi", id), bytes.NewReader(body),
		map[string]string{"PRIVATE-TOKEN": alice, "Content-Type": ctype}); status != 201 {
		t.Fatalf("pypi upload: %d %s", status, b)
	}
	if status, b, _ := e.Do(t, "PUT", npmPath(fmt.Sprint(id), escName("@acme/util")),
		bytes.NewReader(publishDoc("@acme/util", "1.0.0", npmTgz(t, pkgJSON("@acme/util", "1.0.0")), nil)),
		map[string]string{"PRIVATE-TOKEN": alice, "Content-Type": "application/json"}); status != 200 {
		t.Fatalf("npm publish: %d %s", status, b)
	}
	for _, f := range []string{"a.bin", "b.bin"} {
		if status, b, _ := e.Do(t, "PUT", fmt.Sprintf("/api/v4/projects/%d/packages/generic/tool/1.0/%s", id, f),
			strings.NewReader("content of "+f), tok(alice)); status != 201 {
			t.Fatalf("generic upload: %d %s", status, b)
		}
	}
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	pipAccept := map[string]string{"PRIVATE-TOKEN": alice, "Accept": "application/vnd.pypi.simple.v1+json"}
	htmlAccept := map[string]string{"PRIVATE-TOKEN": alice, "Accept": "text/html"}

	for _, ref := range []string{"acme%2Fpystd", "acme%2fpystd", fmt.Sprint(id)} {
		t.Run(ref, func(t *testing.T) {
			base := "/api/v4/projects/" + ref
			// follow GETs an absolute URL the registry wrote (under e.URL).
			follow := func(what, u string, headers map[string]string) []byte {
				t.Helper()
				p, ok := strings.CutPrefix(u, e.URL+base+"/")
				if !ok {
					t.Errorf("%s: %q is not under %s%s/", what, u, e.URL, base)
					return nil
				}
				status, b, _ := e.Do(t, "GET", base+"/"+p, nil, headers)
				if status != 200 {
					t.Fatalf("%s: GET %s: %d %s", what, u, status, b)
				}
				return b
			}

			// PyPI: a non-normalized name redirects (PEP 503), query kept.
			for _, q := range []string{"", "?x=1"} {
				req, _ := http.NewRequest("GET", e.URL+base+"/packages/pypi/simple/Acme_Utils/"+q, nil)
				req.Header.Set("PRIVATE-TOKEN", alice)
				resp, err := noRedirects.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if want := base + "/packages/pypi/simple/acme-utils/" + q; resp.StatusCode != 301 || resp.Header.Get("Location") != want {
					t.Errorf("redirect: %d Location %q, want %q", resp.StatusCode, resp.Header.Get("Location"), want)
					continue
				}
				if status, b, _ := e.Do(t, "GET", resp.Header.Get("Location"), nil, pipAccept); status != 200 {
					t.Fatalf("following the redirect: %d %s", status, b)
				}
			}
			req, _ := http.NewRequest("GET", e.URL+base+"/packages/pypi/simple/Acme_Utils", nil)
			req.Header.Set("PRIVATE-TOKEN", alice)
			if resp, err := noRedirects.Do(req); err != nil || resp.Header.Get("Location") != base+"/packages/pypi/simple/acme-utils" {
				t.Errorf("redirect without a trailing slash: %v %v", err, resp)
			}

			// PyPI file links, JSON (PEP 691) and HTML (PEP 503).
			status, b, _ := e.Do(t, "GET", base+"/packages/pypi/simple/acme-utils/", nil, pipAccept)
			var page struct{ Files []struct{ URL string } }
			if err := json.Unmarshal(b, &page); status != 200 || err != nil || len(page.Files) != 1 {
				t.Fatalf("JSON page: %d %v %s", status, err, b)
			}
			follow("JSON file url", page.Files[0].URL, tok(alice))
			_, b, _ = e.Do(t, "GET", base+"/packages/pypi/simple/acme-utils/", nil, htmlAccept)
			href := strings.Split(strings.Split(string(b), `href="`)[1], "#")[0]
			follow("HTML file href", href, tok(alice))

			// npm: dist.tarball in the packument.
			status, b, _ = e.Do(t, "GET", base+"/packages/npm/"+escName("@acme/util"), nil, tok(alice))
			var doc struct {
				Versions map[string]struct{ Dist struct{ Tarball string } }
			}
			if err := json.Unmarshal(b, &doc); status != 200 || err != nil {
				t.Fatalf("packument: %d %v %s", status, err, b)
			}
			follow("npm tarball", doc.Versions["1.0.0"].Dist.Tarball, tok(alice))

			// Generic: a version asked without the slash of its listing.
			req, _ = http.NewRequest("GET", e.URL+base+"/packages/generic/tool/1.0?x=1", nil)
			req.Header.Set("PRIVATE-TOKEN", alice)
			if resp, err := noRedirects.Do(req); err != nil {
				t.Fatal(err)
			} else if want := base + "/packages/generic/tool/1.0/?x=1"; resp.StatusCode != 307 || resp.Header.Get("Location") != want {
				t.Errorf("generic version redirect: %d Location %q, want %q", resp.StatusCode, resp.Header.Get("Location"), want)
			} else if status, b, _ := e.Do(t, "GET", resp.Header.Get("Location"), nil, tok(alice)); status != 200 {
				t.Fatalf("following the generic redirect: %d %s", status, b)
			}

			// Generic: a version's file listing.
			status, b, _ = e.Do(t, "GET", base+"/packages/generic/tool/1.0/", nil, tok(alice))
			var listing struct {
				Files []struct {
					DownloadURL string `json:"download_url"`
				}
			}
			if err := json.Unmarshal(b, &listing); status != 200 || err != nil || len(listing.Files) != 2 {
				t.Fatalf("generic listing: %d %v %s", status, err, b)
			}
			if got := follow("generic download_url", listing.Files[0].DownloadURL, tok(alice)); got != nil && !strings.HasPrefix(string(got), "content of ") {
				t.Fatalf("generic download: %q", got)
			}

			// Packages API: _links of a listing and of one package, and the
			// pagination Link header.
			status, b, h := e.Do(t, "GET", base+"/packages?per_page=1&sort=asc", nil, tok(alice))
			var pkgs []struct {
				ID    int
				Links struct {
					DeleteAPIPath string `json:"delete_api_path"`
				} `json:"_links"`
			}
			if err := json.Unmarshal(b, &pkgs); status != 200 || err != nil || len(pkgs) != 1 {
				t.Fatalf("packages: %d %v %s", status, err, b)
			}
			follow("listing delete_api_path", pkgs[0].Links.DeleteAPIPath, tok(alice))
			if want := fmt.Sprintf("%s%s/packages/%d", e.URL, base, pkgs[0].ID); pkgs[0].Links.DeleteAPIPath != want {
				t.Errorf("delete_api_path %q, want %q", pkgs[0].Links.DeleteAPIPath, want)
			}
			b = follow("package", fmt.Sprintf("%s%s/packages/%d", e.URL, base, pkgs[0].ID), tok(alice))
			var one struct {
				Links struct {
					DeleteAPIPath string `json:"delete_api_path"`
				} `json:"_links"`
			}
			json.Unmarshal(b, &one)
			follow("package delete_api_path", one.Links.DeleteAPIPath, tok(alice))
			next := ""
			for _, l := range strings.Split(h.Get("Link"), ", ") {
				if u, ok := strings.CutSuffix(l, `>; rel="next"`); ok {
					next = strings.TrimPrefix(u, "<")
				}
			}
			follow("Link next", next, tok(alice))
		})
	}

	// A group listing names each package's project by its numeric id, as
	// GitLab does: the request named no project.
	status, b, _ := e.Do(t, "GET", "/api/v4/groups/acme/packages?package_type=pypi", nil, tok(alice))
	if want := fmt.Sprintf(`"delete_api_path":"%s/api/v4/projects/%d/packages/`, e.URL, id); status != 200 || !strings.Contains(string(b), want) {
		t.Fatalf("group listing: %d %s, want %s", status, b, want)
	}
	// GraphQL addresses projects by full path, so downloadPath names the
	// numeric id, which any client can follow.
	var out struct {
		Project struct {
			Packages struct {
				Nodes []struct {
					PackageFiles struct {
						Nodes []struct{ DownloadPath string }
					}
				}
			}
		}
	}
	e.MustGraphQL(t, alice, `{ project(fullPath: "acme/pystd") { packages(first: 10) { nodes { packageFiles(first: 5) { nodes { downloadPath } } } } } }`, nil).Decode(t, &out)
	n := 0
	for _, p := range out.Project.Packages.Nodes {
		for _, f := range p.PackageFiles.Nodes {
			n++
			if status, b, _ := e.Do(t, "GET", f.DownloadPath, nil, tok(alice)); status != 200 || !strings.HasPrefix(f.DownloadPath, fmt.Sprintf("/api/v4/projects/%d/", id)) {
				t.Fatalf("downloadPath %s: %d %s", f.DownloadPath, status, b)
			}
		}
	}
	if n != 5 { // wheel, its core metadata, npm tarball, two generic files
		t.Fatalf("downloadPaths: %d, want 5", n)
	}

	// pip itself, with the index addressed by the encoded path: it reads
	// the page and fetches the wheel from the file URL written there.
	index := strings.Replace(e.URL, "http://", "http://__token__:"+alice+"@", 1) + "/api/v4/projects/acme%2Fpystd/packages/pypi/simple"
	if got, out, err := pipInstall(t, index, "Acme_Utils==1.0"); err != nil || got["Acme_Utils"] != "1.0" {
		t.Fatalf("pip install through the encoded path: %v %v\n%s", err, got, out)
	}
}
