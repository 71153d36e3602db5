package main

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
)

const (
	patternSize = 1 << 20 // the repeated random block
	stampEvery  = 4 << 10 // a 16-byte stamp every 4 KiB of each block
)

// newPattern returns the 1 MiB of random bytes every stream repeats.
func newPattern() []byte {
	p := make([]byte, patternSize)
	_, _ = rand.Read(p)
	return p
}

// randomUint64 is a fresh stream id: no two streams (in this run or another)
// have the same content, so content-addressed dedup never kicks in.
func randomUint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// genReader yields size bytes: the shared random pattern, block after block,
// with the stream id and the block number mixed into a 16-byte stamp every
// 4 KiB. Producing a block costs 256 small writes; reading costs one copy.
// It holds one 1 MiB block, never the stream.
type genReader struct {
	pat    []byte // shared, read-only
	blk    []byte // pat with this block's stamps
	stream uint64
	size   int64
	off    int64
	block  int64 // block currently in blk
}

func newGen(pat []byte, stream uint64, size int64) *genReader {
	g := &genReader{pat: pat, blk: make([]byte, len(pat)), stream: stream, size: size}
	copy(g.blk, pat)
	g.stamp(0)
	return g
}

func (g *genReader) stamp(block int64) {
	g.block = block
	for i := 0; i+16 <= len(g.blk); i += stampEvery {
		binary.LittleEndian.PutUint64(g.blk[i:], binary.LittleEndian.Uint64(g.pat[i:])^g.stream)
		binary.LittleEndian.PutUint64(g.blk[i+8:], binary.LittleEndian.Uint64(g.pat[i+8:])^uint64(block))
	}
}

// Read implements io.Reader. It deliberately does not implement io.WriterTo:
// both paths consume it through plain Reads.
func (g *genReader) Read(p []byte) (int, error) {
	if g.off >= g.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && g.off < g.size {
		blockSize := int64(len(g.blk))
		if b := g.off / blockSize; b != g.block {
			g.stamp(b)
		}
		in := g.off % blockSize
		end := min(blockSize, in+(g.size-g.off))
		c := copy(p[n:], g.blk[in:end])
		n += c
		g.off += int64(c)
	}
	return n, nil
}

// parseSize reads "1073741824", "512MiB", "1GiB", "1.5G", "100MB".
// KiB/MiB/GiB/TiB and K/M/G/T are powers of 1024; KB/MB/GB/TB powers of 1000.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tib": 1 << 40,
		"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	}[unit]
	if mult == 0 || num == "" {
		return 0, fmt.Errorf("size %q: want a number with an optional unit such as 512MiB or 1GiB", s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("size %q: want a non-negative number with an optional unit such as 512MiB or 1GiB", s)
	}
	return int64(f * mult), nil
}

// formatSize renders n bytes the way the flags take them.
func formatSize(n int64) string {
	for _, u := range []struct {
		name string
		v    int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.v {
			if n%u.v == 0 {
				return fmt.Sprintf("%d%s", n/u.v, u.name)
			}
			return fmt.Sprintf("%.2f%s", float64(n)/float64(u.v), u.name)
		}
	}
	return fmt.Sprintf("%dB", n)
}

// sizeFlag is a flag.Value for byte sizes with units.
type sizeFlag struct{ n *int64 }

func (f sizeFlag) String() string {
	if f.n == nil {
		return ""
	}
	return formatSize(*f.n)
}

func (f sizeFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*f.n = n
	return nil
}
