package vault

import (
	"bytes"
	"testing"
	"time"
)

func rawKey(b byte) []byte {
	k := make([]byte, KeySize)
	for i := range k {
		k[i] = b
	}
	return k
}

// TestRawTierZeroes: a key evicted by the clock or forgotten leaves no
// byte behind in its arena, and a freed slot is used again.
func TestRawTierZeroes(t *testing.T) {
	c := NewCache(1, 2)
	for id := range uint64(3) {
		if _, err := c.Put(id+1, rawKey(byte(0xa0+id))); err != nil {
			t.Fatal(err)
		}
	}
	arena := c.raw.arenas[0]
	if len(c.raw.arenas) != 1 || bytes.Contains(arena, rawKey(0xa0)) {
		t.Fatalf("key 1, evicted by the clock, is still in the arena (%d arenas)", len(c.raw.arenas))
	}
	if !bytes.Contains(arena, rawKey(0xa1)) || !bytes.Contains(arena, rawKey(0xa2)) {
		t.Fatal("keys 2 and 3 are not in the arena")
	}
	c.Forget(2)
	if bytes.Contains(arena, rawKey(0xa1)) {
		t.Error("forgotten key 2 is still in the arena")
	}
	if _, err := c.Put(4, rawKey(0xa3)); err != nil {
		t.Fatal(err)
	}
	if c.Get(3) == nil || c.Get(4) == nil || len(c.raw.ids) != 2 {
		t.Errorf("the freed slot was not used again: %d slots", len(c.raw.ids))
	}
}

// TestPromoteAfterForget: a key copied out of the raw tier before a
// Forget and made ready after it is returned to its one read and not
// cached again, so that an erased client's key does not come back.
func TestPromoteAfterForget(t *testing.T) {
	c := NewCache(4, 4)
	if _, err := c.Put(9, rawKey(9)); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	e := c.byID[9]
	c.evict(e) // out of the hot tier, as if pushed out by others
	raw, born := c.raw.get(9, 0)
	gen := c.gen
	c.mu.Unlock()
	c.Forget(9) // meanwhile: the client is erased
	if k := c.promote(9, raw, born, gen); k == nil {
		t.Fatal("the read that found the key does not get it")
	}
	if c.Get(9) != nil || c.Len() != 0 {
		t.Error("a key forgotten while it was made ready is cached again")
	}
	if !bytes.Equal(raw, make([]byte, KeySize)) {
		t.Error("the copy made ready after its Forget was not zeroed")
	}
}

// TestPutAfterForget: a key read from the store before a Forget (an
// erasure committed meanwhile) and put after it is returned to its one
// read and cached in neither tier.
func TestPutAfterForget(t *testing.T) {
	c := NewCache(4, 4)
	gen := c.Gen() // the read begins
	c.Forget(5)    // the erasure commits and forgets the key
	raw := rawKey(5)
	if k, err := c.PutSince(5, raw, gen); err != nil || k == nil {
		t.Fatalf("the read does not get its key: %v", err)
	}
	if c.Get(5) != nil || c.Len() != 0 || c.RawLen() != 0 || !bytes.Equal(raw, make([]byte, KeySize)) {
		t.Error("a key read before its Forget is cached after it, or its bytes not zeroed")
	}
	if _, err := c.PutSince(6, rawKey(6), c.Gen()); err != nil || c.Get(6) == nil {
		t.Errorf("a key read after the Forget is not cached: %v", err)
	}
}

// TestKeyLifetime: a key is kept KeyTTL from when it was read from the
// store, used or not, in both tiers; Sweep takes those past it out of
// memory, their bytes zeroed, without anyone asking for them.
func TestKeyLifetime(t *testing.T) {
	now := time.Unix(1000, 0)
	c := NewCache(1, 4)
	c.SetClock(func() time.Time { return now }, time.Minute)
	for id := range uint64(3) {
		if _, err := c.Put(id+1, rawKey(byte(0xb0+id))); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(50 * time.Second)
	if c.Get(1) == nil || c.Get(3) == nil { // 1 from the raw tier, 3 hot; using them does not extend them
		t.Fatal("keys within their lifetime are not found")
	}
	if _, err := c.Put(4, rawKey(0xb3)); err != nil { // read 50 s after the others
		t.Fatal(err)
	}
	now = now.Add(20 * time.Second) // the first three are 70 s old, key 4 20 s
	if c.Get(1) != nil || c.Get(3) != nil {
		t.Error("a key past its lifetime is still served")
	}
	c.Sweep()
	if c.RawLen() != 1 || c.Get(4) == nil {
		t.Errorf("after the sweep the raw tier holds %d keys, want key 4 alone", c.RawLen())
	}
	arena := c.raw.arenas[0]
	for _, b := range []byte{0xb0, 0xb1, 0xb2} {
		if bytes.Contains(arena, rawKey(b)) {
			t.Errorf("swept key %#x is still in the arena", b)
		}
	}
	now = now.Add(time.Minute)
	c.Sweep()
	if c.Len() != 0 || c.RawLen() != 0 || bytes.Contains(arena, rawKey(0xb3)) {
		t.Errorf("after the last sweep %d ready, %d raw", c.Len(), c.RawLen())
	}
}
