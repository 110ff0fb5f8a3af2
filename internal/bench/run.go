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
}

// Met reports whether the result meets its goal (true when it has none).
func (r Result) Met() bool {
	return r.Skipped == "" && r.Errors == 0 &&
		(r.Goal.MinRPS == 0 || r.RPS >= r.Goal.MinRPS) &&
		(r.Goal.MaxP99Ms == 0 || r.P99 <= r.Goal.MaxP99Ms)
}

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
	for _, ow := range d.Owners {
		if len(ow.Seqs) == 0 {
			return nil, fmt.Errorf("bench: owner %s has no contacts", ow.Email)
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
		var res Result
		if o.Memory != nil {
			o.Memory.Lap()
		}
		if sc.name == "login" && d.Password == "" {
			res = Result{Name: sc.name, Title: sc.title, Goal: sc.goal, Skipped: errNoLogin.Error()}
		} else if o.Around != nil {
			o.Around(sc.name, func() { res = runScenario(ctx, t, d, o, uint64(i), sc) })
		} else {
			res = runScenario(ctx, t, d, o, uint64(i), sc)
		}
		if o.Memory != nil {
			m := o.Memory.Lap()
			res.PeakRSS, res.PeakGoHeap = m.PeakRSS, m.PeakGoHeap
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if res.Skipped != "" {
			fmt.Fprintf(progress, "%-22s skipped: %s", sc.title, res.Skipped)
		} else {
			fmt.Fprintf(progress, "%-22s %9.1f req/s  p99 %7.1f ms  %d errors", sc.title, res.RPS, res.P99, res.Errors)
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

// runScenario runs sc's workers through the warm-up and the measured window.
// A request counts if it completes inside the window; workers start no
// request after it.
func runScenario(ctx context.Context, t *Target, d *Dataset, o Options, index uint64, sc scenario) Result {
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
		w := &worker{t: t, d: d, owner: d.Owners[i%len(d.Owners)], id: i,
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
		all.h.merge(&tl.h)
		all.errors += tl.errors
		for _, s := range tl.samples {
			if len(all.samples) < 5 && !slices.Contains(all.samples, s) {
				all.samples = append(all.samples, s)
			}
		}
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	secs := o.Duration.Seconds()
	var perReq float64
	if all.h.n > 0 {
		perReq = float64(cpu) / float64(time.Microsecond) / float64(all.h.n)
	}
	return Result{
		Name: sc.name, Title: sc.title, Goal: sc.goal,
		Requests: int64(all.h.n), Errors: all.errors, Seconds: secs, RPS: float64(all.h.n) / secs,
		P50: ms(all.h.quantile(0.50)), P90: ms(all.h.quantile(0.90)), P99: ms(all.h.quantile(0.99)), Max: ms(all.h.max),
		ErrorSamples: all.samples, CPUPerReqUS: perReq,
	}
}
