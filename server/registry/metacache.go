package registry

import (
	"container/list"
	"sync"
)

// metaCache is the one in-memory cache of derived metadata: parsed and
// rendered npm packuments, PyPI file lists, small upstream document bodies.
// Every entry is charged its approximate size in bytes, and the whole cache
// stays under one budget (--metadata-cache-bytes), evicting the least
// recently used entries first. Entries derived from upstream content are
// keyed by the content's SHA-256, so REMOTE projects with the same
// upstream share one copy. Values are shared between requests: read-only.
//
// An entry larger than an eighth of the budget is not kept at all: one huge
// document must not flush everything else, and it is cheaper to rebuild it
// than to thrash.
type metaCache struct {
	mu      sync.Mutex
	budget  int64
	used    int64
	order   *list.List // front: most recently used
	entries map[string]*list.Element
}

type metaEntry struct {
	key   string
	value any
	size  int64
}

// DefaultMetadataCacheBytes keeps the cache's share of a server's memory
// small: with the Go collector's headroom (about twice the live heap) and
// what requests in flight hold, the process stays under 256 MiB through a
// cold install of a 430-package tree (peak about 225 MiB at 32 MiB, about
// 310 MiB at 64 MiB; tools/npmsoak).
const DefaultMetadataCacheBytes = 32 << 20

// metaEntryOverhead is charged per entry on top of its value's size: the
// list element, the map slot and the key.
const metaEntryOverhead = 128

func newMetaCache(budget int64) *metaCache {
	if budget < 0 {
		budget = 0
	}
	return &metaCache{budget: budget, order: list.New(), entries: map[string]*list.Element{}}
}

// get returns the value under key and marks it recently used.
func (c *metaCache) get(key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*metaEntry).value, true
}

// admits tells whether an entry of size bytes would be kept.
func (c *metaCache) admits(size int64) bool {
	return size+metaEntryOverhead <= c.budget/8
}

// put stores value under key, charged size bytes, and evicts the least
// recently used entries until the cache is within its budget. It reports
// whether the value was kept.
func (c *metaCache) put(key string, value any, size int64) bool {
	size += int64(len(key)) + metaEntryOverhead
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.removeLocked(el)
	}
	if size > c.budget/8 {
		return false
	}
	c.entries[key] = c.order.PushFront(&metaEntry{key: key, value: value, size: size})
	c.used += size
	for c.used > c.budget {
		c.removeLocked(c.order.Back())
	}
	return true
}

// remove drops key.
func (c *metaCache) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.removeLocked(el)
	}
}

func (c *metaCache) removeLocked(el *list.Element) {
	e := el.Value.(*metaEntry)
	c.order.Remove(el)
	delete(c.entries, e.key)
	c.used -= e.size
}

// usage is the bytes charged and the number of entries.
func (c *metaCache) usage() (int64, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, len(c.entries)
}
