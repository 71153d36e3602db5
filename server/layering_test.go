package server_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const (
	modulePath = "github.com/pkgreg/registry"
	formatsDir = modulePath + "/server/formats/"
)

// formatOf is the format a package belongs to ("npm" for
// server/formats/npm and anything below it), or "".
func formatOf(importPath string) string {
	rest, ok := strings.CutPrefix(importPath, formatsDir)
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// TestFormatsDoNotReachIntoEachOther holds the layering of issue 13: a
// format package imports the core, never another format, and the core
// (and every other shared package) imports no format. Only the assembly
// (server), the GraphQL layer (a format's own mutations), the binary and
// the tools may. Test-only imports count too: a format's tests that
// import another format would couple them just the same.
func TestFormatsDoNotReachIntoEachOther(t *testing.T) {
	// One line per package: its path, every package it depends on
	// (transitively), its direct imports, and its tests' direct imports.
	out, err := exec.Command("go", "list", "-e",
		"-f", "{{.ImportPath}}|{{join .Deps \" \"}}|{{join .Imports \" \"}}|{{join .TestImports \" \"}} {{join .XTestImports \" \"}}",
		modulePath+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	mayImportFormats := func(p string) bool {
		switch {
		case p == modulePath, p == modulePath+"/server", p == modulePath+"/graph",
			strings.HasPrefix(p, modulePath+"/tools/"):
			return true
		}
		return false
	}
	formats := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "|")
		if len(f) != 4 {
			t.Fatalf("go list printed %q", sc.Text())
		}
		pkgPath, deps, imports, testImports := f[0], strings.Fields(f[1]), strings.Fields(f[2]), strings.Fields(f[3])
		own := formatOf(pkgPath)
		if own != "" {
			formats[own] = true
			// Transitively: no path through any package to another format.
			for _, dep := range append(deps, testImports...) {
				if other := formatOf(dep); other != "" && other != own {
					t.Errorf("format %s (%s) depends on format %s (%s): a format imports the core, never another format", own, pkgPath, other, dep)
				}
			}
			continue
		}
		// Directly: packages that import the assembly (servertest, the
		// binary) reach the formats through it, which is fine; every
		// package is checked, so any other path is caught at its own edge.
		for _, dep := range append(imports, testImports...) {
			if formatOf(dep) != "" && !mayImportFormats(pkgPath) {
				t.Errorf("%s imports format package %s: shared code must not know a format", pkgPath, dep)
			}
		}
	}
	// The check above passes vacuously if the formats moved elsewhere.
	for _, want := range []string{"generic", "pypi", "npm", "gomod"} {
		if !formats[want] {
			t.Errorf("no package under server/formats/%s: the layering check has nothing to check", want)
		}
	}
}
