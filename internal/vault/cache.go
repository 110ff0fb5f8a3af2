package vault

import (
	"container/list"
	"sync"
)

// Cache keeps unwrapped data keys in memory, at most a fixed number,
// evicting the least recently used. An evicted key's bytes are zeroed
// (where Go allows: the AES key schedule inside crypto/aes is the
// runtime's, and is freed rather than wiped).
type Cache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *cached, most recent first
	byID  map[uint64]*list.Element
}

type cached struct {
	key *DataKey
	raw []byte
}

// NewCache returns a cache of at most size keys (at least 1).
func NewCache(size int) *Cache {
	return &Cache{max: max(1, size), order: list.New(), byID: map[uint64]*list.Element{}}
}

// Get returns the key id, or nil.
func (c *Cache) Get(id uint64) *DataKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[id]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*cached).key
	}
	return nil
}

// Put adds the key of id made from raw (which the cache now owns, and
// zeroes on eviction) and returns it.
func (c *Cache) Put(id uint64, raw []byte) (*DataKey, error) {
	k, err := NewDataKey(id, raw)
	if err != nil {
		clear(raw)
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[id]; ok {
		clear(raw)
		c.order.MoveToFront(e)
		return e.Value.(*cached).key, nil
	}
	c.byID[id] = c.order.PushFront(&cached{key: k, raw: raw})
	for c.order.Len() > c.max {
		c.evict(c.order.Back())
	}
	return k, nil
}

// Forget drops the key id (an erased client's, a rotated one's).
func (c *Cache) Forget(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[id]; ok {
		c.evict(e)
	}
}

// Len is the number of keys held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

func (c *Cache) evict(e *list.Element) {
	v := c.order.Remove(e).(*cached)
	delete(c.byID, v.key.ID)
	clear(v.raw)
}
