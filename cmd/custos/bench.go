package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/bench"
	"github.com/custos-crm/custos/internal/config"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/seal"
	"github.com/custos-crm/custos/internal/tlsconf"
)

const benchHelp = `Measure Custos the way users load it, against a no-security floor
measured in the same run (issues 3 and 17; docs/performance.md).

By default it seeds, for each data shape of --shapes in turn, a throw-away
data directory (100,000 contacts, 10,000 companies, 50,000 deals, 300,000
activities; --contacts scales them all): "spread" spreads them over
--owners sales users, "one-owner" gives them all to one, "org" spreads them
over the sales users of --owners teams three levels deep (ten users a
team, each team with a manager: 200 users in 20 teams by default) and
shares one contact in 20 with users and teams. It starts a real
server on it exactly as "serve" does (TLS with the self-signed certificate,
all middleware, the real service and store) on 127.0.0.1, and beside it
the floor: a plain net/http server with no authentication, access check,
audit, encryption or validation, one prepared query per request, the same
driver, pragmas, TLS settings and JSON shapes, on a copy of the seeded
data (so that its writes never touch the server's). --clients workers,
each acting as one sales user with that user's API token (in the org shape
a rep of a leaf team holding shares; the manager:… scenarios act as the
top-level manager, who sees every team's records), drive real HTTPS
requests with keep-alive. Every scenario runs --rounds times against the
floor and then Custos, each for --warmup and then a measured --duration;
every response is checked and failures are counted as errors.

It prints, per shape, each scenario's req/s and latency on Custos and on
the floor, their ratio, and the targets of issue 17 as ratios (reads ≥ 0.5
of the floor, writes ≥ 0.4, p99 ≤ 2× the floor's + 5 ms; peak RSS ≤ 300
MiB at 100,000 contacts), marking each miss, and beside the req/s of get,
list, email and prefix the absolute rates issue 11 names for this machine
kind (figures to read them against, never judged); --json writes the same with
the commit and settings, and --compare prints the ratios against an
earlier --json file. The exit status is 1 when any request failed; timings
never fail the command.

The server and the floor run in this process, so the client shares their
CPUs and memory. Server settings (--record-visibility, --argon2-*,
--hash-workers, --log-level, ...) are taken as for serve; the server's log
is discarded unless --server-log is given. Your data directory is never
touched. With --db (a postgres:// URL) each shape is seeded into a new
schema of that database, dropped afterwards; use a throw-away database,
never a real one.

With --url and --token it measures a running server instead (no floor, no
ratios), on the contacts the token can see. The write scenarios then
CHANGE THAT SERVER'S DATA: never point it at production.`

// benchServerOptions are the server settings the bench takes, as serve
// would, and passes on to the server it starts.
var benchServerOptions = []string{"db", "config", "log-level", "log-format", "phone-region", "record-visibility",
	"session-idle", "session-absolute", "argon2-memory", "argon2-time", "argon2-threads", "hash-workers"}

func runBench(ctx context.Context, e env, args []string) error {
	fs, load := newFlags(e, "bench", "[flags]", benchHelp, benchServerOptions...)
	contacts := fs.Int("contacts", bench.DefaultContacts, "contacts to seed; companies (1/10), deals (1/2) and activities (3×) scale with it")
	owners := fs.Int("owners", 20, "sales users the records are spread over (spread); teams of ten users each (org)")
	clients := fs.Int("clients", 32, "concurrent clients, each with its own keep-alive connection")
	duration := fs.Duration("duration", 5*time.Second, "measured time per scenario, server and round")
	warmup := fs.Duration("warmup", time.Second, "unmeasured time before each measurement")
	rounds := fs.Int("rounds", 2, "rounds per scenario, each measuring the floor then Custos")
	shapes := fs.String("shapes", strings.Join(benchShapes, ","), "data shapes to seed and measure in turn: spread (--owners owners), one-owner (one sales user owns every contact) and org (--owners teams of ten users three levels deep, with shares)")
	noFloor := fs.Bool("no-floor", false, "do not start the no-security floor (no ratios)")
	only := fs.String("scenarios", "", "comma-separated scenarios to run (default all: "+strings.Join(bench.ScenarioNames(), ",")+")")
	jsonOut := fs.String("json", "", "write the results, commit and settings to this JSON file")
	compare := fs.String("compare", "", "an earlier --json file to print the ratios against")
	seed := fs.Uint64("seed", 1, "seed of the data set and of the clients' random choices")
	http2 := fs.Bool("http2", false, "speak HTTP/2 (one multiplexed connection) instead of HTTP/1.1 keep-alive")
	dir := fs.String("dir", "", "parent of the throw-away data directory (default: the system's temporary directory)")
	keep := fs.Bool("keep", false, "keep the data directory afterwards, and print its path")
	serverLog := fs.String("server-log", "", "append the in-process server's log to this file (default: discarded)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured scenarios to this file (client goroutines are labelled side=client)")
	memProfile := fs.String("memprofile", "", "write a heap profile (in use and allocated) at the end of the run to this file")
	mutexProfile := fs.String("mutexprofile", "", "write a mutex contention profile of the measured scenarios to this file")
	blockProfile := fs.String("blockprofile", "", "write a blocking profile of the measured scenarios to this file")
	profileDir := fs.String("profile-dir", "", "write a CPU profile of each scenario, warm-up included, to DIR/cpu-<scenario>.pprof")
	targetURL := fs.String("url", "", "measure the running server at this https:// URL instead of starting one")
	token := fs.String("token", "", "with --url: a write-scope API token; all clients use it")
	caCert := fs.String("cacert", "", "with --url: a PEM certificate to trust, e.g. DATA/tls/cert.pem of a self-signed server")
	sample := fs.Int("sample", 20000, "with --url: how many visible contacts to find and pick ids from")
	loginEmail := fs.String("login-email", "", "with --url: the account of the login scenario (password from --password-stdin)")
	stdinPw := fs.Bool("password-stdin", false, "with --url: read the login scenario's password from standard input")
	serverPID := fs.Int("server-pid", 0, "with --url: the server's process id, to read its peak memory from /proc")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := load()
	if err != nil {
		return usageError{err.Error()}
	}
	o := bench.Options{Clients: *clients, Duration: *duration, Warmup: *warmup, Seed: *seed, Progress: e.stderr, Rounds: *rounds}
	shapeList := strings.Split(*shapes, ",")
	for _, sh := range shapeList {
		if !slices.Contains(benchShapes, sh) {
			return usageError{fmt.Sprintf("unknown shape %q; known: %s", sh, strings.Join(benchShapes, ","))}
		}
	}
	if *only != "" {
		o.Scenarios = strings.Split(*only, ",")
	}
	switch {
	case *rounds < 1:
		return usageError{"--rounds must be at least 1"}
	case *clients < 1 || *duration <= 0 || *warmup < 0:
		return usageError{"--clients must be at least 1, --duration positive and --warmup not negative"}
	case *targetURL == "" && (*owners < 1 || *contacts < *owners):
		return usageError{"--owners must be at least 1 and --contacts at least --owners"}
	case *targetURL == "" && slices.Contains(shapeList, "org") && *contacts < bench.OrgSizes(*contacts, *owners).Owners:
		return usageError{fmt.Sprintf("the org shape needs --contacts of at least %d: one per sales user", bench.OrgSizes(*contacts, *owners).Owners)}
	case *targetURL != "" && *token == "":
		return usageError{"--url needs --token"}
	case *targetURL == "" && (*token != "" || *caCert != "" || *loginEmail != "" || *stdinPw || *serverPID != 0):
		return usageError{"--token, --cacert, --login-email, --password-stdin and --server-pid go with --url"}
	}
	for _, s := range o.Scenarios {
		if !slices.Contains(bench.ScenarioNames(), s) {
			return usageError{fmt.Sprintf("unknown scenario %q; known: %s", s, strings.Join(bench.ScenarioNames(), ","))}
		}
	}
	var old *bench.Report
	if *compare != "" {
		if old, err = bench.LoadReport(*compare); err != nil {
			return err
		}
	}

	rep := &bench.Report{Format: bench.ReportFormat, Commit: benchCommit(ctx), Go: runtime.Version(), Time: time.Now().UTC(),
		Host: bench.ThisHost(), Settings: bench.Settings{Clients: *clients, DurationS: duration.Seconds(), WarmupS: warmup.Seconds(),
			HTTP2: *http2, Seed: *seed, Scenarios: o.Scenarios, Rounds: *rounds,
			Profiled: *cpuProfile != "" || *memProfile != "" || *mutexProfile != "" || *blockProfile != "" || *profileDir != ""}}
	prof := &profiles{cpu: *cpuProfile, mem: *memProfile, mutex: *mutexProfile, block: *blockProfile}
	if *profileDir != "" {
		if *cpuProfile != "" {
			return usageError{"--cpuprofile and --profile-dir exclude each other"}
		}
		if err := os.MkdirAll(*profileDir, 0o755); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		o.Around = func(scenario string, run func()) {
			f, err := os.Create(filepath.Join(*profileDir, "cpu-"+scenario+".pprof"))
			if err == nil {
				defer f.Close()
				if err = pprof.StartCPUProfile(f); err == nil {
					defer pprof.StopCPUProfile()
				}
			}
			if err != nil {
				fmt.Fprintf(e.stderr, "bench: no CPU profile of %s: %v\n", scenario, err)
			}
			run()
		}
	}

	var results []bench.Result
	var runErr error
	if *targetURL != "" {
		pw := ""
		if *stdinPw {
			if pw, err = readSecret(e); err != nil {
				return err
			}
		}
		results, runErr = benchRemote(ctx, e, rep, o, prof, remote{url: *targetURL, token: *token, caCert: *caCert,
			sample: *sample, email: *loginEmail, password: pw, pid: *serverPID, http2: *http2})
	} else {
		rep.Settings.ShapeNames = shapeList
		for _, sh := range shapeList {
			sizes := bench.SizesFor(*contacts, *owners)
			switch sh {
			case "one-owner":
				sizes = bench.SizesFor(*contacts, 1)
			case "org":
				sizes = bench.OrgSizes(*contacts, *owners)
			}
			o.Shape = sh
			res, err := benchLocal(ctx, e, rep, o, prof, c, local{sizes: sizes, seed: *seed, dir: *dir, keep: *keep,
				serverLog: *serverLog, http2: *http2, shape: sh, floor: !*noFloor})
			results = append(results, res...)
			if runErr = err; err != nil {
				break
			}
		}
	}
	if runErr != nil && results == nil {
		return runErr
	}
	rep.Scenarios = results
	rep.WriteTable(e.stdout)
	if old != nil {
		bench.Compare(e.stdout, old, rep)
	}
	if *jsonOut != "" {
		if err := rep.WriteJSON(*jsonOut); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	if runErr != nil {
		return runErr
	}
	var failed []string
	for _, r := range results {
		if r.Errors > 0 {
			failed = append(failed, fmt.Sprintf("%s %s (%d)", r.Shape, r.Name, r.Errors))
		}
		if r.Floor != nil && r.Floor.Errors > 0 {
			failed = append(failed, fmt.Sprintf("%s %s on the floor (%d)", r.Shape, r.Name, r.Floor.Errors))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("bench: requests failed in %s", strings.Join(failed, ", "))
	}
	return nil
}

// benchShapes are the data shapes, in the order a run measures them.
var benchShapes = []string{"spread", "one-owner", "org"}

// local are the settings of a run against an in-process server.
type local struct {
	sizes     bench.Sizes
	seed      uint64
	dir       string
	keep      bool
	serverLog string
	http2     bool
	shape     string
	floor     bool // start the no-security floor beside the server
}

// benchLocal seeds a throw-away data directory, starts the server on it
// and runs the scenarios.
func benchLocal(ctx context.Context, e env, rep *bench.Report, o bench.Options, prof *profiles, c *config.Config, l local) ([]bench.Result, error) {
	data, err := os.MkdirTemp(l.dir, "custos-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if l.keep {
		defer fmt.Fprintf(e.stderr, "kept the data directory %s\n", data)
	} else {
		defer os.RemoveAll(data)
	}
	sc := *c
	sc.DataDir = data
	// The server seals every client's personal fields, and so does the
	// seeding: a key-encryption key of this run, beside the data directory.
	sc.KeyFile = data + ".kek"
	defer os.Remove(sc.KeyFile)
	rep.Settings.Target, rep.Settings.Store, rep.Settings.Sizes = "in-process", "sqlite (embedded)", l.sizes
	if sc.DB != "" {
		rep.Settings.Store = "postgresql " + config.RedactURL(sc.DB)
		// Each shape is seeded into a schema of its own, dropped afterwards.
		dsn, drop, err := benchSchema(ctx, sc.DB, l.shape)
		if err != nil {
			return nil, err
		}
		defer drop()
		sc.DB = dsn
	}
	shape := bench.Shape{Name: l.shape, Sizes: l.sizes}
	defer func() { rep.Shapes = append(rep.Shapes, shape) }()
	rep.Settings.Server = map[string]string{
		"record-visibility": sc.RecordVisibility, "log-level": sc.LogLevel, "hash-workers": strconv.Itoa(sc.HashWorkers),
		"argon2": fmt.Sprintf("m=%d,t=%d,p=%d", sc.Argon2Memory, sc.Argon2Time, sc.Argon2Threads),
	}
	rep.Settings.ServerNote = "server and client share one process and its CPUs"

	fmt.Fprintf(e.stderr, "seeding %d contacts, %d companies, %d deals and %d activities over %d owners into %s\n",
		l.sizes.Contacts, l.sizes.Companies, l.sizes.Deals, l.sizes.Activities, l.sizes.Owners, data)
	if l.sizes.Teams > 0 {
		fmt.Fprintf(e.stderr, "with %d users in %d teams and %d shares\n", l.sizes.Users, l.sizes.Teams, l.sizes.Shares)
	}
	d, err := benchSeed(ctx, e, &sc, l, &shape)
	if err != nil {
		return nil, err
	}
	afterSeed, _ := bench.DirSize(data)
	// Give back seeding's memory, so the server's peak is the server's.
	runtime.GC()
	debug.FreeOSMemory()

	logTo := io.Discard
	if l.serverLog != "" {
		f, err := os.OpenFile(l.serverLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer f.Close()
		logTo = f
	}
	mem := bench.StartMemory(0)
	base, stop, err := startBenchServer(ctx, &sc, logTo)
	if err != nil {
		mem.Stop()
		return nil, err
	}
	certFile, _ := tlsconf.Files(data)
	pem, err := os.ReadFile(certFile)
	if err != nil {
		stop()
		return nil, fmt.Errorf("bench: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	t := bench.NewTarget(base, roots, o.Clients, l.http2)
	fmt.Fprintf(e.stderr, "server listening on %s; running %s per scenario after %s of warm-up with %d clients\n",
		base, o.Duration, o.Warmup, o.Clients)
	if l.floor {
		furl, fstop, err := startFloor(ctx, &sc, d)
		if err != nil {
			stop()
			mem.Stop()
			return nil, err
		}
		defer fstop()
		o.Floor = bench.NewTarget(furl, roots, o.Clients, l.http2)
		defer o.Floor.Close()
		fmt.Fprintf(e.stderr, "floor listening on %s, on a copy of the seeded data\n", furl)
	}

	o.Memory, o.CPU = mem, bench.ProcessCPU(0)
	results, runErr := runProfiled(prof, func() ([]bench.Result, error) { return bench.Run(ctx, t, d, o) })
	t.Close()
	m := mem.Stop()
	shape.Memory = &m
	if err := stop(); err != nil && runErr == nil {
		runErr = fmt.Errorf("bench: server: %w", err)
	}
	if sc.DB == "" {
		afterRun, _ := bench.DirSize(data)
		shape.DataDir = &bench.DataDir{AfterSeedBytes: afterSeed, AfterRunBytes: afterRun}
	}
	return results, runErr
}

// benchSeed opens the store the way serve does, seeds it and closes it
// again, so that the server starts on a store it opens itself.
func benchSeed(ctx context.Context, e env, c *config.Config, l local, shape *bench.Shape) (*bench.Dataset, error) {
	store, err := openBenchStore(ctx, c)
	if err != nil {
		return nil, err
	}
	svc := newServices(c, store, slog.New(slog.DiscardHandler), nil)
	kek, err := openKEK(ctx, c, func(string) string { return "" }, true)
	if err != nil {
		store.Close()
		return nil, err
	}
	d, st, err := bench.Seed(ctx, store, svc.identity, seal.New(kek, seal.CacheSize, seal.RawCacheSize), l.sizes, l.seed, e.stderr)
	if err == nil {
		// Every record was sealed as it was written: there is nothing for
		// the server's upgrade pass to do, as in a database this version
		// made from the start.
		err = store.Write(ctx, func(tx crm.Tx) error { return tx.SetSetting(ctx, seal.SettingSealed, seal.SealedVersion) })
	}
	if cerr := store.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("bench: closing the seeded store: %w", cerr)
	}
	if err != nil {
		return nil, err
	}
	shape.Seeding = bench.NewSeeding(st, l.sizes.Rows())
	shape.Callers = d.Callers()
	return d, nil
}

// openBenchStore is the store the bench seeds: the one serve opens, through
// openStore (the embedded store in the throw-away data directory, or the
// --db PostgreSQL database). A store constructor for tests or a new backend
// is swapped in here.
var openBenchStore = openStore

// startBenchServer runs `custos serve` in this process on 127.0.0.1 with a
// free port, the data directory, database and settings of c, and nothing
// from the environment (no operator certificate, no --insecure-http, no
// demo, no mail). It returns the server's URL and a function that stops it.
func startBenchServer(ctx context.Context, c *config.Config, logTo io.Writer) (string, func() error, error) {
	args := []string{"serve", "--data", c.DataDir, "--listen", "127.0.0.1:0",
		"--log-level", c.LogLevel, "--log-format", c.LogFormat, "--phone-region", c.PhoneRegion,
		"--record-visibility", c.RecordVisibility,
		"--session-idle", c.SessionIdle.String(), "--session-absolute", c.SessionAbsolute.String(),
		"--argon2-memory", strconv.Itoa(c.Argon2Memory), "--argon2-time", strconv.Itoa(c.Argon2Time),
		"--argon2-threads", strconv.Itoa(c.Argon2Threads), "--hash-workers", strconv.Itoa(c.HashWorkers)}
	if c.DB != "" {
		args = append(args, "--db", c.DB)
	}
	if c.KeyFile != "" {
		args = append(args, "--key-file", c.KeyFile)
	}
	sctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(sctx, args, func(string) string { return "" }, strings.NewReader(""), pw, logTo)
		pw.Close()
		done <- err
	}()
	re := regexp.MustCompile(`listening on (https://\S+)`)
	sc := bufio.NewScanner(pr)
	base := ""
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	go io.Copy(io.Discard, pr)
	stop := func() error {
		cancel()
		return <-done
	}
	if base == "" {
		err := stop()
		if err == nil {
			err = errors.New("it stopped")
		}
		return "", nil, fmt.Errorf("bench: the server did not start: %w", err)
	}
	return base, stop, nil
}

// remote are the settings of a run against a running server.
type remote struct {
	url, token, caCert, email, password string
	sample, pid                         int
	http2                               bool
}

// benchRemote runs the scenarios against a running server.
func benchRemote(ctx context.Context, e env, rep *bench.Report, o bench.Options, prof *profiles, r remote) ([]bench.Result, error) {
	var roots *x509.CertPool
	if r.caCert != "" {
		pem, err := os.ReadFile(r.caCert)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("bench: no certificate in %s", r.caCert)
		}
	}
	t := bench.NewTarget(r.url, roots, o.Clients, r.http2)
	defer t.Close()
	d, err := bench.Discover(ctx, t, r.token, r.email, r.password, r.sample)
	if err != nil {
		return nil, err
	}
	rep.Settings.Target, rep.Settings.Store, rep.Settings.Sizes = r.url, "as configured on the server", d.Sizes
	rep.Settings.ServerNote = fmt.Sprintf("a running server; %d visible contacts sampled", d.Contacts)
	fmt.Fprintf(e.stderr, "found %d contacts on %s; running %s per scenario after %s of warm-up with %d clients\n",
		d.Contacts, r.url, o.Duration, o.Warmup, o.Clients)
	var mem *bench.MemorySampler
	if r.pid != 0 {
		mem = bench.StartMemory(r.pid)
		o.Memory, o.CPU = mem, bench.ProcessCPU(r.pid)
	}
	results, err := runProfiled(prof, func() ([]bench.Result, error) { return bench.Run(ctx, t, d, o) })
	if mem != nil {
		m := mem.Stop()
		rep.Shapes = append(rep.Shapes, bench.Shape{Sizes: d.Sizes, Memory: &m})
	}
	return results, err
}

// profiles are the profiles asked for on the command line. In-process, they
// cover server and client alike; CPU samples of the client carry the label
// side=client (go tool pprof -tagignore side=client shows the server).
type profiles struct {
	cpu, mem, mutex, block string
}

// runProfiled runs fn with the profiles on.
func runProfiled(p *profiles, fn func() ([]bench.Result, error)) ([]bench.Result, error) {
	if p.mutex != "" {
		runtime.SetMutexProfileFraction(5)
		defer runtime.SetMutexProfileFraction(0)
	}
	if p.block != "" {
		runtime.SetBlockProfileRate(int(10 * time.Microsecond))
		defer runtime.SetBlockProfileRate(0)
	}
	if p.cpu != "" {
		f, err := os.Create(p.cpu)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
	}
	res, err := fn()
	if p.cpu != "" {
		pprof.StopCPUProfile()
	}
	for _, x := range []struct{ file, name string }{{p.mem, "heap"}, {p.mutex, "mutex"}, {p.block, "block"}} {
		if x.file == "" {
			continue
		}
		if x.name == "heap" {
			runtime.GC() // the heap profile shows the state at the last collection
		}
		if werr := writeProfile(x.file, x.name); werr != nil && err == nil {
			err = werr
		}
	}
	return res, err
}

func writeProfile(file, name string) error {
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("bench: %s profile: %w", name, err)
	}
	return f.Close()
}

// benchCommit is the commit of the code measured: from the build
// information, or from git when run with `go run` or `go test`, which do
// not stamp it.
func benchCommit(ctx context.Context) string {
	_, commit, _, modified := buildInfo()
	if commit == "unknown" {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output(); err == nil {
			commit = strings.TrimSpace(string(out))
			st, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output()
			modified = err == nil && len(strings.TrimSpace(string(st))) > 0
		}
	}
	if modified {
		commit += " (modified)"
	}
	return commit
}
