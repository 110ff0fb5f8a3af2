package vault

import (
	"bytes"
	"testing"
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
	raw := c.raw.get(9)
	gen := c.gen
	c.mu.Unlock()
	c.Forget(9) // meanwhile: the client is erased
	if k := c.promote(9, raw, gen); k == nil {
		t.Fatal("the read that found the key does not get it")
	}
	if c.Get(9) != nil || c.Len() != 0 {
		t.Error("a key forgotten while it was made ready is cached again")
	}
	if !bytes.Equal(raw, make([]byte, KeySize)) {
		t.Error("the copy made ready after its Forget was not zeroed")
	}
}
