package registry

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

func TestPipelinedReaderDeliversBytesAndErrorsInOrder(t *testing.T) {
	data := make([]byte, 3*pipelineChunk+12345)
	for i := range data {
		data[i] = byte(rand.IntN(256))
	}
	// Small, uneven reads on both sides.
	p := newPipelinedReader(iotest.HalfReader(bytes.NewReader(data)))
	got, err := io.ReadAll(iotest.OneByteReader(io.LimitReader(p, int64(len(data)))))
	p.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d of %d bytes, err %v", len(got), len(data), err)
	}
	boom := errors.New("boom")
	p = newPipelinedReader(io.MultiReader(bytes.NewReader(data[:1000]), iotest.ErrReader(boom)))
	got, err = io.ReadAll(p)
	p.Close()
	if !errors.Is(err, boom) || !bytes.Equal(got, data[:1000]) {
		t.Fatalf("got %d bytes and %v, want 1000 bytes then boom", len(got), err)
	}
	// Closing early stops the producer without reading everything.
	src := &countingSrc{r: bytes.NewReader(make([]byte, 100*pipelineChunk))}
	p = newPipelinedReader(src)
	_, _ = p.Read(make([]byte, 10))
	p.Close()
	if src.n > int64((pipelineDepth+2)*pipelineChunk) {
		t.Fatalf("read %d bytes after an early close", src.n)
	}
}

type countingSrc struct {
	r io.Reader
	n int64
}

func (c *countingSrc) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
