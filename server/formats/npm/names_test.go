package npm

import (
	"slices"
	"testing"
)

func TestNPMNameRules(t *testing.T) {
	for _, ok := range []string{"left-pad", "@acme/util", "a", "x.y_z~1", "@a-b/c.d"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Left-Pad", ".hidden", "_private", "@acme/", "@/x", "a b", "a/b", "@a/b/c", "node_modules",
		"caf\u00e9", string(make([]byte, 215))} {
		if ValidateName(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNPMVersionOrder(t *testing.T) {
	// semver.org's precedence example, plus numeric fields compared as numbers.
	want := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
		"1.0.0-rc.1", "1.0.0", "1.2.0", "1.10.0", "2.0.0", "10.0.0"}
	pk := &Package{Versions: map[string]*pkgVersion{}}
	for _, v := range want {
		if err := ValidateVersion(v); err != nil {
			t.Fatal(err)
		}
		pk.Versions[v] = &pkgVersion{Version: v}
	}
	for range 5 {
		if got := pk.sortedVersions(); !slices.Equal(got, want) {
			t.Fatalf("order %v", got)
		}
	}
	if got := pk.DistTags()["latest"]; got != "10.0.0" {
		t.Fatalf("latest without a tag: %s", got)
	}
	for _, bad := range []string{"1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0+"} {
		if ValidateVersion(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNPMIntegrity(t *testing.T) {
	sri := integrityOf("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
	got, ok := sha512FromIntegrity(sri + " sha1-abc")
	if !ok || got != "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" {
		t.Fatalf("round trip: %q %v", got, ok)
	}
	if _, ok := sha512FromIntegrity("sha512-short"); ok {
		t.Fatal("a short digest accepted")
	}
}
