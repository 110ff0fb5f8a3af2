package bench

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"
)

// Memory is the peak memory of the server during the measured scenarios.
type Memory struct {
	// PeakRSS is the peak resident set size: the kernel's VmHWM, reset when
	// sampling began, or else the largest VmRSS sampled.
	PeakRSS int64 `json:"peak_rss_bytes"`
	// PeakGoHeap is the largest Go heap sampled (live and not yet swept
	// objects), and PeakGoRuntime the largest total the Go runtime had
	// mapped (heap, stacks, metadata); 0 when the server is not in this
	// process. The rest of the RSS is mostly SQLite's page caches, which
	// modernc.org/sqlite allocates outside the Go heap.
	PeakGoHeap    int64  `json:"peak_go_heap_bytes,omitempty"`
	PeakGoRuntime int64  `json:"peak_go_runtime_bytes,omitempty"`
	Source        string `json:"source"`
}

// MemorySampler follows a process's memory every 100 ms.
type MemorySampler struct {
	dir      string // /proc/self or /proc/<pid>
	self     bool
	hwmReset bool
	stop     chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	m        Memory // since the start
	lap      Memory // since the last Lap
}

// StartMemory starts sampling the memory of process pid (0: this process,
// including the Go runtime's own figures). It first resets the kernel's
// peak RSS where Linux allows it (writing 5 to clear_refs), so the peak
// excludes what came before, such as seeding.
func StartMemory(pid int) *MemorySampler {
	s := &MemorySampler{dir: "/proc/self", self: pid == 0, stop: make(chan struct{}), done: make(chan struct{})}
	if pid != 0 {
		s.dir = "/proc/" + strconv.Itoa(pid)
	}
	s.hwmReset = os.WriteFile(s.dir+"/clear_refs", []byte("5"), 0) == nil
	go func() {
		defer close(s.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

var memMetrics = []string{"/memory/classes/heap/objects:bytes", "/memory/classes/total:bytes"}

func (s *MemorySampler) sample() {
	st := readStatus(s.dir)
	var heap, total int64
	if s.self {
		ms := make([]metrics.Sample, len(memMetrics))
		for i, n := range memMetrics {
			ms[i].Name = n
		}
		metrics.Read(ms)
		heap, total = int64(ms[0].Value.Uint64()), int64(ms[1].Value.Uint64())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range []*Memory{&s.m, &s.lap} {
		m.PeakRSS = max(m.PeakRSS, st["VmRSS"])
		m.PeakGoHeap = max(m.PeakGoHeap, heap)
		m.PeakGoRuntime = max(m.PeakGoRuntime, total)
	}
}

// Lap returns the peaks since the previous Lap (or the start) and starts
// the next lap. The kernel's peak RSS is not per lap: laps use the samples.
func (s *MemorySampler) Lap() Memory {
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.lap
	s.lap = Memory{}
	m.Source = "largest VmRSS sampled every 100 ms"
	return m
}

// Stop ends sampling and returns the peaks.
func (s *MemorySampler) Stop() Memory {
	close(s.stop)
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m.Source = "largest VmRSS sampled every 100 ms"
	if hwm := readStatus(s.dir)["VmHWM"]; s.hwmReset && hwm > 0 {
		s.m.PeakRSS, s.m.Source = hwm, "VmHWM, reset before the run"
	}
	if s.m.PeakRSS == 0 {
		s.m.Source = "unavailable (no /proc)"
	}
	return s.m
}

// readStatus returns the kB fields of /proc/.../status in bytes.
func readStatus(dir string) map[string]int64 {
	out := map[string]int64{}
	b, err := os.ReadFile(dir + "/status")
	if err != nil {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok || !bytes.HasSuffix(rest, []byte(" kB")) {
			continue
		}
		if n, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(rest, []byte(" kB")))), 10, 64); err == nil {
			out[string(name)] = n << 10
		}
	}
	return out
}

// DirSize returns the total size of the regular files under dir.
func DirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			fi, err := e.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	return n, err
}
