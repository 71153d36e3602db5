package registry

import (
	"io"
	"sync"
)

// Uploads are read ahead: one goroutine reads the request body and hashes
// it while the blob store writes the previous chunk. Done serially, socket
// reads, SHA-256 and disk writes add up (measured: 0.7 of the raw store's
// upload speed on the filesystem); overlapped, they do not. Memory stays
// bounded: pipelineDepth chunks of pipelineChunk bytes per upload.
const (
	pipelineChunk = 512 << 10
	pipelineDepth = 4
)

var chunkPool = sync.Pool{New: func() any { b := make([]byte, pipelineChunk); return &b }}

type chunk struct {
	buf *[]byte
	n   int
	err error
}

// pipelinedReader reads src ahead in a goroutine. Close must be called
// before the caller returns: it stops the goroutine and waits for it, so
// that src (a request body) is never read after the handler is done.
type pipelinedReader struct {
	filled  chan chunk
	free    chan *[]byte
	done    chan struct{}
	wg      sync.WaitGroup
	cur     chunk
	off     int
	pending error
	once    sync.Once
}

func newPipelinedReader(src io.Reader) *pipelinedReader {
	p := &pipelinedReader{
		filled: make(chan chunk, pipelineDepth),
		free:   make(chan *[]byte, pipelineDepth),
		done:   make(chan struct{}),
	}
	for range pipelineDepth {
		p.free <- chunkPool.Get().(*[]byte)
	}
	p.wg.Add(1)
	go p.produce(src)
	return p
}

func (p *pipelinedReader) produce(src io.Reader) {
	defer p.wg.Done()
	for {
		var buf *[]byte
		select {
		case buf = <-p.free:
		case <-p.done:
			return
		}
		n, err := fill(src, *buf)
		select {
		case p.filled <- chunk{buf: buf, n: n, err: err}:
		case <-p.done:
			chunkPool.Put(buf)
			return
		}
		if err != nil {
			return
		}
	}
}

// fill reads until buf is full or src fails (io.EOF included).
func fill(src io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := src.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (p *pipelinedReader) Read(b []byte) (int, error) {
	for p.cur.buf == nil || p.off == p.cur.n {
		if p.cur.buf != nil {
			p.free <- p.cur.buf // never blocks: at most pipelineDepth buffers exist
			p.cur = chunk{}
		}
		if p.pending != nil {
			return 0, p.pending
		}
		c, ok := <-p.filled
		if !ok {
			return 0, io.ErrClosedPipe
		}
		p.cur, p.off, p.pending = c, 0, c.err
	}
	n := copy(b, (*p.cur.buf)[p.off:p.cur.n])
	p.off += n
	return n, nil
}

// Close stops the read-ahead and waits for it to finish.
func (p *pipelinedReader) Close() error {
	p.once.Do(func() {
		close(p.done)
		p.wg.Wait()
		if p.cur.buf != nil {
			chunkPool.Put(p.cur.buf)
		}
		for {
			select {
			case c := <-p.filled:
				chunkPool.Put(c.buf)
			case b := <-p.free:
				chunkPool.Put(b)
			default:
				return
			}
		}
	})
	return nil
}
