package registry

import (
	"fmt"
	"testing"
)

// The metadata cache stays within its byte budget, evicts the least
// recently used entries first, and refuses entries too large to share it.
func TestMetaCacheBoundedByBytes(t *testing.T) {
	c := newMetaCache(80 << 10)
	for i := range 100 {
		c.Put(fmt.Sprint(i), i, 4<<10)
		if used, _ := c.usage(); used > 80<<10 {
			t.Fatalf("after %d puts: %d bytes charged, budget %d", i+1, used, 80<<10)
		}
		if i == 90 {
			c.Get("80") // recently used: survives the next evictions
		}
	}
	if _, ok := c.Get("80"); !ok {
		t.Fatal("a recently used entry was evicted before older ones")
	}
	if _, ok := c.Get("81"); ok {
		t.Fatal("an old entry outlived the budget")
	}
	if v, ok := c.Get("99"); !ok || v.(int) != 99 {
		t.Fatalf("newest entry: %v %v", v, ok)
	}
	if c.Put("big", "x", 20<<10) {
		t.Fatal("an entry over an eighth of the budget was kept")
	}
	c.Put("99", 99, 8<<10) // replaced, charged once
	_, n := c.usage()
	used, _ := c.usage()
	var sum int64
	for el := c.order.Front(); el != nil; el = el.Next() {
		sum += el.Value.(*metaEntry).size
	}
	if sum != used || n != c.order.Len() {
		t.Fatalf("accounting: %d charged, %d summed, %d entries / %d listed", used, sum, n, c.order.Len())
	}
}
