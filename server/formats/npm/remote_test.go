package npm

import (
	"strings"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/registry"
)

// An upstream packument is indexed as npm could install from it: versions
// with a semver version, a tarball URL and an integrity this registry can
// check; dist-tags that name such a version; publish times.
func TestNPMParseIndex(t *testing.T) {
	const sri = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
	doc := `{"_id":"left-pad","name":"left-pad","readme":"` + strings.Repeat("x", 1000) + `",
	  "dist-tags":{"latest":"1.1.0","beta":"2.0.0-beta","gone":"0.0.1"},
	  "versions":{
	    "1.0.0":{"name":"left-pad","version":"1.0.0","readme":"r","dist":{"tarball":"https://up/left-pad-1.0.0.tgz","shasum":"ABCDEF0123456789ABCDEF0123456789ABCDEF01"}},
	    "1.1.0":{"name":"left-pad","version":"1.1.0","scripts":{"install":"node-gyp rebuild"},"dist":{"tarball":"https://up/left-pad-1.1.0.tgz","integrity":"` + sri + `"}},
	    "2.0.0-beta":{"name":"left-pad","version":"2.0.0-beta","dist":{"tarball":"https://up/b.tgz","integrity":"sha1-AAAA"}},
	    "0.0.1":{"name":"left-pad","version":"0.0.1","dist":{"shasum":"00"}},
	    "not-semver":{"name":"left-pad","dist":{"tarball":"https://up/x.tgz"}},
	    "3.0.0":"not a manifest"
	  },
	  "time":{"created":"2016-01-01T00:00:00.000Z","1.0.0":"2016-03-04T05:06:07.890Z","1.1.0":"garbage"}}`
	e, err := parseIndex(strings.NewReader(doc), "left-pad")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.versions) != 2 || e.versions["1.0.0"] == nil || e.versions["1.1.0"] == nil {
		t.Fatalf("installable versions: %v", e.versions)
	}
	v1 := e.versions["1.0.0"]
	if v1.Upstream != "https://up/left-pad-1.0.0.tgz" || v1.Shasum != "abcdef0123456789abcdef0123456789abcdef01" ||
		!v1.Published.Equal(time.Date(2016, 3, 4, 5, 6, 7, 890e6, time.UTC)) {
		t.Fatalf("1.0.0: %+v", v1)
	}
	if strings.Contains(string(v1.Abbreviated), "readme") || strings.Contains(string(v1.Abbreviated), "dist") {
		t.Fatalf("the index keeps more than the abbreviated manifest: %s", v1.Abbreviated)
	}
	if v := e.versions["1.1.0"]; v.Integrity != sri || !v.Published.IsZero() || !strings.Contains(string(v.Abbreviated), `"hasInstallScript":true`) {
		t.Fatalf("1.1.0: %+v %s", v, v.Abbreviated)
	}
	if len(e.tags) != 1 || e.tags["latest"] != "1.1.0" {
		t.Fatalf("dist-tags %v: only tags of installable versions", e.tags)
	}
	if e.size <= 0 {
		t.Fatal("an index costs nothing in the cache")
	}

	// A document npm could not read is the upstream's failure (502), not ours.
	for _, bad := range []string{`{"versions":`, `[]`, `{"versions":[1,2]}`, `<html>`} {
		if _, err := parseIndex(strings.NewReader(bad), "x"); registry.KindOf(err) != registry.KindBadGateway {
			t.Errorf("%s: %v, want bad gateway", bad, err)
		}
	}
	// Versions and tags that are null or malformed are no versions, not a failure.
	e, err = parseIndex(strings.NewReader(`{"versions":null,"dist-tags":"x","time":[]}`), "x")
	if err != nil || len(e.versions) != 0 || len(e.tags) != 0 {
		t.Fatalf("null versions: %v %v", e, err)
	}
}
