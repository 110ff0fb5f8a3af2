package bench

import (
	"context"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"runtime/pprof"
	"slices"
	"sync"
	"time"
)

// Options are the settings of a run.
type Options struct {
	Clients   int           // concurrent workers
	Duration  time.Duration // measured, per scenario
	Warmup    time.Duration // before each scenario's measurement
	Scenarios []string      // ids to run (see ScenarioNames); empty: all
	Seed      uint64        // of the workers' random choices
	Progress  io.Writer     // a line per finished scenario; nil: none
	// Memory, when set, gives each result the server's peak memory
	// during its scenario, warm-up included.
	Memory *MemorySampler
	// Around, when set, runs each scenario: it must call run once. It is
	// how a caller profiles one scenario at a time.
	Around func(scenario string, run func())
	// CPU, when set, reads the CPU time used so far by the server (by this
	// process when the server runs in it), for the CPU time per request.
	CPU func() time.Duration
	// Floor, when set, is the no-security reference server: every scenario
	// then runs against it and the target alternately, Rounds times each
	// (at least once), and the result carries the floor's and the ratios.
	Floor  *Target
	Rounds int
	// Shape names the data set in the results ("spread", "one-owner",
	// "org").
	Shape string
}

// Result is one scenario's row. Latencies are in milliseconds; only
// requests that passed their check count towards them and towards RPS.
type Result struct {
	Name         string   `json:"name"`
	Title        string   `json:"title"`
	Requests     int64    `json:"requests"`
	Errors       int64    `json:"errors"`
	Seconds      float64  `json:"seconds"`
	RPS          float64  `json:"rps"`
	P50          float64  `json:"p50_ms"`
	P90          float64  `json:"p90_ms"`
	P99          float64  `json:"p99_ms"`
	Max          float64  `json:"max_ms"`
	Goal         Goal     `json:"goal"`
	ErrorSamples []string `json:"error_samples,omitempty"`
	Skipped      string   `json:"skipped,omitempty"`
	CPUPerReqUS  float64  `json:"cpu_us_per_request,omitempty"` // CPU time used in the window per successful request
	PeakRSS      int64    `json:"peak_rss_bytes,omitempty"`
	PeakGoHeap   int64    `json:"peak_go_heap_bytes,omitempty"`
	Shape        string   `json:"shape,omitempty"`
	// Floor is the same scenario on the no-security floor, when measured;
	// Ratio is Custos's req/s divided by the floor's (0: not measured).
	Floor *Result `json:"floor,omitempty"`
	Ratio float64 `json:"ratio,omitempty"`
}

// P99Limit is the highest p99 the goal allows: twice the floor's plus 5
// ms (0: no limit, or no floor).
func (r Result) P99Limit() float64 {
	if !r.Goal.P99 || r.Floor == nil || r.Floor.Skipped != "" {
		return 0
	}
	return 2*r.Floor.P99 + 5
}

// Misses names what the result misses of its goal: "errors" (of either
// server), "req/s" (the ratio is below the goal's) and "p99".
func (r Result) Misses() []string {
	var out []string
	if r.Errors > 0 || (r.Floor != nil && r.Floor.Errors > 0) {
		out = append(out, "errors")
	}
	if r.Skipped != "" || r.Floor == nil || r.Floor.Skipped != "" {
		return out
	}
	if r.Goal.MinRatio > 0 && r.Ratio < r.Goal.MinRatio {
		out = append(out, "req/s")
	}
	if l := r.P99Limit(); l > 0 && r.P99 > l {
		out = append(out, "p99")
	}
	return out
}

// Met reports whether the result meets its goal (true when it has none).
func (r Result) Met() bool { return r.Skipped == "" && len(r.Misses()) == 0 }

// Run runs the chosen scenarios one after the other against t on data set
// d and returns their results.
func Run(ctx context.Context, t *Target, d *Dataset, o Options) ([]Result, error) {
	if o.Clients < 1 || o.Duration <= 0 || o.Warmup < 0 {
		return nil, fmt.Errorf("bench: need at least one client and a positive duration")
	}
	for _, name := range o.Scenarios {
		if !slices.Contains(ScenarioNames(), name) {
			return nil, fmt.Errorf("bench: unknown scenario %q (known: %v)", name, ScenarioNames())
		}
	}
	for _, ow := range append(slices.Clip(d.reps()), d.Managers...) {
		if len(ow.reads()) == 0 || len(ow.writes()) == 0 {
			return nil, fmt.Errorf("bench: %s sees no contacts", ow.Email)
		}
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	var out []Result
	for i, sc := range scenarios {
		if len(o.Scenarios) > 0 && !slices.Contains(o.Scenarios, sc.name) {
			continue
		}
		if len(d.callers(sc.caller)) == 0 {
			continue // a shape without a manager
		}
		res := runRounds(ctx, t, d, o, uint64(i), sc)
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if res.Skipped != "" {
			fmt.Fprintf(progress, "%-32s skipped: %s", sc.title, res.Skipped)
		} else {
			fmt.Fprintf(progress, "%-32s %9.1f req/s  p99 %7.1f ms  %d errors", sc.title, res.RPS, res.P99, res.Errors)
			if f := res.Floor; f != nil && f.Skipped == "" {
				fmt.Fprintf(progress, "  floor %9.1f req/s  p99 %7.1f ms  %d errors  ratio %.2f", f.RPS, f.P99, f.Errors, res.Ratio)
			}
		}
		if res.PeakRSS > 0 {
			fmt.Fprintf(progress, "  peak RSS %s", mib(res.PeakRSS))
		}
		fmt.Fprintln(progress)
		out = append(out, res)
	}
	return out, nil
}

// tally is one worker's count.
type tally struct {
	h       histogram
	errors  int64
	samples []string
}

// runRounds runs sc against the floor (if any) and the target in turn,
// o.Rounds times, and merges each server's rounds into one result.
func runRounds(ctx context.Context, t *Target, d *Dataset, o Options, index uint64, sc scenario) Result {
	if sc.name == "login" && d.Password == "" {
		return Result{Name: sc.name, Title: sc.title, Goal: sc.goal, Shape: o.Shape, Skipped: errNoLogin.Error()}
	}
	if sc.name == "login" && len(d.reps()) == 1 && o.Clients > 1 && o.Shape == "one-owner" {
		// Every client would sign in to one account, which the
		// per-account throttle rightly answers with 429.
		return Result{Name: sc.name, Title: sc.title, Goal: sc.goal, Shape: o.Shape, Skipped: "one account: its login throttle would answer"}
	}
	var mine, floor tally
	var cpu time.Duration
	var peak Memory
	for range max(o.Rounds, 1) {
		if ctx.Err() != nil {
			break
		}
		if o.Floor != nil && sc.name != "login" {
			tl, _ := runScenario(ctx, o.Floor, d, o, index, sc)
			floor.add(tl)
		}
		if o.Memory != nil {
			o.Memory.Lap()
		}
		run := func() {
			tl, c := runScenario(ctx, t, d, o, index, sc)
			mine.add(tl)
			cpu += c
		}
		if o.Around != nil {
			o.Around(sc.name, run)
		} else {
			run()
		}
		if o.Memory != nil {
			m := o.Memory.Lap()
			peak.PeakRSS, peak.PeakGoHeap = max(peak.PeakRSS, m.PeakRSS), max(peak.PeakGoHeap, m.PeakGoHeap)
		}
	}
	rounds := max(o.Rounds, 1)
	res := mine.result(sc, o.Duration*time.Duration(rounds), cpu)
	res.Shape, res.PeakRSS, res.PeakGoHeap = o.Shape, peak.PeakRSS, peak.PeakGoHeap
	if o.Floor != nil {
		f := floor.result(sc, o.Duration*time.Duration(rounds), 0)
		f.Goal = Goal{}
		if sc.name == "login" {
			f = Result{Name: sc.name, Title: sc.title, Skipped: "no floor: the floor has no login"}
		}
		res.Floor = &f
		if f.RPS > 0 {
			res.Ratio = res.RPS / f.RPS
		}
	}
	return res
}

// add merges another tally into t.
func (t *tally) add(o *tally) {
	t.h.merge(&o.h)
	t.errors += o.errors
	for _, s := range o.samples {
		if len(t.samples) < 5 && !slices.Contains(t.samples, s) {
			t.samples = append(t.samples, s)
		}
	}
}

// result is the row of a tally measured for d in all, with the server's
// CPU time cpu.
func (t *tally) result(sc scenario, d time.Duration, cpu time.Duration) Result {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	secs := d.Seconds()
	var perReq float64
	if t.h.n > 0 {
		perReq = float64(cpu) / float64(time.Microsecond) / float64(t.h.n)
	}
	return Result{
		Name: sc.name, Title: sc.title, Goal: sc.goal,
		Requests: int64(t.h.n), Errors: t.errors, Seconds: secs, RPS: float64(t.h.n) / secs,
		P50: ms(t.h.quantile(0.50)), P90: ms(t.h.quantile(0.90)), P99: ms(t.h.quantile(0.99)), Max: ms(t.h.max),
		ErrorSamples: t.samples, CPUPerReqUS: perReq,
	}
}

// runScenario runs sc's workers against t through the warm-up and the
// measured window, and returns their tally and the server's CPU time in
// the window. A request counts if it completes inside the window; workers
// start no request after it.
func runScenario(ctx context.Context, t *Target, d *Dataset, o Options, index uint64, sc scenario) (*tally, time.Duration) {
	start := time.Now()
	from := start.Add(o.Warmup)
	end := from.Add(o.Duration)
	tallies := make([]*tally, o.Clients)
	var wg sync.WaitGroup
	var cpu time.Duration
	if o.CPU != nil {
		wg.Go(func() {
			select {
			case <-time.After(time.Until(from)):
			case <-ctx.Done():
				return
			}
			c0 := o.CPU()
			select {
			case <-time.After(time.Until(end)):
			case <-ctx.Done():
				return
			}
			cpu = o.CPU() - c0
		})
	}
	for i := range o.Clients {
		tl := &tally{}
		tallies[i] = tl
		users := d.callers(sc.caller)
		w := &worker{t: t, d: d, user: users[i%len(users)], id: i,
			rng: mrand.New(mrand.NewPCG(o.Seed^index, uint64(i)))}
		wg.Go(func() {
			// The labels tell the client's work from the server's in a
			// CPU profile of an in-process run.
			pprof.Do(ctx, pprof.Labels("side", "client", "scenario", sc.name), func(ctx context.Context) {
				w.ctx = ctx
				for ctx.Err() == nil {
					t0 := time.Now()
					if !t0.Before(end) {
						return
					}
					err := sc.op(w)
					t1 := time.Now()
					if t1.Before(from) || t1.After(end) {
						continue
					}
					if err != nil {
						tl.errors++
						if len(tl.samples) < 3 && !slices.Contains(tl.samples, err.Error()) {
							tl.samples = append(tl.samples, err.Error())
						}
						continue
					}
					tl.h.record(t1.Sub(t0))
				}
			})
		})
	}
	wg.Wait()
	var all tally
	for _, tl := range tallies {
		all.add(tl)
	}
	return &all, cpu
}
