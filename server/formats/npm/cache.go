package npm

import (
	"strconv"

	"github.com/pkgreg/registry/server/registry"
)

// The abbreviated packument is what npm install asks for, for every
// package of a tree, on every install. For a name with many versions,
// reading and rendering its rows costs more than the rest of the request,
// so the versions of such names are kept in the core's metadata cache
// (registry.MetaCache, bounded in bytes) with their rendered JSON, and
// every read checks them against one aggregate query over the name's
// files (count, newest id, last change). Every change of what the document shows (a publish, an
// unpublish, a deprecate, a delete through the packages API, on this
// instance or another) moves that stamp, so a stale copy is never served.
// Tags are read fresh on every request. A REMOTE project's upstream
// packument is kept the same way as an index (remote.go), keyed by the
// document's SHA-256, so projects with the same upstream share it.

// cacheMinVersions: smaller stored names are cheap to read every time.
const cacheMinVersions = 100

type cacheEntry struct {
	// id names the content: the rendered forms are cached under it.
	id       string
	stamp    string
	versions map[string]*pkgVersion
	// tags are a REMOTE document's (stored tags are read fresh).
	tags map[string]string
	size int64

	cache *registry.MetaCache
}

// versionsSize is what an entry's versions cost in memory, roughly.
func versionsSize(versions map[string]*pkgVersion) int64 {
	var n int64
	for k, v := range versions {
		n += int64(2*len(k)+len(v.Manifest)+len(v.Abbreviated)+len(v.Shasum)+len(v.Integrity)+len(v.Upstream)) + 200
	}
	return n
}

func storedCacheKey(projectID int, name string) string {
	return "npm-stored\x00" + strconv.Itoa(projectID) + "\x00" + name
}

// storedEntry returns the cached versions of a stored name, if they
// were read under stamp.
func (f *Format) storedEntry(projectID int, name, stamp string) *cacheEntry {
	if v, ok := f.core.Meta().Get(storedCacheKey(projectID, name)); ok {
		if e := v.(*cacheEntry); e.stamp == stamp {
			return e
		}
	}
	return nil
}

func (f *Format) putStoredEntry(projectID int, name, stamp string, versions map[string]*pkgVersion) *cacheEntry {
	key := storedCacheKey(projectID, name)
	e := &cacheEntry{id: key + "\x00" + stamp, stamp: stamp, versions: versions, size: versionsSize(versions), cache: f.core.Meta()}
	if !f.core.Meta().Put(key, e, e.size) {
		return nil
	}
	return e
}

// renderedVersions returns the "versions" object for a tarball base URL
// and form, from the metadata cache, rendering it on a miss.
func (e *cacheEntry) renderedVersions(base, form string, render func() ([]byte, error)) ([]byte, error) {
	key := "npm-render\x00" + e.id + "\x00" + form + "\x00" + base
	if v, ok := e.cache.Get(key); ok {
		return v.([]byte), nil
	}
	b, err := render()
	if err != nil {
		return nil, err
	}
	// Shared read-only from here on: callers copy it into their response.
	e.cache.Put(key, b, int64(cap(b)))
	return b, nil
}
