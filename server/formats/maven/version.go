package maven

import (
	"slices"
	"strconv"
	"strings"
)

// Maven's version order: org.apache.maven.artifact.versioning.
// ComparableVersion as Maven 3.8 has it (the client this registry is
// proven with), ported rule for rule:
//
//   - a version is a list of items; '.' and '-' separate items, and so
//     does a change between digits and letters; '-' (and a change between
//     digits and letters) starts a sub-list, so "1-1" is [1, [1]];
//   - numbers compare as numbers (any length, leading zeros ignored);
//   - strings are qualifiers: alpha < beta < milestone < rc < snapshot <
//     "" (release) < sp, then any other string, lexically; "a", "b", "m"
//     directly followed by a digit mean alpha, beta, milestone; "ga",
//     "final" and "release" mean "", "cr" means rc; case is ignored;
//   - trailing "null" items (0, "", empty lists) are dropped from each
//     list, so 1 == 1.0 == 1-0 == 1.0.0;
//   - a number is greater than a string or a list; a list is greater than
//     a string; comparing with a missing item compares with "null".

// version is a parsed Maven version.
type version struct {
	raw       string
	items     *listItem
	canonical string
}

type item interface {
	// compare is this item against other (nil: no item there).
	compare(other item) int
	isNull() bool
	String() string
}

// numItem is a number without leading zeros ("0" for zero).
type numItem string

// strItem is a qualifier, lower case, aliases resolved.
type strItem string

// listItem is a list of items (the whole version, or a '-' sub-list).
type listItem struct{ items []item }

// qualifiers are the known qualifiers, in order.
var qualifiers = []string{"alpha", "beta", "milestone", "rc", "snapshot", "", "sp"}

var qualifierAliases = map[string]string{"ga": "", "final": "", "release": "", "cr": "rc"}

// releaseIndex is comparableQualifier("").
var releaseIndex = strconv.Itoa(slices.Index(qualifiers, ""))

// comparableQualifier orders known qualifiers by their index and unknown
// ones after them, lexically.
func comparableQualifier(q string) string {
	if i := slices.Index(qualifiers, q); i >= 0 {
		return strconv.Itoa(i)
	}
	return strconv.Itoa(len(qualifiers)) + "-" + q
}

func newStrItem(s string, followedByDigit bool) strItem {
	if followedByDigit && len(s) == 1 {
		switch s {
		case "a":
			s = "alpha"
		case "b":
			s = "beta"
		case "m":
			s = "milestone"
		}
	}
	if a, ok := qualifierAliases[s]; ok {
		s = a
	}
	return strItem(s)
}

func newNumItem(digits string) numItem {
	d := strings.TrimLeft(digits, "0")
	if d == "" {
		d = "0"
	}
	return numItem(d)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (n numItem) isNull() bool   { return n == "0" }
func (n numItem) String() string { return string(n) }
func (n numItem) compare(o item) int {
	switch o := o.(type) {
	case nil:
		if n.isNull() {
			return 0
		}
		return 1
	case numItem:
		if c := cmpInt(len(n), len(o)); c != 0 {
			return c
		}
		return strings.Compare(string(n), string(o))
	}
	return 1 // 1.1 > 1-sp, 1.1 > 1-1
}

func (s strItem) isNull() bool   { return comparableQualifier(string(s)) == releaseIndex }
func (s strItem) String() string { return string(s) }
func (s strItem) compare(o item) int {
	switch o := o.(type) {
	case nil:
		return strings.Compare(comparableQualifier(string(s)), releaseIndex) // 1-rc < 1, 1-ga > 1
	case strItem:
		return strings.Compare(comparableQualifier(string(s)), comparableQualifier(string(o)))
	}
	return -1 // 1.any < 1.1, 1.any < 1-1
}

func (l *listItem) isNull() bool { return len(l.items) == 0 }
func (l *listItem) String() string {
	var b strings.Builder
	for _, it := range l.items {
		if b.Len() > 0 {
			if _, ok := it.(*listItem); ok {
				b.WriteByte('-')
			} else {
				b.WriteByte('.')
			}
		}
		b.WriteString(it.String())
	}
	return b.String()
}

func (l *listItem) compare(o item) int {
	switch o := o.(type) {
	case nil:
		// Every item against null, not only the first (MNG-6964).
		for _, it := range l.items {
			if c := it.compare(nil); c != 0 {
				return c
			}
		}
		return 0
	case numItem:
		return -1 // 1-1 < 1.0.x
	case strItem:
		return 1 // 1-1 > 1-sp
	case *listItem:
		for i := 0; i < len(l.items) || i < len(o.items); i++ {
			var a, b item
			if i < len(l.items) {
				a = l.items[i]
			}
			if i < len(o.items) {
				b = o.items[i]
			}
			var c int
			if a == nil {
				c = -b.compare(nil)
			} else {
				c = a.compare(b)
			}
			if c != 0 {
				return c
			}
		}
		return 0
	}
	return 0
}

// normalize drops trailing null items (0, "", empty lists), looking past
// sub-lists.
func (l *listItem) normalize() {
	for i := len(l.items) - 1; i >= 0; i-- {
		it := l.items[i]
		if it.isNull() {
			l.items = slices.Delete(l.items, i, i+1)
		} else if _, ok := it.(*listItem); !ok {
			break
		}
	}
}

func (l *listItem) add(it item) { l.items = append(l.items, it) }

func parseItem(isDigit bool, s string) item {
	if isDigit {
		return newNumItem(s)
	}
	return newStrItem(s, false)
}

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }

// parseVersion is ComparableVersion.parseVersion.
func parseVersion(raw string) version {
	v := strings.ToLower(raw)
	root := &listItem{}
	list := root
	stack := []*listItem{root}
	push := func() {
		n := &listItem{}
		list.add(n)
		list = n
		stack = append(stack, n)
	}
	isDigit, start := false, 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '.' || c == '-':
			if i == start {
				list.add(numItem("0"))
			} else {
				list.add(parseItem(isDigit, v[start:i]))
			}
			start = i + 1
			if c == '-' {
				push()
			}
		case isDigitByte(c):
			if !isDigit && i > start {
				list.add(newStrItem(v[start:i], true))
				start = i
				push()
			}
			isDigit = true
		default:
			if isDigit && i > start {
				list.add(parseItem(true, v[start:i]))
				start = i
				push()
			}
			isDigit = false
		}
	}
	if len(v) > start {
		list.add(parseItem(isDigit, v[start:]))
	}
	for i := len(stack) - 1; i >= 0; i-- {
		stack[i].normalize()
	}
	return version{raw: raw, items: root, canonical: root.String()}
}

// compareVersions orders two versions as Maven does.
func compareVersions(a, b string) int {
	return parseVersion(a).items.compare(parseVersion(b).items)
}

// sortVersions sorts versions in Maven's order, lowest first; versions
// Maven calls equal ("1.0" and "1") keep a fixed order by their text.
func sortVersions(vs []string) {
	parsed := make([]version, len(vs))
	for i, s := range vs {
		parsed[i] = parseVersion(s)
	}
	slices.SortFunc(parsed, func(a, b version) int {
		if c := a.items.compare(b.items); c != 0 {
			return c
		}
		return strings.Compare(a.raw, b.raw)
	})
	for i, p := range parsed {
		vs[i] = p.raw
	}
}
