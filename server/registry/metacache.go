package registry

import (
	"container/list"
	"sync"

	"golang.org/x/sync/singleflight"
)

// MetaCache is the one in-memory cache of derived metadata: parsed and
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
type MetaCache struct {
	mu      sync.Mutex
	budget  int64
	used    int64
	order   *list.List // front: most recently used
	entries map[string]*list.Element
	flight  singleflight.Group
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

func newMetaCache(budget int64) *MetaCache {
	if budget < 0 {
		budget = 0
	}
	return &MetaCache{budget: budget, order: list.New(), entries: map[string]*list.Element{}}
}

// Get returns the value under key and marks it recently used.
func (c *MetaCache) Get(key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*metaEntry).value, true
}

// Admits tells whether an entry of size bytes would be kept.
func (c *MetaCache) Admits(size int64) bool {
	return size+metaEntryOverhead <= c.budget/8
}

// Put stores value under key, charged size bytes, and evicts the least
// recently used entries until the cache is within its budget. It reports
// whether the value was kept.
func (c *MetaCache) Put(key string, value any, size int64) bool {
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
func (c *MetaCache) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.removeLocked(el)
	}
}

func (c *MetaCache) removeLocked(el *list.Element) {
	e := el.Value.(*metaEntry)
	c.order.Remove(el)
	delete(c.entries, e.key)
	c.used -= e.size
}

// usage is the bytes charged and the number of entries.
func (c *MetaCache) usage() (int64, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, len(c.entries)
}

// Load returns the value under key, or builds it with fill and keeps it
// (when it fits the budget). Concurrent callers of one missing key share
// one fill, so a large document is parsed once however many ask for it.
func (c *MetaCache) Load(key string, fill func() (value any, size int64, err error)) (any, error) {
	if v, ok := c.Get(key); ok {
		return v, nil
	}
	v, err, _ := c.flight.Do(key, func() (any, error) {
		if v, ok := c.Get(key); ok {
			return v, nil
		}
		v, size, err := fill()
		if err != nil {
			return nil, err
		}
		c.Put(key, v, size)
		return v, nil
	})
	return v, err
}
