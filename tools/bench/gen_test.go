package main

import (
	"bytes"
	"crypto/sha256"
	"io"
	"testing"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"123": 123, "512MiB": 512 << 20, "1GiB": 1 << 30, "5GiB": 5 << 30, "1G": 1 << 30, "1.5GiB": 3 << 29,
		"100MB": 100e6, "0": 0, "4k": 4096, " 2 MiB ": 2 << 20,
	} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "1XB", "-1", "1..2G"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) succeeded", in)
		}
	}
	if s := formatSize(5 << 30); s != "5GiB" {
		t.Errorf("formatSize = %q", s)
	}
}

func TestGen(t *testing.T) {
	pat := newPattern()
	const size = 3*patternSize + 12345
	read := func(stream uint64, chunk int) []byte {
		g := newGen(pat, stream, size)
		var out bytes.Buffer
		buf := make([]byte, chunk)
		for {
			n, err := g.Read(buf)
			out.Write(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		return out.Bytes()
	}
	a, b := read(1, 32<<10), read(1, 7777)
	if len(a) != size || !bytes.Equal(a, b) {
		t.Fatalf("same stream differs by read size (len %d, %d)", len(a), len(b))
	}
	if bytes.Equal(a[:patternSize], a[patternSize:2*patternSize]) {
		t.Error("consecutive blocks are identical")
	}
	if sha256.Sum256(a) == sha256.Sum256(read(2, 32<<10)) {
		t.Error("different streams have the same content")
	}
}
