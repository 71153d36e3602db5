package npm

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/registry"
)

func storedTestPackage() *Package {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	v := func(version string, manifest string, at time.Time) *pkgVersion {
		return &pkgVersion{Version: version, Manifest: json.RawMessage(manifest), Shasum: "0123456789abcdef0123456789abcdef01234567",
			Integrity: "sha512-AAAA", Published: at}
	}
	return &Package{Name: "@acme/util", Rev: "1-abc", Tags: map[string]string{"beta": "2.0.0-beta.1"}, Versions: map[string]*pkgVersion{
		"1.0.0":        v("1.0.0", `{"name":"@acme/util","version":"1.0.0","readme":"long text","scripts":{"postinstall":"node x.js"},"dependencies":{"a":"^1"}}`, t0),
		"1.1.0":        v("1.1.0", `{"name":"@acme/util","version":"1.1.0","deprecated":"use 2.x"}`, t0.Add(time.Hour)),
		"2.0.0-beta.1": v("2.0.0-beta.1", `{"name":"@acme/util","version":"2.0.0-beta.1"}`, t0.Add(2*time.Hour)),
	}}
}

// What npm reads from a packument: dist-tags with a latest (the highest
// release when no tag names one), each version's dist pointing at this
// registry, and times; the abbreviated form keeps only what installs need.
func TestNPMRenderPackument(t *testing.T) {
	pk := storedTestPackage()
	const base = "https://reg.example/api/v4/projects/acme%2Fweb/packages/npm/"
	var full struct {
		ID       string            `json:"_id"`
		Rev      string            `json:"_rev"`
		DistTags map[string]string `json:"dist-tags"`
		Versions map[string]struct {
			Name, Version, Readme, Deprecated string
			Dist                              distInfo
		}
		Time map[string]string
	}
	body, err := pk.RenderPackument(base, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, &full); err != nil {
		t.Fatalf("full packument is not JSON: %v\n%s", err, body)
	}
	if full.ID != "@acme/util" || full.Rev != "1-abc" {
		t.Fatalf("_id %q, _rev %q", full.ID, full.Rev)
	}
	if full.DistTags["latest"] != "1.1.0" || full.DistTags["beta"] != "2.0.0-beta.1" {
		t.Fatalf("dist-tags %v: latest is the highest release, not the pre-release", full.DistTags)
	}
	v1 := full.Versions["1.0.0"]
	if v1.Readme != "long text" || v1.Dist.Tarball != base+"@acme%2futil/-/util-1.0.0.tgz" ||
		v1.Dist.Shasum != "0123456789abcdef0123456789abcdef01234567" || v1.Dist.Integrity != "sha512-AAAA" {
		t.Fatalf("version 1.0.0: %+v", v1)
	}
	if full.Time["created"] != "2024-01-02T03:04:05Z" || full.Time["modified"] != "2024-01-02T05:04:05Z" ||
		full.Time["1.1.0"] != "2024-01-02T04:04:05Z" {
		t.Fatalf("time %v", full.Time)
	}

	body, err = pk.RenderPackument(base, true)
	if err != nil {
		t.Fatal(err)
	}
	var abbr struct {
		Name     string
		Modified string
		Rev      *string `json:"_rev"`
		Versions map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(body, &abbr); err != nil {
		t.Fatalf("abbreviated packument is not JSON: %v\n%s", err, body)
	}
	m := abbr.Versions["1.0.0"]
	if abbr.Name != "@acme/util" || abbr.Modified != "2024-01-02T05:04:05Z" || abbr.Rev != nil {
		t.Fatalf("abbreviated head: %s", body)
	}
	if _, ok := m["readme"]; ok {
		t.Fatalf("abbreviated keeps the readme: %s", body)
	}
	if string(m["hasInstallScript"]) != "true" || string(m["dependencies"]) != `{"a":"^1"}` || m["dist"] == nil {
		t.Fatalf("abbreviated 1.0.0: %s", body)
	}
	if string(abbr.Versions["1.1.0"]["deprecated"]) != `"use 2.x"` {
		t.Fatalf("abbreviated loses the deprecation: %s", body)
	}
}

// GET .../npm/name/<version or tag> answers one manifest with its dist.
func TestNPMVersionManifest(t *testing.T) {
	pk := storedTestPackage()
	for _, c := range []struct{ ask, want string }{{"1.0.0", "1.0.0"}, {"latest", "1.1.0"}, {"beta", "2.0.0-beta.1"}} {
		body, err := pk.VersionManifest("https://r/", c.ask)
		if err != nil {
			t.Fatalf("%s: %v", c.ask, err)
		}
		var m struct {
			Version string
			Dist    distInfo
		}
		if err := json.Unmarshal(body, &m); err != nil || m.Version != c.want || m.Dist.Tarball != "https://r/@acme%2futil/-/util-"+c.want+".tgz" {
			t.Fatalf("%s: %s (%v)", c.ask, body, err)
		}
	}
	if _, err := pk.VersionManifest("https://r/", "3.0.0"); registry.KindOf(err) != registry.KindNotFound {
		t.Fatalf("unknown version: %v, want not found", err)
	}
}

func TestNPMAbbreviate(t *testing.T) {
	for _, c := range []struct{ manifest, want string }{
		{`{"name":"a","version":"1.0.0","description":"x","readme":"y","engines":{"node":"^18"}}`,
			`{"engines":{"node":"^18"},"name":"a","version":"1.0.0"}`},
		{`{"name":"a","scripts":{"install":"make"}}`, `{"hasInstallScript":true,"name":"a"}`},
		{`{"name":"a","scripts":{"test":"jest"}}`, `{"name":"a"}`},
		{`{"name":"a","scripts":{"preinstall":"x"},"hasInstallScript":false}`, `{"hasInstallScript":false,"name":"a"}`},
		{`not json`, `{}`},
	} {
		if got := string(abbreviate(json.RawMessage(c.manifest))); got != c.want {
			t.Errorf("abbreviate(%s) = %s, want %s", c.manifest, got, c.want)
		}
	}
}

// A merge of one tier's sources: the earlier source wins a version or a
// tag both have, and the revision changes when either source's does.
func TestNPMMerge(t *testing.T) {
	a := &Package{Name: "x", Rev: "1-a", Versions: map[string]*pkgVersion{"1.0.0": {Shasum: "a"}}, Tags: map[string]string{"latest": "1.0.0"}}
	b := &Package{Name: "x", Rev: "1-b", Versions: map[string]*pkgVersion{"1.0.0": {Shasum: "b"}, "2.0.0": {Shasum: "b"}},
		Tags: map[string]string{"latest": "2.0.0", "next": "2.0.0"}}
	got := merge([]registry.Found[*Package]{{Value: a}, {Value: b}})
	if got.Versions["1.0.0"].Shasum != "a" || got.Versions["2.0.0"] == nil || got.Tags["latest"] != "1.0.0" || got.Tags["next"] != "2.0.0" {
		t.Fatalf("merge: %+v", got)
	}
	b.Rev = "1-c"
	if again := merge([]registry.Found[*Package]{{Value: a}, {Value: b}}); again.Rev == got.Rev {
		t.Fatalf("the merged revision %s ignores a source's change", got.Rev)
	}
	if one := merge([]registry.Found[*Package]{{Value: a}}); one != a {
		t.Fatal("a single answer is not passed through")
	}
}
