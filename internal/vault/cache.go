package vault

import (
	"container/list"
	"sync"
)

// Cache keeps unwrapped data keys in memory in two bounded tiers:
//
//   - hot: at most a fixed number of keys ready to use (their AES-GCM
//     state built, some 800 bytes each), the least recently used evicted
//     first;
//   - raw: a larger number of keys as their 32 bytes only, in fixed
//     arenas, evicted by the clock algorithm. A key evicted from the hot
//     tier stays here, and a key found here is made ready again in a few
//     microseconds, where reading and unwrapping it from the store takes
//     a read of the store (and, with Vault, a call to it).
//
// At 100,000 clients the raw tier holds every key in some 6 MB, where
// the hot tier would need 80 MB. An evicted or forgotten key's bytes are
// zeroed in both tiers (where Go allows: the AES key schedule inside
// crypto/aes is the runtime's, and is freed rather than wiped).
type Cache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *cached, most recent first
	byID  map[uint64]*list.Element
	raw   rawKeys
	gen   uint64 // counts Forget calls, so that a key made ready outside the lock is not cached after its Forget
}

type cached struct {
	key *DataKey
	raw []byte
}

// NewCache returns a cache of at most size ready keys (at least 1) and
// at most rawSize keys as bytes (at least size).
func NewCache(size, rawSize int) *Cache {
	size = max(1, size)
	return &Cache{max: size, order: list.New(), byID: map[uint64]*list.Element{}, raw: newRawKeys(max(size, rawSize))}
}

// Get returns the key id, or nil.
func (c *Cache) Get(id uint64) *DataKey {
	c.mu.Lock()
	if e, ok := c.byID[id]; ok {
		c.order.MoveToFront(e)
		c.mu.Unlock()
		return e.Value.(*cached).key
	}
	raw := c.raw.get(id)
	gen := c.gen
	c.mu.Unlock()
	if raw == nil {
		return nil
	}
	return c.promote(id, raw, gen)
}

// promote makes the key id ready from raw, a copy of its bytes taken
// from the raw tier when Forget had been called gen times, and caches it
// unless Forget was called since: a key forgotten meanwhile (erased,
// rotated) is used once by the read that found it, and not kept.
func (c *Cache) promote(id uint64, raw []byte, gen uint64) *DataKey {
	k, err := NewDataKey(id, raw)
	if err != nil { // cannot happen: only keys of KeySize bytes are kept
		clear(raw)
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		clear(raw)
		return k
	}
	return c.ready(id, k, raw)
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
	c.raw.put(id, raw)
	return c.ready(id, k, raw), nil
}

// ready adds k (made from raw, which it owns) to the hot tier, unless
// the key is there already; c.mu is held.
func (c *Cache) ready(id uint64, k *DataKey, raw []byte) *DataKey {
	if e, ok := c.byID[id]; ok {
		clear(raw)
		c.order.MoveToFront(e)
		return e.Value.(*cached).key
	}
	c.byID[id] = c.order.PushFront(&cached{key: k, raw: raw})
	for c.order.Len() > c.max {
		c.evict(c.order.Back())
	}
	return k
}

// Forget drops the key id (an erased client's, a rotated one's) from
// both tiers.
func (c *Cache) Forget(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if e, ok := c.byID[id]; ok {
		c.evict(e)
	}
	c.raw.forget(id)
}

// Len is the number of keys ready to use.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// RawLen is the number of keys held as bytes.
func (c *Cache) RawLen() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.raw.slot)
}

func (c *Cache) evict(e *list.Element) {
	v := c.order.Remove(e).(*cached)
	delete(c.byID, v.key.ID)
	clear(v.raw)
}

// arenaKeys is how many keys one arena of the raw tier holds (128 KiB).
// Arenas are allocated whole and never grown, so that no copy of a key
// is left behind in memory a slice's growth gave back.
const arenaKeys = 4096

// rawKeys is the raw tier: keys as bytes in slots of fixed arenas, a
// map from key id to slot, and a clock hand over the slots for eviction.
type rawKeys struct {
	max    int
	slot   map[uint64]int32
	ids    []uint64 // the key id in each slot; 0: free
	used   []bool   // the clock's reference bit of each slot
	arenas [][]byte
	free   []int32 // slots freed by forget
	hand   int
}

func newRawKeys(n int) rawKeys { return rawKeys{max: n, slot: map[uint64]int32{}} }

func (r *rawKeys) bytes(s int32) []byte {
	a := r.arenas[int(s)/arenaKeys]
	off := int(s) % arenaKeys * KeySize
	return a[off : off+KeySize : off+KeySize]
}

// get returns a copy of the key's bytes, or nil.
func (r *rawKeys) get(id uint64) []byte {
	s, ok := r.slot[id]
	if !ok {
		return nil
	}
	r.used[s] = true
	return append(make([]byte, 0, KeySize), r.bytes(s)...)
}

// put keeps a copy of raw as the key id.
func (r *rawKeys) put(id uint64, raw []byte) {
	if s, ok := r.slot[id]; ok {
		r.used[s] = true
		return
	}
	s := r.take()
	copy(r.bytes(s), raw)
	r.ids[s], r.used[s] = id, true
	r.slot[id] = s
}

// take returns a free slot: one forgotten, a new one while under max,
// else the first the clock hand finds unused since it last passed.
func (r *rawKeys) take() int32 {
	if n := len(r.free); n > 0 {
		s := r.free[n-1]
		r.free = r.free[:n-1]
		return s
	}
	if len(r.ids) < r.max {
		s := int32(len(r.ids))
		if int(s)%arenaKeys == 0 {
			r.arenas = append(r.arenas, make([]byte, arenaKeys*KeySize))
		}
		r.ids = append(r.ids, 0)
		r.used = append(r.used, false)
		return s
	}
	for {
		s := int32(r.hand)
		r.hand = (r.hand + 1) % len(r.ids)
		if r.ids[s] == 0 { // freed and taken back already
			continue
		}
		if r.used[s] {
			r.used[s] = false
			continue
		}
		delete(r.slot, r.ids[s])
		clear(r.bytes(s))
		r.ids[s] = 0
		return s
	}
}

// forget zeroes and frees the key id's slot.
func (r *rawKeys) forget(id uint64) {
	s, ok := r.slot[id]
	if !ok {
		return
	}
	delete(r.slot, id)
	clear(r.bytes(s))
	r.ids[s], r.used[s] = 0, false
	r.free = append(r.free, s)
}
