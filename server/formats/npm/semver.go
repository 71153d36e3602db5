package npm

import "strings"

// semverKey is a parsed version for ordering.
type semverKey struct {
	raw  string
	core [3]string
	pre  []string
}

func parseSemver(v string) semverKey {
	k := semverKey{raw: v}
	v, _, _ = strings.Cut(v, "+")
	core, pre, hasPre := strings.Cut(v, "-")
	for i, f := range strings.SplitN(core, ".", 3) {
		k.core[i] = f
	}
	if hasPre {
		k.pre = strings.Split(pre, ".")
	}
	return k
}

// compare applies semver precedence: numeric fields, then a release above
// its pre-releases, then pre-release identifiers field by field (numeric
// below alphanumeric); build metadata is ignored, except as a final
// tie-break so that the order is total.
func (a semverKey) compare(b semverKey) int {
	for i := range a.core {
		if c := compareNumeric(a.core[i], b.core[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(a.pre) == 0 && len(b.pre) == 0:
		return strings.Compare(a.raw, b.raw)
	case len(a.pre) == 0:
		return 1
	case len(b.pre) == 0:
		return -1
	}
	for i := 0; i < len(a.pre) && i < len(b.pre); i++ {
		an, bn := isDigits(a.pre[i]), isDigits(b.pre[i])
		var c int
		switch {
		case an && bn:
			c = compareNumeric(a.pre[i], b.pre[i])
		case an:
			c = -1
		case bn:
			c = 1
		default:
			c = strings.Compare(a.pre[i], b.pre[i])
		}
		if c != 0 {
			return c
		}
	}
	if len(a.pre) != len(b.pre) {
		return len(a.pre) - len(b.pre)
	}
	return strings.Compare(a.raw, b.raw)
}

// compareNumeric compares decimal strings of any length (no overflow).
func compareNumeric(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
