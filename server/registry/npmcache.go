package registry

import (
	"bytes"
	"sync"
)

// The abbreviated packument is what npm install asks for, for every
// package of a tree, on every install. For a name with many versions,
// reading and rendering its rows costs more than the rest of the request,
// so the versions of such names are kept in memory with their rendered
// JSON, and every read checks them against one aggregate query over the
// name's files (count, newest id, last change). Every change of what the
// document shows (a publish, an unpublish, a deprecate, a delete through
// the packages API, on this instance or another) moves that stamp, so a
// stale copy is never served. Tags are read fresh on every request. A
// REMOTE project's parsed upstream document is kept the same way, stamped
// with the cached document's fetch time.

const (
	// npmCacheMinVersions: smaller names are cheap to read every time.
	npmCacheMinVersions = 100
	// npmCacheMaxVersions bounds the memory: versions over all entries.
	npmCacheMaxVersions = 200_000
)

// npmCacheKey is a project and a name (REMOTE: the document's key).
type npmCacheKey struct {
	project int
	name    string
}

type npmCacheEntry struct {
	stamp    string
	versions map[string]*npmVersion
	// tags are a REMOTE document's (stored tags are read fresh).
	tags map[string]string

	mu       sync.Mutex
	rendered map[string][]byte // tarball base URL → the "versions" object
}

type npmCache struct {
	mu       sync.Mutex
	entries  map[npmCacheKey]*npmCacheEntry
	versions int
}

func newNPMCache() *npmCache { return &npmCache{entries: map[npmCacheKey]*npmCacheEntry{}} }

func (s *Service) npmCache() *npmCache { return s.npmDocs }

func (c *npmCache) get(k npmCacheKey, stamp string) *npmCacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[k]; e != nil && e.stamp == stamp {
		return e
	}
	return nil
}

func (c *npmCache) put(k npmCacheKey, e *npmCacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[k]; old != nil {
		c.versions -= len(old.versions)
	}
	if c.versions+len(e.versions) > npmCacheMaxVersions {
		// Full: start over rather than track recency; the cache only
		// saves work, and refills from the next reads.
		c.entries, c.versions = map[npmCacheKey]*npmCacheEntry{}, 0
	}
	c.entries[k] = e
	c.versions += len(e.versions)
}

// renderedVersions returns the "versions" object for a tarball base URL,
// rendered once per entry and base.
func (e *npmCacheEntry) renderedVersions(base string, render func() []byte) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	if b, ok := e.rendered[base]; ok {
		return b
	}
	b := render()
	if e.rendered == nil || len(e.rendered) >= 4 {
		e.rendered = map[string][]byte{}
	}
	e.rendered[base] = bytes.Clone(b)
	return b
}
