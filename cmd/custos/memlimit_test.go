package main

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// TestFollowHeapKeepsTheLimitAboveTheLiveHeap: serve's soft memory limit
// is the live heap plus the room argon2id's workers need, so that an
// index that grows with the contacts never sits under it (the collector
// would then run without pause; docs/performance.md).
func TestFollowHeapKeepsTheLimitAboveTheLiveHeap(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	debug.SetMemoryLimit(1 << 20) // far under the live heap
	ballast := make([]byte, 64<<20)
	runtime.GC()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // one reading, then it returns
	const extra = 256 << 20
	followHeap(ctx, extra, time.Hour)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	live := int64(sample[0].Value.Uint64())
	got := debug.SetMemoryLimit(-1)
	if got != extra+live {
		t.Errorf("memory limit %d, want the live heap %d plus %d", got, live, extra)
	}
	if live < 64<<20 {
		t.Errorf("live heap %d, under the 64 MiB the test holds", live)
	}
	runtime.KeepAlive(ballast)
}
