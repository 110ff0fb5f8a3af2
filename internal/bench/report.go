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
const ReportFormat = 2

// Report is a run as printed and as written by --json.
type Report struct {
	Format    int       `json:"format"`
	Commit    string    `json:"commit"`
	Go        string    `json:"go"`
	Time      time.Time `json:"time"`
	Host      Host      `json:"host"`
	Settings  Settings  `json:"settings"`
	Shapes    []Shape   `json:"shapes,omitempty"`
	Scenarios []Result  `json:"scenarios"` // of every shape, in the order they ran
}

// Shape is one data set of a run: its name, its sizes and what seeding and
// serving it took.
type Shape struct {
	Name    string   `json:"name"`
	Sizes   Sizes    `json:"sizes"`
	Seeding *Seeding `json:"seeding,omitempty"`
	Callers *Callers `json:"callers,omitempty"`
	Memory  *Memory  `json:"memory,omitempty"`
	DataDir *DataDir `json:"data_dir,omitempty"`
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
	Rounds     int               `json:"rounds"`
	ShapeNames []string          `json:"shapes,omitempty"`
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
	if r.Goal.MinRatio > 0 {
		parts = append(parts, fmt.Sprintf("≥%.1f×", r.Goal.MinRatio))
	}
	if r.Goal.P99 {
		if l := r.P99Limit(); l > 0 {
			parts = append(parts, "p99≤"+msec(l))
		} else {
			parts = append(parts, "p99≤2×+5ms")
		}
	}
	verdict := "ok"
	if m := r.Misses(); len(m) > 0 {
		verdict = "MISS (" + strings.Join(m, ", ") + ")"
	} else if len(parts) == 0 {
		return "-"
	} else if r.Floor == nil {
		verdict = "(no floor)"
	}
	return strings.TrimSpace(strings.Join(parts, " ") + " " + verdict)
}

// figureText renders the figure of issue 11 and the req/s measured as a
// share of it, which the run does not judge: the figure is of one kind of
// machine, quiet, with 100,000 contacts.
func figureText(r Result) string {
	if r.Goal.Figure == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f/s: %.2f×", r.Goal.Figure, r.RPS/r.Goal.Figure)
}

// WriteTable prints the report for people: per shape, each scenario's
// req/s and latency on Custos and on the floor, and their ratio.
func (r *Report) WriteTable(w io.Writer) {
	s := r.Settings
	fmt.Fprintf(w, "\nCustos bench, commit %s, %s, %d CPUs (GOMAXPROCS %d)\n", short(r.Commit), r.Go, r.Host.CPUs, r.Host.GOMAXPROCS)
	fmt.Fprintf(w, "target %s, store %s; %d contacts, %d companies, %d deals, %d activities\n",
		s.Target, s.Store, s.Sizes.Contacts, s.Sizes.Companies, s.Sizes.Deals, s.Sizes.Activities)
	fmt.Fprintf(w, "%d clients, %s per scenario and server after %s of warm-up, %d round(s) alternating floor and Custos\n", s.Clients,
		time.Duration(s.DurationS*float64(time.Second)), time.Duration(s.WarmupS*float64(time.Second)), max(s.Rounds, 1))
	const row = "%-32s %8s %7s %7s %8s %7s %6s %6s %5s  %-28s %s\n"
	shapes := r.Shapes
	if len(shapes) == 0 {
		shapes = []Shape{{}}
	}
	for _, sh := range shapes {
		if sh.Name != "" {
			fmt.Fprintf(w, "\nshape %s: %d owners", sh.Name, sh.Sizes.Owners)
			if z := sh.Sizes; z.Teams > 0 {
				fmt.Fprintf(w, "; %d users in %d teams, %d shares", z.Users, z.Teams, z.Shares)
			}
			fmt.Fprintln(w)
		}
		if c := sh.Callers; c != nil {
			fmt.Fprintf(w, "the clients act as %d rep(s), owning %.0f contacts each on average", c.Reps, c.RepOwnMean)
			if c.RepSharedMean > 0 {
				fmt.Fprintf(w, " and reading %.0f more through shares (at least %d)", c.RepSharedMean, c.RepSharedMin)
			}
			if c.Managers > 0 {
				fmt.Fprintf(w, "; the manager:… rows as the top-level manager, who sees %d of %d contacts through %d teams",
					c.ManagerSees, sh.Sizes.Contacts, c.ManagerTeams)
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, row, "scenario", "req/s", "p50", "p99", "floor/s", "fl p99", "ratio", "errors", "RSS", "target (issue 17)", "figure (issue 11)")
		for _, x := range r.Scenarios {
			if x.Shape != sh.Name {
				continue
			}
			if x.Skipped != "" {
				fmt.Fprintf(w, row, x.Title, "-", "-", "-", "-", "-", "-", "-", "-", "skipped: "+x.Skipped, "")
				continue
			}
			frps, fp99, rat, errs := "-", "-", "-", fmt.Sprint(x.Errors)
			if f := x.Floor; f != nil && f.Skipped == "" {
				frps, fp99, rat = fmt.Sprintf("%.0f", f.RPS), msec(f.P99), fmt.Sprintf("%.2f", x.Ratio)
				errs += "/" + fmt.Sprint(f.Errors)
			}
			rss := "-"
			if x.PeakRSS > 0 {
				rss = fmt.Sprintf("%.0fM", float64(x.PeakRSS)/(1<<20))
			}
			fmt.Fprintf(w, row, x.Title, fmt.Sprintf("%.0f", x.RPS), msec(x.P50), msec(x.P99), frps, fp99, rat, errs, rss, goalText(x), figureText(x))
		}
		if m := sh.Memory; m != nil {
			verdict := "ok"
			switch {
			case sh.Sizes.Contacts < DefaultContacts:
				verdict = "not judged below 100,000"
			case m.PeakRSS > MaxRSS:
				verdict = "MISS"
			}
			fmt.Fprintf(w, "peak RSS %s (%s; target ≤ 300 MiB at 100,000 contacts: %s); Go heap peak %s; client, server and floor share the process\n",
				mib(m.PeakRSS), m.Source, verdict, mib(m.PeakGoHeap))
		}
		if d := sh.DataDir; d != nil {
			fmt.Fprintf(w, "data directory %s after seeding, %s after the run\n", mib(d.AfterSeedBytes), mib(d.AfterRunBytes))
		}
		if sd := sh.Seeding; sd != nil {
			fmt.Fprintf(w, "seeding %.1fs: users and tokens %.1fs (service, argon2id), %d records %.1fs (store, %.0f rows/s)\n",
				sd.Seconds, sd.UsersSeconds, sd.Rows, sd.RecordsSeconds, float64(sd.Rows)/max(sd.RecordsSeconds, 1e-9))
		}
	}
	fmt.Fprintln(w)
	for _, x := range r.Scenarios {
		for _, e := range x.ErrorSamples {
			fmt.Fprintf(w, "error in %s %s: %s\n", x.Shape, x.Name, e)
		}
		if x.Floor != nil {
			for _, e := range x.Floor.ErrorSamples {
				fmt.Fprintf(w, "error in %s %s on the floor: %s\n", x.Shape, x.Name, e)
			}
		}
	}
}

// MaxRSS is the peak memory target of the server at 100,000 contacts.
const MaxRSS = 300 << 20

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

// Compare prints, per scenario and shape both reports have, the ratio to
// the floor of each run and how it moved (new ratio ÷ old ratio: above 1
// is Custos closer to the floor), then the raw req/s. Ratios are what to
// compare across machines and loads; raw req/s only on the same quiet one.
func Compare(w io.Writer, old, cur *Report) {
	fmt.Fprintf(w, "\ncompared with commit %s of %s:\n", short(old.Commit), old.Time.Format(time.DateTime))
	if old.Settings.Sizes.Contacts != cur.Settings.Sizes.Contacts || old.Settings.Clients != cur.Settings.Clients || old.Host.CPUs != cur.Host.CPUs {
		fmt.Fprintln(w, "(note: the data set, clients or CPUs differ between the runs)")
	}
	const row = "%-10s %-32s %9s %9s %7s %9s %9s %7s\n"
	fmt.Fprintf(w, row, "shape", "scenario", "ratio old", "ratio new", "moved", "req/s old", "req/s new", "moved")
	two := func(v float64) string {
		if v == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", v)
	}
	for _, x := range cur.Scenarios {
		for _, o := range old.Scenarios {
			if o.Name != x.Name || o.Shape != x.Shape || o.Skipped != "" || x.Skipped != "" {
				continue
			}
			fmt.Fprintf(w, row, x.Shape, x.Title, two(o.Ratio), two(x.Ratio), ratio(x.Ratio, o.Ratio),
				fmt.Sprintf("%.0f", o.RPS), fmt.Sprintf("%.0f", x.RPS), ratio(x.RPS, o.RPS))
		}
	}
}

func ratio(cur, old float64) string {
	if old == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", cur/old)
}
