package server_test

// These tests drive the registry with GitLab's own Go client
// (gitlab.com/gitlab-org/api/client-go), which many tools are built on.
// Only the client's public API is used, as a user of the library calls it.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/pkgreg/registry/server/servertest"
)

// cgHeaderAuth is a client-go AuthSource that sends one fixed header. The
// client has built-in sources for PRIVATE-TOKEN (NewClient) and JOB-TOKEN
// (NewJobClient) only; deploy tokens, HTTP Basic and Bearer go through
// NewAuthSourceClient with this.
type cgHeaderAuth struct{ key, value string }

func (cgHeaderAuth) Init(context.Context, *gitlab.Client) error { return nil }

func (a cgHeaderAuth) Header(context.Context) (string, string, error) { return a.key, a.value, nil }

// cgOptions points a client at the test registry. Retries are off so that
// a 5xx fails the test at once instead of being retried and hidden.
func cgOptions(e *servertest.Env) []gitlab.ClientOptionFunc {
	return []gitlab.ClientOptionFunc{gitlab.WithBaseURL(e.URL + "/api/v4"), gitlab.WithoutRetries()}
}

// cgClient is a client authenticating with PRIVATE-TOKEN.
func cgClient(t *testing.T, e *servertest.Env, token string) *gitlab.Client {
	t.Helper()
	c, err := gitlab.NewClient(token, cgOptions(e)...)
	if err != nil {
		t.Fatalf("gitlab.NewClient: %v", err)
	}
	return c
}

// cgJobClient is a client authenticating with JOB-TOKEN.
func cgJobClient(t *testing.T, e *servertest.Env, token string) *gitlab.Client {
	t.Helper()
	c, err := gitlab.NewJobClient(token, cgOptions(e)...)
	if err != nil {
		t.Fatalf("gitlab.NewJobClient: %v", err)
	}
	return c
}

// cgHeaderClient is a client sending key: value on every request.
func cgHeaderClient(t *testing.T, e *servertest.Env, key, value string) *gitlab.Client {
	t.Helper()
	c, err := gitlab.NewAuthSourceClient(cgHeaderAuth{key, value}, cgOptions(e)...)
	if err != nil {
		t.Fatalf("gitlab.NewAuthSourceClient: %v", err)
	}
	return c
}

func cgSHA256(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// cgBytes is n bytes of distinct, reproducible content for seed.
func cgBytes(seed string, n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%s-%d;", seed, i)
	}
	return b.Bytes()[:n]
}

// cgStatus is the HTTP status of a client call: from the response when
// there is one, else 0.
func cgStatus(resp *gitlab.Response) int {
	if resp == nil || resp.Response == nil {
		return 0
	}
	return resp.StatusCode
}

// cgDeployToken creates a deploy token on a project or group and returns
// its secret and username.
func cgDeployToken(t *testing.T, e *servertest.Env, asToken, fullPath string, scopes ...string) (secret, username string) {
	t.Helper()
	r := e.MustGraphQL(t, asToken, `mutation($p: ID!, $s: [TokenScope!]!) {
		createDeployToken(input: {fullPath: $p, name: "client-go", scopes: $s}) { token deployToken { username } errors } }`,
		map[string]any{"p": fullPath, "s": scopes})
	var out struct {
		CreateDeployToken struct {
			Token       string
			DeployToken struct{ Username string }
		}
	}
	r.Decode(t, &out)
	if out.CreateDeployToken.Token == "" || out.CreateDeployToken.DeployToken.Username == "" {
		t.Fatalf("createDeployToken: %s", r.Data)
	}
	return out.CreateDeployToken.Token, out.CreateDeployToken.DeployToken.Username
}

// cgJobToken creates a job token acting for the caller on one project.
func cgJobToken(t *testing.T, e *servertest.Env, asToken, projectPath string) string {
	t.Helper()
	r := e.MustGraphQL(t, asToken, `mutation($p: ID!) { createJobToken(input: {projectPath: $p, expiresIn: 3600}) { token errors } }`,
		map[string]any{"p": projectPath})
	var out struct{ CreateJobToken struct{ Token string } }
	r.Decode(t, &out)
	if out.CreateJobToken.Token == "" {
		t.Fatalf("createJobToken: %s", r.Data)
	}
	return out.CreateJobToken.Token
}

// cgProjectAccessToken creates a project access token (a bot member of
// the project) with the api scope and the given role.
func cgProjectAccessToken(t *testing.T, e *servertest.Env, asToken, projectPath, level string) string {
	t.Helper()
	r := e.MustGraphQL(t, asToken, `mutation($p: ID!, $l: AccessLevel!) {
		createProjectAccessToken(input: {projectPath: $p, name: "client-go", scopes: [API], accessLevel: $l}) { token errors } }`,
		map[string]any{"p": projectPath, "l": level})
	var out struct{ CreateProjectAccessToken struct{ Token string } }
	r.Decode(t, &out)
	if out.CreateProjectAccessToken.Token == "" {
		t.Fatalf("createProjectAccessToken: %s", r.Data)
	}
	return out.CreateProjectAccessToken.Token
}

// cgGroupID is the numeric id of a group.
func cgGroupID(t *testing.T, e *servertest.Env, token, fullPath string) int {
	t.Helper()
	r := e.MustGraphQL(t, token, `query($p: ID!) { group(fullPath: $p) { id } }`, map[string]any{"p": fullPath})
	var out struct{ Group *struct{ ID string } }
	r.Decode(t, &out)
	if out.Group == nil {
		t.Fatalf("group %s not found", fullPath)
	}
	id, err := strconv.Atoi(out.Group.ID[strings.LastIndex(out.Group.ID, "/")+1:])
	if err != nil {
		t.Fatalf("group id %q: %v", out.Group.ID, err)
	}
	return id
}

// cgPublish publishes one file and fails the test unless the registry
// answers want.
func cgPublish(t *testing.T, c *gitlab.Client, pid any, name, version, file string, data []byte, opt *gitlab.PublishPackageFileOptions, want int) *gitlab.GenericPackagesFile {
	t.Helper()
	f, resp, err := c.GenericPackages.PublishPackageFile(pid, name, version, file, bytes.NewReader(data), opt)
	if got := cgStatus(resp); got != want || (want < 300 && err != nil) {
		t.Fatalf("PublishPackageFile(%v, %s/%s/%s): status %d, err %v; want %d", pid, name, version, file, got, err, want)
	}
	return f
}

// cgDownload downloads one file and fails the test unless it has exactly
// the bytes want.
func cgDownload(t *testing.T, c *gitlab.Client, pid any, name, version, file string, want []byte) *gitlab.Response {
	t.Helper()
	got, resp, err := c.GenericPackages.DownloadPackageFile(pid, name, version, file)
	if err != nil {
		t.Fatalf("DownloadPackageFile(%v, %s/%s/%s): status %d, %v", pid, name, version, file, cgStatus(resp), err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("DownloadPackageFile(%v, %s/%s/%s): %d bytes (sha256 %s), want %d bytes (sha256 %s)",
			pid, name, version, file, len(got), cgSHA256(got), len(want), cgSHA256(want))
	}
	return resp
}

// cgDownloadFails downloads one file and fails the test unless the
// registry answers want.
func cgDownloadFails(t *testing.T, c *gitlab.Client, pid any, name, version, file string, want int) {
	t.Helper()
	_, resp, err := c.GenericPackages.DownloadPackageFile(pid, name, version, file)
	if err == nil || cgStatus(resp) != want {
		t.Fatalf("DownloadPackageFile(%v, %s/%s/%s): status %d, err %v; want %d", pid, name, version, file, cgStatus(resp), err, want)
	}
	if want == http.StatusNotFound && !errors.Is(err, gitlab.ErrNotFound) {
		t.Fatalf("404 is not gitlab.ErrNotFound: %v", err)
	}
}

// cgKeys names listed packages as name@version.
func cgKeys(ps []*gitlab.Package) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Name+"@"+p.Version)
	}
	return out
}

// cgGroupKeys names group-listed packages as project:name@version.
func cgGroupKeys(ps []*gitlab.GroupPackage) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.ProjectPath+":"+p.Name+"@"+p.Version)
	}
	return out
}

func TestClientGoGenericPublishAndDownload(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	pid := e.CreateProject(t, alice, "acme", "tools", "PRIVATE")
	gl := cgClient(t, e, alice)
	wantStore := int64(1) // GitLab's file_store: 1 local, 2 object storage
	if e.Server.Blobs.Name() == "s3" {
		wantStore = 2
	}

	bin := cgBytes("cli-linux-amd64", 70_000)
	t.Run("publish without options by URL-encoded project path answers 201", func(t *testing.T) {
		f := cgPublish(t, gl, "acme/tools", "cli", "1.0.0", "cli-linux-amd64", bin, nil, http.StatusCreated)
		// The default answer is {"message":"201 Created"}: no file fields.
		if f.ID != 0 || f.FileName != "" {
			t.Fatalf("default publish answered a package file: %+v", f)
		}
		resp := cgDownload(t, gl, "acme/tools", "cli", "1.0.0", "cli-linux-amd64", bin)
		if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Errorf("Content-Type %q, want application/octet-stream", ct)
		}
		if got := resp.Header.Get("X-Checksum-SHA256"); got != cgSHA256(bin) {
			t.Errorf("X-Checksum-SHA256 %q, want %s", got, cgSHA256(bin))
		}
		cgDownload(t, gl, pid, "cli", "1.0.0", "cli-linux-amd64", bin)
	})

	var cliPackageID int64
	sums := []byte(cgSHA256(bin) + "  cli-linux-amd64\n")
	t.Run("publish with select=package_file returns the package file", func(t *testing.T) {
		opt := &gitlab.PublishPackageFileOptions{Status: gitlab.Ptr(gitlab.PackageDefault), Select: gitlab.Ptr(gitlab.SelectPackageFile)}
		// GitLab presents the entity with Grape's default status for PUT.
		f := cgPublish(t, gl, pid, "cli", "1.0.0", "cli-linux-amd64.sha256", sums, opt, http.StatusOK)
		if f.ID <= 0 || f.PackageID <= 0 || f.FileName != "cli-linux-amd64.sha256" || f.Size != int64(len(sums)) ||
			f.FileSHA256 != cgSHA256(sums) || f.FileMD5 != "" || f.FileSHA1 != "" || f.FileStore != wantStore ||
			f.CreatedAt == nil || f.CreatedAt.IsZero() || f.UpdatedAt == nil {
			t.Fatalf("package file %+v", f)
		}
		cliPackageID = f.PackageID
		// Same name and version: the same package.
		f2 := cgPublish(t, gl, "acme/tools", "cli", "1.0.0", "README.md", []byte("# cli\n"),
			&gitlab.PublishPackageFileOptions{Select: gitlab.Ptr(gitlab.SelectPackageFile)}, http.StatusOK)
		if f2.PackageID != cliPackageID || f2.ID <= f.ID || f2.FileSHA256 != cgSHA256([]byte("# cli\n")) {
			t.Fatalf("second file %+v, first %+v", f2, f)
		}
		cgDownload(t, gl, pid, "cli", "1.0.0", "cli-linux-amd64.sha256", sums)
	})

	t.Run("an empty file", func(t *testing.T) {
		f := cgPublish(t, gl, pid, "cli", "1.0.0", "EMPTY", nil,
			&gitlab.PublishPackageFileOptions{Select: gitlab.Ptr(gitlab.SelectPackageFile)}, http.StatusOK)
		// The documented example response is exactly this file.
		if f.Size != 0 || f.FileSHA256 != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
			t.Fatalf("empty file %+v", f)
		}
		cgDownload(t, gl, pid, "cli", "1.0.0", "EMPTY", []byte{})
	})

	t.Run("file names with directories, escaped by the client", func(t *testing.T) {
		if cliPackageID == 0 {
			t.Skip("needs the cli package")
		}
		// client-go escapes the file name as one segment (dist%2Flinux%2Fcli).
		data := cgBytes("dist/linux/cli", 1234)
		f := cgPublish(t, gl, "acme/tools", "cli", "1.0.0", "dist/linux/cli", data,
			&gitlab.PublishPackageFileOptions{Select: gitlab.Ptr(gitlab.SelectPackageFile)}, http.StatusOK)
		if f.FileName != "dist/linux/cli" || f.PackageID != cliPackageID {
			t.Fatalf("package file %+v", f)
		}
		cgDownload(t, gl, pid, "cli", "1.0.0", "dist/linux/cli", data)
		// The same file under the unescaped path the documentation uses.
		status, body, _ := e.Do(t, http.MethodGet, fmt.Sprintf("/api/v4/projects/%d/packages/generic/cli/1.0.0/dist/linux/cli", pid), nil,
			map[string]string{"PRIVATE-TOKEN": alice})
		if status != http.StatusOK || !bytes.Equal(body, data) {
			t.Fatalf("unescaped path: %d, %d bytes", status, len(body))
		}
	})

	t.Run("a newer file of the same name wins", func(t *testing.T) {
		if cliPackageID == 0 {
			t.Skip("needs the cli package")
		}
		newer := cgBytes("cli-linux-amd64 rebuilt", 65_000)
		cgPublish(t, gl, pid, "cli", "1.0.0", "cli-linux-amd64", newer, nil, http.StatusCreated)
		cgDownload(t, gl, "acme/tools", "cli", "1.0.0", "cli-linux-amd64", newer)
		files, _, err := gl.Packages.ListPackageFiles(pid, cliPackageID, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range files {
			if f.FileName == "cli-linux-amd64" {
				n++
			}
		}
		if n != 2 {
			t.Fatalf("both uploads of cli-linux-amd64 should be listed, got %d", n)
		}
	})

	t.Run("hidden status", func(t *testing.T) {
		data := cgBytes("nightly", 4096)
		f := cgPublish(t, gl, "acme/tools", "nightly", "2024.01.01", "nightly.tar.gz", data,
			&gitlab.PublishPackageFileOptions{Status: gitlab.Ptr(gitlab.PackageHidden), Select: gitlab.Ptr(gitlab.SelectPackageFile)}, http.StatusOK)
		if f.FileSHA256 != cgSHA256(data) {
			t.Fatalf("package file %+v", f)
		}
		// Hidden packages are installable: they download, they are not listed.
		cgDownload(t, gl, pid, "nightly", "2024.01.01", "nightly.tar.gz", data)
		ps, _, err := gl.Packages.ListProjectPackages(pid, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := cgKeys(ps); fmt.Sprint(got) != "[cli@1.0.0]" {
			t.Fatalf("default listing %v", got)
		}
		ps, _, err = gl.Packages.ListProjectPackages("acme/tools", &gitlab.ListProjectPackagesOptions{Status: gitlab.Ptr("hidden")})
		if err != nil {
			t.Fatal(err)
		}
		if got := cgKeys(ps); fmt.Sprint(got) != "[nightly@2024.01.01]" || ps[0].Status != "hidden" || ps[0].ID != f.PackageID {
			t.Fatalf("hidden listing %v %+v", got, ps)
		}
	})

	t.Run("missing files and packages are 404", func(t *testing.T) {
		cgDownloadFails(t, gl, pid, "cli", "1.0.0", "nope", http.StatusNotFound)
		cgDownloadFails(t, gl, pid, "cli", "9.9.9", "cli-linux-amd64", http.StatusNotFound)
		cgDownloadFails(t, gl, "acme/nope", "cli", "1.0.0", "cli-linux-amd64", http.StatusNotFound)
	})

	t.Run("invalid coordinates are 400", func(t *testing.T) {
		for _, c := range []struct{ name, version, file string }{
			{"cli", "1.0.0", "bad name"},     // spaces are not allowed
			{"cli", "1.0.0", "~tilde"},       // nor a leading ~
			{"cli", "1.0.0", "@at"},          // nor a leading @
			{"cli", "1..0", "ok.txt"},        // GitLab's version regex
			{"my package", "1.0.0", "f.txt"}, // name characters
		} {
			cgPublish(t, gl, pid, c.name, c.version, c.file, []byte("x"), nil, http.StatusBadRequest)
		}
		// Documented valid characters: letters, digits, . _ - + ~ @ /.
		cgPublish(t, gl, pid, "cli", "1.0.0+build.7", "a_b-c+d~e@f.txt", []byte("x"), nil, http.StatusCreated)
		cgDownload(t, gl, pid, "cli", "1.0.0+build.7", "a_b-c+d~e@f.txt", []byte("x"))
	})

	t.Run("select and status are validated", func(t *testing.T) {
		_, resp, err := gl.GenericPackages.PublishPackageFile(pid, "cli", "1.0.0", "x.txt", strings.NewReader("x"),
			&gitlab.PublishPackageFileOptions{Status: gitlab.Ptr(gitlab.GenericPackageStatusValue("processing"))})
		if cgStatus(resp) != http.StatusBadRequest || err == nil {
			t.Fatalf("status=processing: %d %v", cgStatus(resp), err)
		}
		_, resp, err = gl.GenericPackages.PublishPackageFile(pid, "cli", "1.0.0", "x.txt", strings.NewReader("x"),
			&gitlab.PublishPackageFileOptions{Select: gitlab.Ptr(gitlab.GenericPackageSelectValue("package"))})
		if cgStatus(resp) != http.StatusBadRequest || err == nil {
			t.Fatalf("select=package: %d %v", cgStatus(resp), err)
		}
		cgDownloadFails(t, gl, pid, "cli", "1.0.0", "x.txt", http.StatusNotFound)
	})
}

func TestClientGoPackagesAPI(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	e.CreateGroup(t, alice, "acme", "platform", "PRIVATE")
	pid := e.CreateProject(t, alice, "acme", "tools", "PRIVATE")
	libsID := e.CreateProject(t, alice, "acme/platform", "libs", "PRIVATE")
	gl := cgClient(t, e, alice)

	// acme/tools: lib 1.0.0..1.0.4, cli 2.0.0, nightly (hidden);
	// acme/platform/libs: core 1.0.0.
	files := map[string][]byte{}
	for i := range 5 {
		v := fmt.Sprintf("1.0.%d", i)
		files["lib@"+v] = cgBytes("lib "+v, 1000+i)
		cgPublish(t, gl, pid, "lib", v, "lib.tar.gz", files["lib@"+v], nil, http.StatusCreated)
	}
	cgPublish(t, gl, "acme/tools", "cli", "2.0.0", "cli", []byte("cli"), nil, http.StatusCreated)
	cgPublish(t, gl, "acme/tools", "nightly", "0.1.0", "n", []byte("n"),
		&gitlab.PublishPackageFileOptions{Status: gitlab.Ptr(gitlab.PackageHidden)}, http.StatusCreated)
	cgPublish(t, gl, "acme/platform/libs", "core", "1.0.0", "core.jar", []byte("core"), nil, http.StatusCreated)

	list := func(t *testing.T, pid any, opt *gitlab.ListProjectPackagesOptions) ([]*gitlab.Package, *gitlab.Response) {
		t.Helper()
		ps, resp, err := gl.Packages.ListProjectPackages(pid, opt)
		if err != nil {
			t.Fatalf("ListProjectPackages(%v): %d %v", pid, cgStatus(resp), err)
		}
		return ps, resp
	}

	t.Run("project listing: every page, in creation order", func(t *testing.T) {
		var all []string
		opt := &gitlab.ListProjectPackagesOptions{ListOptions: gitlab.ListOptions{PerPage: 2, Page: 1}}
		for pages := 1; ; pages++ {
			ps, resp := list(t, "acme/tools", opt)
			if resp.TotalItems != 6 || resp.TotalPages != 3 || resp.ItemsPerPage != 2 || resp.CurrentPage != opt.Page || len(ps) > 2 {
				t.Fatalf("page %d: total %d pages %d per %d current %d, %d items", opt.Page, resp.TotalItems, resp.TotalPages,
					resp.ItemsPerPage, resp.CurrentPage, len(ps))
			}
			all = append(all, cgKeys(ps)...)
			if resp.NextPage == 0 {
				if pages != 3 || resp.PreviousPage != 2 || resp.NextLink != "" || resp.LastLink == "" {
					t.Fatalf("last page %d: prev %d next link %q last link %q", pages, resp.PreviousPage, resp.NextLink, resp.LastLink)
				}
				break
			}
			if resp.NextPage != opt.Page+1 || resp.NextLink == "" || !strings.HasPrefix(resp.NextLink, e.URL+"/api/v4/projects/") {
				t.Fatalf("page %d: next %d link %q", opt.Page, resp.NextPage, resp.NextLink)
			}
			opt.Page = resp.NextPage
		}
		want := "[lib@1.0.0 lib@1.0.1 lib@1.0.2 lib@1.0.3 lib@1.0.4 cli@2.0.0]"
		if fmt.Sprint(all) != want {
			t.Fatalf("all pages %v, want %s", all, want)
		}
	})

	t.Run("project listing: package entity", func(t *testing.T) {
		ps, _ := list(t, pid, &gitlab.ListProjectPackagesOptions{PackageName: gitlab.Ptr("cli")})
		if len(ps) != 1 {
			t.Fatalf("cli: %v", cgKeys(ps))
		}
		p := ps[0]
		if p.ID <= 0 || p.Name != "cli" || p.Version != "2.0.0" || p.PackageType != "generic" || p.Status != "default" ||
			p.CreatedAt == nil || p.Links == nil || p.Links.WebPath != fmt.Sprintf("/acme/tools/-/packages/%d", p.ID) ||
			p.Links.DeleteAPIPath != fmt.Sprintf("%s/api/v4/projects/%d/packages/%d", e.URL, pid, p.ID) {
			t.Fatalf("package %+v links %+v", p, p.Links)
		}
	})

	t.Run("project listing: filters and order", func(t *testing.T) {
		for _, c := range []struct {
			name string
			opt  gitlab.ListProjectPackagesOptions
			want string
		}{
			{"by name, version descending", gitlab.ListProjectPackagesOptions{PackageName: gitlab.Ptr("lib"), OrderBy: gitlab.Ptr("version"), Sort: gitlab.Ptr("desc")},
				"[lib@1.0.4 lib@1.0.3 lib@1.0.2 lib@1.0.1 lib@1.0.0]"},
			{"name is a case-insensitive fuzzy match", gitlab.ListProjectPackagesOptions{PackageName: gitlab.Ptr("LI"), OrderBy: gitlab.Ptr("name")},
				"[cli@2.0.0 lib@1.0.0 lib@1.0.1 lib@1.0.2 lib@1.0.3 lib@1.0.4]"},
			{"by version", gitlab.ListProjectPackagesOptions{PackageName: gitlab.Ptr("lib"), PackageVersion: gitlab.Ptr("1.0.3")}, "[lib@1.0.3]"},
			{"by type", gitlab.ListProjectPackagesOptions{PackageType: gitlab.Ptr("generic"), OrderBy: gitlab.Ptr("created_at"), Sort: gitlab.Ptr("desc")},
				"[cli@2.0.0 lib@1.0.4 lib@1.0.3 lib@1.0.2 lib@1.0.1 lib@1.0.0]"},
			{"by another type", gitlab.ListProjectPackagesOptions{PackageType: gitlab.Ptr("conan")}, "[]"},
			{"hidden ones only on request", gitlab.ListProjectPackagesOptions{Status: gitlab.Ptr("hidden")}, "[nightly@0.1.0]"},
			{"default status", gitlab.ListProjectPackagesOptions{Status: gitlab.Ptr("default"), PackageName: gitlab.Ptr("cli")}, "[cli@2.0.0]"},
		} {
			opt := c.opt
			ps, resp := list(t, pid, &opt)
			if got := fmt.Sprint(cgKeys(ps)); got != c.want {
				t.Errorf("%s: %s, want %s", c.name, got, c.want)
			}
			if resp.TotalItems != int64(len(ps)) {
				t.Errorf("%s: X-Total %d for %d items", c.name, resp.TotalItems, len(ps))
			}
		}
		for _, opt := range []gitlab.ListProjectPackagesOptions{
			{OrderBy: gitlab.Ptr("size")}, {Sort: gitlab.Ptr("up")}, {PackageType: gitlab.Ptr("tarball")}, {Status: gitlab.Ptr("gone")},
		} {
			_, resp, err := gl.Packages.ListProjectPackages(pid, &opt)
			if cgStatus(resp) != http.StatusBadRequest || err == nil {
				t.Errorf("invalid listing option %+v: %d %v", opt, cgStatus(resp), err)
			}
		}
	})

	t.Run("group listing, with and without subgroups", func(t *testing.T) {
		ps, resp, err := gl.Packages.ListGroupPackages("acme", &gitlab.ListGroupPackagesOptions{OrderBy: gitlab.Ptr("name")})
		if err != nil {
			t.Fatal(err)
		}
		want := "[acme/tools:cli@2.0.0 acme/platform/libs:core@1.0.0 acme/tools:lib@1.0.0 acme/tools:lib@1.0.1 acme/tools:lib@1.0.2 acme/tools:lib@1.0.3 acme/tools:lib@1.0.4]"
		if got := fmt.Sprint(cgGroupKeys(ps)); got != want || resp.TotalItems != 7 {
			t.Fatalf("group listing %s (X-Total %d), want %s", got, resp.TotalItems, want)
		}
		for _, p := range ps {
			wantID := int64(pid)
			if p.ProjectPath == "acme/platform/libs" {
				wantID = int64(libsID)
			}
			if p.ProjectID != wantID || p.Links == nil || p.Links.DeleteAPIPath != fmt.Sprintf("%s/api/v4/projects/%d/packages/%d", e.URL, wantID, p.ID) {
				t.Fatalf("group package %+v links %+v", p, p.Links)
			}
		}
		ps, _, err = gl.Packages.ListGroupPackages("acme", &gitlab.ListGroupPackagesOptions{ExcludeSubGroups: gitlab.Ptr(true), PackageName: gitlab.Ptr("c")})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(cgGroupKeys(ps)); got != "[acme/tools:cli@2.0.0]" {
			t.Fatalf("excluding subgroups: %s", got)
		}
		ps, _, err = gl.Packages.ListGroupPackages("acme", &gitlab.ListGroupPackagesOptions{ExcludeSubGroups: gitlab.Ptr(false), PackageName: gitlab.Ptr("c")})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(cgGroupKeys(ps)); got != "[acme/tools:cli@2.0.0 acme/platform/libs:core@1.0.0]" {
			t.Fatalf("exclude_subgroups=false: %s", got)
		}
		platform := cgGroupID(t, e, alice, "acme/platform")
		ps, _, err = gl.Packages.ListGroupPackages(platform, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(cgGroupKeys(ps)); got != "[acme/platform/libs:core@1.0.0]" {
			t.Fatalf("group by numeric id %d: %s", platform, got)
		}
		ps, _, err = gl.Packages.ListGroupPackages("acme/platform", nil) // sent as acme%2Fplatform
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(cgGroupKeys(ps)); got != "[acme/platform/libs:core@1.0.0]" {
			t.Fatalf("subgroup by URL-encoded path: %s", got)
		}
		ps, _, err = gl.Packages.ListGroupPackages("acme", &gitlab.ListGroupPackagesOptions{Status: gitlab.Ptr("hidden")})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(cgGroupKeys(ps)); got != "[acme/tools:nightly@0.1.0]" {
			t.Fatalf("hidden in the group: %s", got)
		}
		ps, resp, err = gl.Packages.ListGroupPackages("acme", &gitlab.ListGroupPackagesOptions{ListOptions: gitlab.ListOptions{PerPage: 3, Page: 3}})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 1 || resp.TotalPages != 3 || resp.NextPage != 0 || resp.PreviousPage != 2 {
			t.Fatalf("group page 3 of 3: %d items, pages %d next %d prev %d", len(ps), resp.TotalPages, resp.NextPage, resp.PreviousPage)
		}
		_, resp, err = gl.Packages.ListGroupPackages("nope", nil)
		if cgStatus(resp) != http.StatusNotFound || !errors.Is(err, gitlab.ErrNotFound) {
			t.Fatalf("unknown group: %d %v", cgStatus(resp), err)
		}
	})

	// One package with three files, two of them of the same name.
	ps, _ := list(t, pid, &gitlab.ListProjectPackagesOptions{PackageName: gitlab.Ptr("lib"), PackageVersion: gitlab.Ptr("1.0.0")})
	if len(ps) != 1 {
		t.Fatalf("lib 1.0.0: %v", cgKeys(ps))
	}
	libID := ps[0].ID
	older, readme, newer := files["lib@1.0.0"], []byte("lib readme\n"), cgBytes("lib 1.0.0 rebuilt", 2000)
	cgPublish(t, gl, pid, "lib", "1.0.0", "README", readme, nil, http.StatusCreated)
	cgPublish(t, gl, pid, "lib", "1.0.0", "lib.tar.gz", newer, nil, http.StatusCreated)

	var pfs []*gitlab.PackageFile
	t.Run("package files, paginated", func(t *testing.T) {
		opt := &gitlab.ListPackageFilesOptions{ListOptions: gitlab.ListOptions{PerPage: 2}}
		for {
			page, resp, err := gl.Packages.ListPackageFiles("acme/tools", libID, opt)
			if err != nil {
				t.Fatalf("ListPackageFiles: %d %v", cgStatus(resp), err)
			}
			if resp.TotalItems != 3 || resp.TotalPages != 2 {
				t.Fatalf("X-Total %d X-Total-Pages %d", resp.TotalItems, resp.TotalPages)
			}
			pfs = append(pfs, page...)
			if resp.NextPage == 0 {
				break
			}
			opt.Page = resp.NextPage
		}
		want := [][]byte{older, readme, newer}
		names := []string{"lib.tar.gz", "README", "lib.tar.gz"}
		if len(pfs) != 3 {
			t.Fatalf("%d files", len(pfs))
		}
		for i, f := range pfs {
			if f.ID <= 0 || f.PackageID != libID || f.FileName != names[i] || f.Size != int64(len(want[i])) ||
				f.FileSHA256 != cgSHA256(want[i]) || f.CreatedAt == nil || f.FileMD5 != "" || f.FileSHA1 != "" {
				t.Fatalf("file %d: %+v", i, f)
			}
			if i > 0 && f.ID <= pfs[i-1].ID {
				t.Fatalf("files not in upload order: %d after %d", f.ID, pfs[i-1].ID)
			}
		}
		_, resp, err := gl.Packages.ListPackageFiles(pid, 999999, nil)
		if cgStatus(resp) != http.StatusNotFound || err == nil {
			t.Fatalf("files of a missing package: %d %v", cgStatus(resp), err)
		}
	})

	t.Run("delete package files", func(t *testing.T) {
		if len(pfs) != 3 {
			t.Skip("needs the package files")
		}
		cgDownload(t, gl, pid, "lib", "1.0.0", "lib.tar.gz", newer)
		// Deleting the newest of two same-named files serves the older one.
		resp, err := gl.Packages.DeletePackageFile(pid, libID, pfs[2].ID)
		if err != nil || cgStatus(resp) != http.StatusNoContent {
			t.Fatalf("DeletePackageFile: %d %v", cgStatus(resp), err)
		}
		cgDownload(t, gl, pid, "lib", "1.0.0", "lib.tar.gz", older)
		resp, err = gl.Packages.DeletePackageFile("acme/tools", libID, pfs[1].ID)
		if err != nil || cgStatus(resp) != http.StatusNoContent {
			t.Fatalf("DeletePackageFile by path: %d %v", cgStatus(resp), err)
		}
		cgDownloadFails(t, gl, pid, "lib", "1.0.0", "README", http.StatusNotFound)
		left, _, err := gl.Packages.ListPackageFiles(pid, libID, nil)
		if err != nil || len(left) != 1 || left[0].ID != pfs[0].ID {
			t.Fatalf("files left: %v %v", left, err)
		}
		resp, err = gl.Packages.DeletePackageFile(pid, libID, pfs[1].ID)
		if cgStatus(resp) != http.StatusNotFound || err == nil {
			t.Fatalf("deleting a deleted file: %d %v", cgStatus(resp), err)
		}
		// A file id of another package is not found through this one.
		other, _ := list(t, pid, &gitlab.ListProjectPackagesOptions{PackageName: gitlab.Ptr("cli")})
		resp, err = gl.Packages.DeletePackageFile(pid, other[0].ID, pfs[0].ID)
		if cgStatus(resp) != http.StatusNotFound || err == nil {
			t.Fatalf("deleting a file through another package: %d %v", cgStatus(resp), err)
		}
		cgDownload(t, gl, pid, "lib", "1.0.0", "lib.tar.gz", older)
	})

	t.Run("delete a package", func(t *testing.T) {
		resp, err := gl.Packages.DeleteProjectPackage(pid, libID)
		if err != nil || cgStatus(resp) != http.StatusNoContent {
			t.Fatalf("DeleteProjectPackage: %d %v", cgStatus(resp), err)
		}
		cgDownloadFails(t, gl, pid, "lib", "1.0.0", "lib.tar.gz", http.StatusNotFound)
		_, resp, err = gl.Packages.ListPackageFiles(pid, libID, nil)
		if cgStatus(resp) != http.StatusNotFound || err == nil {
			t.Fatalf("files of a deleted package: %d %v", cgStatus(resp), err)
		}
		resp, err = gl.Packages.DeleteProjectPackage(pid, libID)
		if cgStatus(resp) != http.StatusNotFound || err == nil {
			t.Fatalf("deleting a deleted package: %d %v", cgStatus(resp), err)
		}
		ps, _ := list(t, pid, &gitlab.ListProjectPackagesOptions{PackageName: gitlab.Ptr("lib")})
		if got := fmt.Sprint(cgKeys(ps)); got != "[lib@1.0.1 lib@1.0.2 lib@1.0.3 lib@1.0.4]" {
			t.Fatalf("after deleting lib 1.0.0: %s", got)
		}
		// Other versions are untouched.
		cgDownload(t, gl, pid, "lib", "1.0.1", "lib.tar.gz", files["lib@1.0.1"])
		// A package id of another project is not found through this one.
		core, _ := list(t, libsID, nil)
		resp, err = gl.Packages.DeleteProjectPackage(pid, core[0].ID)
		if cgStatus(resp) != http.StatusNotFound || err == nil {
			t.Fatalf("deleting another project's package: %d %v", cgStatus(resp), err)
		}
		// Re-publishing a deleted version creates a new package.
		cgPublish(t, gl, pid, "lib", "1.0.0", "lib.tar.gz", older, nil, http.StatusCreated)
		ps, _ = list(t, pid, &gitlab.ListProjectPackagesOptions{PackageName: gitlab.Ptr("lib"), PackageVersion: gitlab.Ptr("1.0.0")})
		if len(ps) != 1 || ps[0].ID == libID {
			t.Fatalf("republished lib 1.0.0: %+v", ps)
		}
		cgDownload(t, gl, pid, "lib", "1.0.0", "lib.tar.gz", older)
	})
}

func TestClientGoTokenKinds(t *testing.T) {
	e := servertest.New(t)
	alice := e.CreateUser(t, "alice")
	bob := e.CreateUser(t, "bob")
	carol := e.CreateUser(t, "carol")
	e.CreateGroup(t, alice, "", "acme", "PRIVATE")
	pid := e.CreateProject(t, alice, "acme", "tools", "PRIVATE")
	e.CreateProject(t, alice, "acme", "other", "PRIVATE")
	e.AddMember(t, alice, "acme", "bob", "DEVELOPER")
	owner := cgClient(t, e, alice)
	seed := cgBytes("seed", 3000)
	cgPublish(t, owner, pid, "seed", "1.0.0", "seed.bin", seed, nil, http.StatusCreated)

	t.Run("job token (NewJobClient)", func(t *testing.T) {
		jc := cgJobClient(t, e, cgJobToken(t, e, bob, "acme/tools"))
		data := cgBytes("built by CI", 5000)
		cgPublish(t, jc, "acme/tools", "ci", "1.2.3", "artifact.zip", data, nil, http.StatusCreated)
		f := cgPublish(t, jc, pid, "ci", "1.2.3", "artifact.zip.sha256", []byte(cgSHA256(data)),
			&gitlab.PublishPackageFileOptions{Select: gitlab.Ptr(gitlab.SelectPackageFile)}, http.StatusOK)
		if f.FileSHA256 != cgSHA256([]byte(cgSHA256(data))) {
			t.Fatalf("package file %+v", f)
		}
		cgDownload(t, jc, pid, "ci", "1.2.3", "artifact.zip", data)
		cgDownload(t, jc, "acme/tools", "seed", "1.0.0", "seed.bin", seed)
		cgDownload(t, owner, pid, "ci", "1.2.3", "artifact.zip", data)
		// A job token is bound to its project.
		cgPublish(t, jc, "acme/other", "ci", "1.2.3", "artifact.zip", data, nil, http.StatusNotFound)
		// It acts with its user's role: DEVELOPER cannot delete packages.
		ps, _, err := owner.Packages.ListProjectPackages(pid, &gitlab.ListProjectPackagesOptions{PackageName: gitlab.Ptr("ci")})
		if err != nil || len(ps) != 1 {
			t.Fatalf("ci package: %v %v", ps, err)
		}
		resp, err := jc.Packages.DeleteProjectPackage(pid, ps[0].ID)
		if cgStatus(resp) != http.StatusForbidden || err == nil {
			t.Fatalf("developer's job token deleting a package: %d %v", cgStatus(resp), err)
		}
		cgDownload(t, owner, pid, "ci", "1.2.3", "artifact.zip", data)
	})

	deployRW, deployUser := cgDeployToken(t, e, alice, "acme/tools", "READ_PACKAGE_REGISTRY", "WRITE_PACKAGE_REGISTRY")
	deployRO, _ := cgDeployToken(t, e, alice, "acme/tools", "READ_PACKAGE_REGISTRY")
	t.Run("deploy token (Deploy-Token header)", func(t *testing.T) {
		dc := cgHeaderClient(t, e, "Deploy-Token", deployRW)
		data := cgBytes("deployed", 2048)
		cgPublish(t, dc, "acme/tools", "deploy", "3.0.0", "bundle.tgz", data, nil, http.StatusCreated)
		f := cgPublish(t, dc, pid, "deploy", "3.0.0", "bundle.tgz.asc", []byte("sig"),
			&gitlab.PublishPackageFileOptions{Select: gitlab.Ptr(gitlab.SelectPackageFile)}, http.StatusOK)
		if f.FileName != "bundle.tgz.asc" || f.Size != 3 {
			t.Fatalf("package file %+v", f)
		}
		cgDownload(t, dc, pid, "deploy", "3.0.0", "bundle.tgz", data)
		cgDownload(t, dc, pid, "seed", "1.0.0", "seed.bin", seed)
		// A project deploy token is bound to its project.
		cgDownloadFails(t, dc, "acme/other", "seed", "1.0.0", "seed.bin", http.StatusNotFound)

		ro := cgHeaderClient(t, e, "Deploy-Token", deployRO)
		cgDownload(t, ro, pid, "deploy", "3.0.0", "bundle.tgz", data)
		cgPublish(t, ro, pid, "deploy", "3.0.0", "evil.tgz", []byte("x"), nil, http.StatusForbidden)
		cgDownloadFails(t, owner, pid, "deploy", "3.0.0", "evil.tgz", http.StatusNotFound)
	})

	t.Run("HTTP Basic with any username and the token as password", func(t *testing.T) {
		basic := func(user, secret string) *gitlab.Client {
			return cgHeaderClient(t, e, "Authorization", servertest.BasicAuth(user, secret))
		}
		data := cgBytes("basic", 999)
		cgPublish(t, basic(deployUser, deployRW), pid, "basic", "1.0.0", "deploy.bin", data, nil, http.StatusCreated)
		cgDownload(t, basic("anything", deployRO), pid, "basic", "1.0.0", "deploy.bin", data)
		cgDownload(t, basic("alice", alice), "acme/tools", "basic", "1.0.0", "deploy.bin", data)
		cgPublish(t, basic("gitlab-ci-token", cgJobToken(t, e, bob, "acme/tools")), pid, "basic", "1.0.0", "job.bin", data, nil, http.StatusCreated)
		cgDownload(t, owner, pid, "basic", "1.0.0", "job.bin", data)
		cgDownloadFails(t, basic("alice", "glpat-not-a-token"), pid, "basic", "1.0.0", "deploy.bin", http.StatusUnauthorized)
	})

	t.Run("Bearer and project access tokens", func(t *testing.T) {
		bearer := cgHeaderClient(t, e, "Authorization", "Bearer "+alice)
		ps, _, err := bearer.Packages.ListProjectPackages("acme/tools", &gitlab.ListProjectPackagesOptions{PackageName: gitlab.Ptr("seed")})
		if err != nil || len(ps) != 1 {
			t.Fatalf("Bearer listing: %v %v", ps, err)
		}
		pat := cgClient(t, e, cgProjectAccessToken(t, e, alice, "acme/tools", "DEVELOPER"))
		data := cgBytes("project bot", 100)
		cgPublish(t, pat, pid, "bot", "1.0.0", "bot.bin", data, nil, http.StatusCreated)
		cgDownload(t, pat, "acme/tools", "bot", "1.0.0", "bot.bin", data)
		cgDownloadFails(t, pat, "acme/other", "seed", "1.0.0", "seed.bin", http.StatusNotFound)
	})

	t.Run("no access", func(t *testing.T) {
		// carol is signed in but no member: the private project does not exist for her.
		cc := cgClient(t, e, carol)
		cgDownloadFails(t, cc, pid, "seed", "1.0.0", "seed.bin", http.StatusNotFound)
		cgPublish(t, cc, pid, "seed", "1.0.0", "x.bin", []byte("x"), nil, http.StatusNotFound)
		_, resp, err := cc.Packages.ListProjectPackages(pid, nil)
		if cgStatus(resp) != http.StatusNotFound || err == nil {
			t.Fatalf("outsider listing: %d %v", cgStatus(resp), err)
		}
		// bob (DEVELOPER) may publish and read, not delete.
		bc := cgClient(t, e, bob)
		ps, _, err := bc.Packages.ListProjectPackages(pid, &gitlab.ListProjectPackagesOptions{PackageName: gitlab.Ptr("seed")})
		if err != nil || len(ps) != 1 {
			t.Fatalf("developer listing: %v %v", ps, err)
		}
		files, _, err := bc.Packages.ListPackageFiles(pid, ps[0].ID, nil)
		if err != nil || len(files) != 1 {
			t.Fatalf("developer listing files: %v %v", files, err)
		}
		resp, err = bc.Packages.DeletePackageFile(pid, ps[0].ID, files[0].ID)
		if cgStatus(resp) != http.StatusForbidden || err == nil {
			t.Fatalf("developer deleting a file: %d %v", cgStatus(resp), err)
		}
		cgDownload(t, owner, pid, "seed", "1.0.0", "seed.bin", seed)
		// An unknown token is 401 whatever it asks for.
		bad := cgClient(t, e, "glpat-0000000000000000000000")
		cgDownloadFails(t, bad, pid, "seed", "1.0.0", "seed.bin", http.StatusUnauthorized)
		_, resp, err = bad.Packages.ListProjectPackages(pid, nil)
		if cgStatus(resp) != http.StatusUnauthorized || err == nil {
			t.Fatalf("unknown token listing: %d %v", cgStatus(resp), err)
		}
	})
}
