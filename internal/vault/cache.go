package vault

import (
	"container/list"
	"sync"
	"time"
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
//
// A key is kept at most KeyTTL from when it was read from the store,
// however often it is used: a client erased, or its key rotated, on
// another instance (which forgets the key only in its own cache) leaves
// this one's memory within that time.
type Cache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *cached, most recent first
	byID  map[uint64]*list.Element
	raw   rawKeys
	// gen counts Forget calls: a key read from the store or the raw tier
	// before a Forget and cached after it would bring a forgotten key back.
	gen uint64
	ttl time.Duration
	now func() time.Time
}

// KeyTTL is how long a key stays cached after it was read from the store.
const KeyTTL = 10 * time.Minute

type cached struct {
	key  *DataKey
	raw  []byte
	born int64 // when the key was read from the store (Unix nanoseconds)
}

// NewCache returns a cache of at most size ready keys (at least 1) and
// at most rawSize keys as bytes (at least size), each kept up to KeyTTL.
func NewCache(size, rawSize int) *Cache {
	size = max(1, size)
	return &Cache{max: size, order: list.New(), byID: map[uint64]*list.Element{}, raw: newRawKeys(max(size, rawSize)),
		ttl: KeyTTL, now: time.Now}
}

// SetClock sets the cache's clock and the time it keeps a key (tests).
func (c *Cache) SetClock(now func() time.Time, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now, c.ttl = now, ttl
}

// Gen returns the count of Forget calls so far, to pass to PutSince by a
// caller about to read a key from the store.
func (c *Cache) Gen() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// Get returns the key id, or nil (also when it has been kept KeyTTL).
func (c *Cache) Get(id uint64) *DataKey {
	c.mu.Lock()
	now := c.now().UnixNano()
	if e, ok := c.byID[id]; ok {
		if v := e.Value.(*cached); now-v.born <= int64(c.ttl) {
			c.order.MoveToFront(e)
			c.mu.Unlock()
			return v.key
		}
		c.evict(e)
	}
	raw, born := c.raw.get(id, now-int64(c.ttl))
	gen := c.gen
	c.mu.Unlock()
	if raw == nil {
		return nil
	}
	return c.promote(id, raw, born, gen)
}

// promote makes the key id ready from raw, a copy of its bytes taken
// from the raw tier (read from the store at born) when Forget had been
// called gen times, and caches it unless Forget was called since: a key
// forgotten meanwhile (erased, rotated) is used once by the read that
// found it, and not kept.
func (c *Cache) promote(id uint64, raw []byte, born int64, gen uint64) *DataKey {
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
	return c.ready(id, k, raw, born)
}

// Put adds the key of id made from raw (which the cache now owns, and
// zeroes on eviction) and returns it: a key this instance just made.
func (c *Cache) Put(id uint64, raw []byte) (*DataKey, error) {
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	return c.PutSince(id, raw, gen)
}

// PutSince is Put for a key read from the store after Gen returned gen:
// when Forget has been called since, the key is returned to its one read
// and not cached (it may be an erased client's, read just before the
// erasure committed).
func (c *Cache) PutSince(id uint64, raw []byte, gen uint64) (*DataKey, error) {
	k, err := NewDataKey(id, raw)
	if err != nil {
		clear(raw)
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		clear(raw)
		return k, nil
	}
	now := c.now().UnixNano()
	c.raw.put(id, raw, now)
	return c.ready(id, k, raw, now), nil
}

// ready adds k (made from raw, which it owns, read from the store at
// born) to the hot tier, unless the key is there already; c.mu is held.
func (c *Cache) ready(id uint64, k *DataKey, raw []byte, born int64) *DataKey {
	if e, ok := c.byID[id]; ok {
		clear(raw)
		c.order.MoveToFront(e)
		return e.Value.(*cached).key
	}
	c.byID[id] = c.order.PushFront(&cached{key: k, raw: raw, born: born})
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

// Sweep drops every key kept longer than KeyTTL from both tiers (Get
// refuses them anyway; this takes from memory those nobody asks for
// again, such as a client's erased on another instance). The server calls
// it every minute.
func (c *Cache) Sweep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	oldest := c.now().UnixNano() - int64(c.ttl)
	for e := c.order.Back(); e != nil; {
		prev := e.Prev()
		if e.Value.(*cached).born < oldest {
			c.evict(e)
		}
		e = prev
	}
	for s, id := range c.raw.ids {
		if id != 0 && c.raw.born[s] < oldest {
			c.raw.forget(id)
		}
	}
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
	born   []int64  // when each slot's key was read from the store
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

// get returns a copy of the key's bytes and when it was read from the
// store, or nil when it is not held or was read before oldest (it is
// then dropped).
func (r *rawKeys) get(id uint64, oldest int64) ([]byte, int64) {
	s, ok := r.slot[id]
	if !ok {
		return nil, 0
	}
	if r.born[s] < oldest {
		r.forget(id)
		return nil, 0
	}
	r.used[s] = true
	return append(make([]byte, 0, KeySize), r.bytes(s)...), r.born[s]
}

// put keeps a copy of raw as the key id, read from the store at born.
func (r *rawKeys) put(id uint64, raw []byte, born int64) {
	if s, ok := r.slot[id]; ok {
		r.used[s], r.born[s] = true, born
		return
	}
	s := r.take()
	copy(r.bytes(s), raw)
	r.ids[s], r.used[s], r.born[s] = id, true, born
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
		r.born = append(r.born, 0)
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
