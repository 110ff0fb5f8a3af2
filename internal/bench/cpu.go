package bench

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// ProcessCPU returns a function that reads the CPU time (user and system)
// process pid has used, or nil where /proc is not available. On a shared,
// noisy machine the CPU time per request is a steadier measure of a change
// than the request rate: other processes take CPUs away, not cycles per
// request.
func ProcessCPU(pid int) func() time.Duration {
	path := "/proc/self/stat"
	if pid != 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	read := func() (time.Duration, bool) {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, false
		}
		// The command name, in parentheses, may contain spaces: fields
		// are counted from after its closing parenthesis. utime and stime
		// are fields 14 and 15, in clock ticks of (on Linux, always) 1/100 s.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			return 0, false
		}
		u, err1 := strconv.ParseInt(f[11], 10, 64)
		k, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		return time.Duration(u+k) * 10 * time.Millisecond, true
	}
	if _, ok := read(); !ok {
		return nil
	}
	return func() time.Duration { d, _ := read(); return d }
}
