package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// ReportFormat is the version of the JSON report's layout.
const ReportFormat = 1

// Report is a run as printed and as written by --json.
type Report struct {
	Format    int       `json:"format"`
	Commit    string    `json:"commit"`
	Go        string    `json:"go"`
	Time      time.Time `json:"time"`
	Host      Host      `json:"host"`
	Settings  Settings  `json:"settings"`
	Seeding   *Seeding  `json:"seeding,omitempty"`
	Memory    *Memory   `json:"memory,omitempty"`
	DataDir   *DataDir  `json:"data_dir,omitempty"`
	Scenarios []Result  `json:"scenarios"`
}

// Host describes the machine of the run.
type Host struct {
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
}

// ThisHost describes the machine this process runs on.
func ThisHost() Host {
	return Host{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
}

// Settings are the parameters of the run.
type Settings struct {
	Target     string            `json:"target"` // "in-process" or the URL of a running server
	Store      string            `json:"store"`
	Sizes      Sizes             `json:"sizes"`
	Clients    int               `json:"clients"`
	DurationS  float64           `json:"duration_s"`
	WarmupS    float64           `json:"warmup_s"`
	HTTP2      bool              `json:"http2"`
	Seed       uint64            `json:"seed"`
	Server     map[string]string `json:"server,omitempty"` // server settings that bear on speed
	Scenarios  []string          `json:"scenarios,omitempty"`
	Profiled   bool              `json:"profiled,omitempty"` // profiling was on, which costs a little
	ServerNote string            `json:"server_note,omitempty"`
}

// Seeding is how long seeding took.
type Seeding struct {
	Seconds        float64 `json:"seconds"`
	UsersSeconds   float64 `json:"users_seconds"`
	RecordsSeconds float64 `json:"records_seconds"`
	Rows           int     `json:"rows"`
}

// DataDir is the size of the data directory.
type DataDir struct {
	AfterSeedBytes int64 `json:"after_seed_bytes"`
	AfterRunBytes  int64 `json:"after_run_bytes"`
}

// NewSeeding fills in a Seeding from the stats.
func NewSeeding(st *SeedStats, rows int) *Seeding {
	return &Seeding{Seconds: (st.Users + st.Records).Seconds(), UsersSeconds: st.Users.Seconds(),
		RecordsSeconds: st.Records.Seconds(), Rows: rows}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func msec(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0fms", v)
	}
	return fmt.Sprintf("%.1fms", v)
}

// goalText renders a goal and whether the result met it.
func goalText(r Result) string {
	var parts []string
	if r.Goal.MinRPS > 0 {
		parts = append(parts, fmt.Sprintf("≥%.0f/s", r.Goal.MinRPS))
	}
	if r.Goal.MaxP99Ms > 0 {
		parts = append(parts, fmt.Sprintf("p99≤%.0fms", r.Goal.MaxP99Ms))
	}
	if len(parts) == 0 {
		if r.Errors > 0 {
			return "MISS (errors)"
		}
		return "-"
	}
	verdict := "ok"
	switch {
	case r.Errors > 0:
		verdict = "MISS (errors)"
	case r.Goal.MinRPS > 0 && r.RPS < r.Goal.MinRPS && r.Goal.MaxP99Ms > 0 && r.P99 > r.Goal.MaxP99Ms:
		verdict = "MISS (req/s, p99)"
	case r.Goal.MinRPS > 0 && r.RPS < r.Goal.MinRPS:
		verdict = "MISS (req/s)"
	case r.Goal.MaxP99Ms > 0 && r.P99 > r.Goal.MaxP99Ms:
		verdict = "MISS (p99)"
	}
	return strings.Join(parts, " ") + " " + verdict
}

// WriteTable prints the report for people.
func (r *Report) WriteTable(w io.Writer) {
	s := r.Settings
	fmt.Fprintf(w, "\nCustos bench, commit %s, %s, %d CPUs (GOMAXPROCS %d)\n", short(r.Commit), r.Go, r.Host.CPUs, r.Host.GOMAXPROCS)
	fmt.Fprintf(w, "target %s, store %s; %d contacts, %d companies, %d deals, %d activities over %d owners\n",
		s.Target, s.Store, s.Sizes.Contacts, s.Sizes.Companies, s.Sizes.Deals, s.Sizes.Activities, s.Sizes.Owners)
	fmt.Fprintf(w, "%d clients, %s per scenario after %s of warm-up\n\n", s.Clients,
		time.Duration(s.DurationS*float64(time.Second)), time.Duration(s.WarmupS*float64(time.Second)))
	const row = "%-22s %8s %8s %8s %8s %8s %7s %8s %8s  %s\n"
	fmt.Fprintf(w, row, "scenario", "req/s", "p50", "p90", "p99", "max", "errors", "CPU/req", "RSS", "target (issue 3)")
	for _, x := range r.Scenarios {
		if x.Skipped != "" {
			fmt.Fprintf(w, row, x.Title, "-", "-", "-", "-", "-", "-", "-", "-", "skipped: "+x.Skipped)
			continue
		}
		cpu, rss := "-", "-"
		if x.CPUPerReqUS > 0 {
			cpu = fmt.Sprintf("%.0fµs", x.CPUPerReqUS)
		}
		if x.PeakRSS > 0 {
			rss = fmt.Sprintf("%.0fM", float64(x.PeakRSS)/(1<<20))
		}
		fmt.Fprintf(w, row, x.Title, fmt.Sprintf("%.0f", x.RPS), msec(x.P50), msec(x.P90), msec(x.P99), msec(x.Max),
			fmt.Sprint(x.Errors), cpu, rss, goalText(x))
	}
	fmt.Fprintln(w)
	if m := r.Memory; m != nil {
		fmt.Fprintf(w, "server peak RSS %s (%s; target ≤ 300 MiB)", mib(m.PeakRSS), m.Source)
		if m.PeakGoRuntime > 0 {
			fmt.Fprintf(w, "; Go heap peak %s, Go runtime peak %s; client and server share the process", mib(m.PeakGoHeap), mib(m.PeakGoRuntime))
		}
		fmt.Fprintln(w)
	}
	if d := r.DataDir; d != nil {
		fmt.Fprintf(w, "data directory %s after seeding, %s after the run\n", mib(d.AfterSeedBytes), mib(d.AfterRunBytes))
	}
	if sd := r.Seeding; sd != nil {
		fmt.Fprintf(w, "seeding %.1fs: users and tokens %.1fs (service, argon2id), %d records %.1fs (store, %.0f rows/s)\n",
			sd.Seconds, sd.UsersSeconds, sd.Rows, sd.RecordsSeconds, float64(sd.Rows)/max(sd.RecordsSeconds, 1e-9))
	}
	for _, x := range r.Scenarios {
		for _, e := range x.ErrorSamples {
			fmt.Fprintf(w, "error in %s: %s\n", x.Name, e)
		}
	}
}

func short(commit string) string {
	if len(commit) > 12 && !strings.Contains(commit[:12], " ") {
		return commit[:12] + commit[strings.IndexByte(commit+" ", ' '):]
	}
	return commit
}

// WriteJSON writes the report to path.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// LoadReport reads a report written by WriteJSON.
func LoadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("bench: %s: %w", path, err)
	}
	if r.Format != ReportFormat {
		return nil, fmt.Errorf("bench: %s has report format %d, this binary writes %d", path, r.Format, ReportFormat)
	}
	return &r, nil
}

// Compare prints, per scenario both reports have, the new/old ratio of
// throughput, of p99 latency and of CPU time per request: above 1 is more
// throughput, a slower p99, or more CPU per request. On a shared machine
// the CPU ratio is the steadier one.
func Compare(w io.Writer, old, cur *Report) {
	fmt.Fprintf(w, "\ncompared with commit %s of %s:\n", short(old.Commit), old.Time.Format(time.DateTime))
	if old.Settings.Sizes != cur.Settings.Sizes || old.Settings.Clients != cur.Settings.Clients || old.Host.CPUs != cur.Host.CPUs {
		fmt.Fprintln(w, "(note: the data set, clients or CPUs differ between the runs)")
	}
	const row = "%-22s %9s %9s %7s %9s %9s %7s %9s %9s %7s\n"
	fmt.Fprintf(w, row, "scenario", "req/s old", "req/s new", "ratio", "p99 old", "p99 new", "ratio", "CPU/r old", "CPU/r new", "ratio")
	us := func(v float64) string {
		if v == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0fµs", v)
	}
	for _, x := range cur.Scenarios {
		for _, o := range old.Scenarios {
			if o.Name != x.Name || o.Skipped != "" || x.Skipped != "" {
				continue
			}
			fmt.Fprintf(w, row, x.Title, fmt.Sprintf("%.0f", o.RPS), fmt.Sprintf("%.0f", x.RPS), ratio(x.RPS, o.RPS),
				msec(o.P99), msec(x.P99), ratio(x.P99, o.P99), us(o.CPUPerReqUS), us(x.CPUPerReqUS), ratio(x.CPUPerReqUS, o.CPUPerReqUS))
		}
	}
	if old.Memory != nil && cur.Memory != nil {
		fmt.Fprintf(w, "peak RSS %s → %s (%s)\n", mib(old.Memory.PeakRSS), mib(cur.Memory.PeakRSS), ratio(float64(cur.Memory.PeakRSS), float64(old.Memory.PeakRSS)))
	}
}

func ratio(cur, old float64) string {
	if old == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", cur/old)
}
