package maven

import (
	"slices"
	"testing"
)

// The cases are Maven's own (maven-artifact's ComparableVersionTest, Maven
// 3.8): each list is in strictly ascending order.
var (
	versionsQualifier = []string{"1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2", "1-m11", "1-rc", "1-cr2",
		"1-rc123", "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc", "1-def", "1-pom-1", "1-1-snapshot",
		"1-1", "1-2", "1-123"}
	versionsNumber = []string{"2.0", "2-1", "2.0.a", "2.0.0.a", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1", "2.1.0.1",
		"2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11", "11.a", "11b", "11c", "11m"}
)

// newComparable parses v and checks that its canonical form parses to
// itself (ComparableVersionTest.newComparable).
func newComparable(t *testing.T, v string) version {
	t.Helper()
	p := parseVersion(v)
	if again := parseVersion(p.canonical).canonical; again != p.canonical {
		t.Errorf("canonical(%s) = %s -> canonical: %s", v, p.canonical, again)
	}
	return p
}

func checkOrder(t *testing.T, versions ...string) {
	t.Helper()
	for i := 1; i < len(versions); i++ {
		low := newComparable(t, versions[i-1])
		for j := i; j < len(versions); j++ {
			high := newComparable(t, versions[j])
			if low.items.compare(high.items) >= 0 {
				t.Errorf("expected %s < %s", versions[i-1], versions[j])
			}
			if high.items.compare(low.items) <= 0 {
				t.Errorf("expected %s > %s", versions[j], versions[i-1])
			}
		}
	}
}

func checkEqual(t *testing.T, a, b string) {
	t.Helper()
	va, vb := newComparable(t, a), newComparable(t, b)
	if va.items.compare(vb.items) != 0 || vb.items.compare(va.items) != 0 {
		t.Errorf("expected %s == %s", a, b)
	}
	if va.canonical != vb.canonical {
		t.Errorf("expected %s and %s to have one canonical form: %s, %s", a, b, va.canonical, vb.canonical)
	}
}

func TestVersionsQualifier(t *testing.T) { checkOrder(t, versionsQualifier...) }
func TestVersionsNumber(t *testing.T)    { checkOrder(t, versionsNumber...) }

func TestVersionsEqual(t *testing.T) {
	newComparable(t, "1.0-alpha")
	for _, c := range [][2]string{
		{"1", "1"}, {"1", "1.0"}, {"1", "1.0.0"}, {"1.0", "1.0.0"}, {"1", "1-0"}, {"1", "1.0-0"}, {"1.0", "1.0-0"},
		// no separator between number and character
		{"1a", "1-a"}, {"1a", "1.0-a"}, {"1a", "1.0.0-a"}, {"1.0a", "1-a"}, {"1.0.0a", "1-a"},
		{"1x", "1-x"}, {"1x", "1.0-x"}, {"1x", "1.0.0-x"}, {"1.0x", "1-x"}, {"1.0.0x", "1-x"},
		// aliases
		{"1ga", "1"}, {"1release", "1"}, {"1final", "1"}, {"1cr", "1rc"},
		// special "aliases" a, b and m for alpha, beta and milestone
		{"1a1", "1-alpha-1"}, {"1b2", "1-beta-2"}, {"1m3", "1-milestone-3"},
		// case insensitive
		{"1X", "1x"}, {"1A", "1a"}, {"1B", "1b"}, {"1M", "1m"}, {"1Ga", "1"}, {"1GA", "1"}, {"1RELEASE", "1"},
		{"1release", "1"}, {"1RELeaSE", "1"}, {"1Final", "1"}, {"1FinaL", "1"}, {"1FINAL", "1"}, {"1Cr", "1Rc"},
		{"1cR", "1rC"}, {"1m3", "1Milestone3"}, {"1m3", "1MileStone3"}, {"1m3", "1MILESTONE3"},
	} {
		checkEqual(t, c[0], c[1])
	}
}

func TestVersionComparing(t *testing.T) {
	for _, c := range [][2]string{
		{"1", "2"}, {"1.5", "2"}, {"1", "2.5"}, {"1.0", "1.1"}, {"1.1", "1.2"}, {"1.0.0", "1.1"}, {"1.0.1", "1.1"}, {"1.1", "1.2.0"},
		{"1.0-alpha-1", "1.0"}, {"1.0-alpha-1", "1.0-alpha-2"}, {"1.0-alpha-1", "1.0-beta-1"},
		{"1.0-beta-1", "1.0-SNAPSHOT"}, {"1.0-SNAPSHOT", "1.0"}, {"1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"},
		{"1.0", "1.0-1"}, {"1.0-1", "1.0-2"}, {"1.0.0", "1.0-1"},
		{"2.0-1", "2.0.1"}, {"2.0.1-klm", "2.0.1-lmn"}, {"2.0.1", "2.0.1-xyz"},
		{"2.0.1", "2.0.1-123"}, {"2.0.1-xyz", "2.0.1-123"},
	} {
		checkOrder(t, c[0], c[1])
	}
}

// MNG-5568: transitivity with an unusual version.
func TestMng5568(t *testing.T) {
	a, b, c := "6.1.0", "6.1.0rc3", "6.1H.5-beta"
	checkOrder(t, b, a)
	checkOrder(t, b, c)
	checkOrder(t, a, c)
}

// MNG-6572: numbers of every length.
func TestMng6572(t *testing.T) {
	a, b, c, d := "20190126.230843", "1234567890.12345", "123456789012345.1H.5-beta", "12345678901234567890.1H.5-beta"
	checkOrder(t, a, b, c, d)
}

func TestVersionEqualWithLeadingZeroes(t *testing.T) {
	for _, one := range []string{"1", "0"} {
		var arr []string
		for n := 18; n >= 0; n-- {
			s := ""
			for range n {
				s += "0"
			}
			arr = append(arr, s+one)
		}
		for i := range arr {
			for j := i; j < len(arr); j++ {
				checkEqual(t, arr[i], arr[j])
			}
		}
	}
}

// MNG-6964: qualifiers after "-0.".
func TestMng6964(t *testing.T) {
	checkOrder(t, "1-0.alpha", "1")
	checkOrder(t, "1-0.beta", "1")
	checkOrder(t, "1-0.alpha", "1-0.beta")
}

func TestLocaleIndependent(t *testing.T) {
	checkEqual(t, "1-abcdefghijklmnopqrstuvwxyz", "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ")
}

func TestCanonical(t *testing.T) {
	for v, want := range map[string]string{
		"1.0.0": "1", "1.0-SNAPSHOT": "1-snapshot", "1.0.0-alpha1": "1-alpha-1", "2.0.0-beta.1": "2-beta.1",
		"1.0.0-ga.1": "1-1", "1.0a": "1-a", "1-0.alpha": "1-0.alpha", "007": "7",
	} {
		if got := parseVersion(v).canonical; got != want {
			t.Errorf("canonical(%s) = %s, want %s", v, got, want)
		}
	}
}

func TestSortVersions(t *testing.T) {
	got := []string{"1.10", "1.0-SNAPSHOT", "1.2", "1.0", "1.0-rc1", "2.0-alpha", "1.0.0", "1.9.9"}
	sortVersions(got)
	want := []string{"1.0-rc1", "1.0-SNAPSHOT", "1.0", "1.0.0", "1.2", "1.9.9", "1.10", "2.0-alpha"}
	if !slices.Equal(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
}
