// Package gid formats and parses global ids of GitLab's shape,
// gid://registry/<Type>/<n>, where n is the numeric id REST URLs accept.
package gid

import (
	"fmt"
	"strconv"
	"strings"
)

const prefix = "gid://registry/"

// Format returns the global id of an object.
func Format(typ string, id int) string { return prefix + typ + "/" + strconv.Itoa(id) }

// Parse splits a global id into its type and numeric id.
func Parse(s string) (string, int, error) {
	rest, ok := strings.CutPrefix(s, prefix)
	typ, num, ok2 := strings.Cut(rest, "/")
	id, err := strconv.Atoi(num)
	if !ok || !ok2 || typ == "" || err != nil || id <= 0 {
		return "", 0, fmt.Errorf("%q is not a valid global id (gid://registry/<Type>/<n>)", s)
	}
	return typ, id, nil
}
