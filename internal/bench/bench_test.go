package bench

import (
	"bytes"
	"math/rand/v2"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	t.Parallel()
	var h histogram
	rng := rand.New(rand.NewPCG(1, 2))
	var all []time.Duration
	for range 100_000 {
		d := time.Duration(rng.ExpFloat64() * float64(3*time.Millisecond))
		all = append(all, d)
		h.record(d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := all[int(q*float64(len(all)))-1]
		got := h.quantile(q)
		if diff := float64(got-exact) / float64(exact); diff < -0.02 || diff > 0.02 {
			t.Errorf("quantile(%v) = %v, exact %v: off by %.1f%%", q, got, exact, 100*diff)
		}
	}
	if h.quantile(1) != all[len(all)-1] || h.max != all[len(all)-1] {
		t.Errorf("max %v, quantile(1) %v; want %v", h.max, h.quantile(1), all[len(all)-1])
	}
	var other histogram
	other.record(time.Hour)
	h.merge(&other)
	if h.n != 100_001 || h.max != time.Hour {
		t.Errorf("after merge: n %d, max %v", h.n, h.max)
	}
	for _, v := range []uint64{0, 1, 127, 128, 129, 255, 256, 1 << 20, 1<<40 + 12345} {
		if i := bucketOf(v); upper(i) < v || (i > 0 && upper(i-1) >= v) {
			t.Errorf("value %d in bucket %d, which ends at %d (previous at %d)", v, i, upper(i), upper(i-1))
		}
	}
}

func TestPeople(t *testing.T) {
	t.Parallel()
	emails := map[string]bool{}
	ru := 0
	lasts := map[string]bool{}
	for seq := range 5000 {
		p := personOf(42, seq)
		if p != personOf(42, seq) {
			t.Fatalf("personOf(42, %d) is not deterministic", seq)
		}
		if a, err := mail.ParseAddress(p.email); err != nil || a.Address != p.email || emails[p.email] {
			t.Fatalf("contact %d: bad or repeated address %q (%v)", seq, p.email, err)
		}
		emails[p.email] = true
		lasts[p.last] = true
		if p.ru {
			ru++
		}
		if p.first == "" || p.last == "" {
			t.Fatalf("contact %d: %+v", seq, p)
		}
	}
	if ru < 2700 || ru > 3300 || len(lasts) < 150 {
		t.Errorf("%d of 5000 Russian names, %d distinct surnames; want about 60%% and a wide spread", ru, len(lasts))
	}
	if got := feminine("Вишневский") + " " + feminine("Петров") + " " + feminine("Черных"); got != "Вишневская Петрова Черных" {
		t.Errorf("feminine: %s", got)
	}
	if got := translit("Соловьёв") + " " + translit("O'Connor"); got != "solovev oconnor" {
		t.Errorf("translit: %s", got)
	}
}

func TestSizesFor(t *testing.T) {
	t.Parallel()
	s := SizesFor(DefaultContacts, 20)
	want := Sizes{Contacts: 100_000, Companies: 10_000, Deals: 50_000, Activities: 300_000, Owners: 20}
	if s != want || s.Rows() != 460_000 {
		t.Errorf("SizesFor(100000, 20) = %+v, want %+v", s, want)
	}
	// The org shape of issue 11: 200 users in 20 teams (180 of them sales
	// users who own the records, 20 managers), 5,000 shares.
	s = OrgSizes(DefaultContacts, 20)
	want = Sizes{Contacts: 100_000, Companies: 10_000, Deals: 50_000, Activities: 300_000, Owners: 180, Teams: 20, Users: 200, Shares: 5000}
	if s != want || s.Rows() != 465_000 {
		t.Errorf("OrgSizes(100000, 20) = %+v, want %+v", s, want)
	}
	// Three levels need three teams at least.
	if s := OrgSizes(1000, 1); s.Teams != 3 || s.Users != 30 || s.Owners != 27 || s.Shares != 50 {
		t.Errorf("OrgSizes(1000, 1) = %+v, want 3 teams, 30 users, 27 owners, 50 shares", s)
	}
}

func TestScenarioNames(t *testing.T) {
	t.Parallel()
	names := ScenarioNames()
	// The rep's ids are those of the reports before the org shape, so
	// that --compare still matches them.
	for _, want := range []string{"get", "list:last_name", "list:-updated_at", "email", "prefix", "timeline", "create", "update",
		"activity", "login", "mixed", "manager:get", "manager:list:last_name", "manager:list:-last_name",
		"manager:list:created_at", "manager:list:-updated_at", "manager:email", "manager:prefix"} {
		if !slices.Contains(names, want) {
			t.Errorf("no scenario %q in %v", want, names)
		}
	}
	var lists, figures int
	for _, sc := range scenarios {
		if strings.HasPrefix(sc.name, "manager:") != (sc.caller == manager) {
			t.Errorf("%s: caller %v", sc.name, sc.caller)
		}
		if strings.Contains(sc.name, "list:") {
			lists++
		}
		if sc.goal.Figure > 0 {
			figures++
		}
	}
	// Every sort in both directions, for both callers; a figure for each
	// caller's get, lists, email and prefix.
	if lists != 2*len(listSorts) || len(listSorts) != 10 || figures != 2*(len(listSorts)+3) {
		t.Errorf("%d list scenarios of %d sorts, %d figures", lists, len(listSorts), figures)
	}
}

func TestFloorVisibility(t *testing.T) {
	t.Parallel()
	// A sales user in the shapes without teams or shares: the owner's
	// index range, as before the org shape.
	vis, args := visibility(FloorCaller{UserID: 7}, false)
	if vis != "owner_id = ?" || !slices.Equal(args, []any{int64(7)}) {
		t.Errorf("owner: %q %v", vis, args)
	}
	// A manager of two teams who may hold shares, as with their own team.
	mgr := FloorCaller{UserID: 7, TeamID: 1, Teams: []int64{2, 3}, ShareTeams: []int64{2, 3, 1}, Shared: true}
	vis, args = visibility(mgr, false)
	want := "(owner_id = ? OR team_id IN (?, ?) OR id IN (SELECT record_id FROM shares WHERE entity = 'contact'" +
		" AND (user_id = ? OR team_id IN (?, ?, ?)) AND (expires_at IS NULL OR expires_at > ?)))"
	if vis != want || !slices.Equal(args, []any{int64(7), int64(2), int64(3), int64(7), int64(2), int64(3), int64(1)}) {
		t.Errorf("manager:\n%s\nwant\n%s\nargs %v", vis, want, args)
	}
	// On PostgreSQL the shared ids are an array, which its planner can
	// OR with the owner's index.
	vis, _ = visibility(mgr, true)
	want = "(owner_id = ? OR team_id IN (?, ?) OR id = ANY (ARRAY(SELECT record_id FROM shares WHERE entity = 'contact'" +
		" AND (user_id = ? OR team_id IN (?, ?, ?)) AND (expires_at IS NULL OR expires_at > ?))))"
	if vis != want {
		t.Errorf("manager on PostgreSQL:\n%s\nwant\n%s", vis, want)
	}
	c := &floorCaller{FloorCaller: FloorCaller{UserID: 7, Shared: true}, visArgs: []any{int64(7)}}
	if got := c.args("x"); len(got) != 3 || got[0] != int64(7) || got[2] != "x" {
		t.Errorf("args with the time that ends a share: %v", got)
	}
	if (&Owner{TeamID: 1, Teams: []int64{1, 2}}).ShareTeams()[1] != 2 || len((&Owner{TeamID: 4, Teams: []int64{1}}).ShareTeams()) != 2 {
		t.Error("ShareTeams: want the managed teams and the user's own, once")
	}
}

func TestReport(t *testing.T) {
	t.Parallel()
	fl := func(rps, p99 float64) *Result { return &Result{RPS: rps, P99: p99, Requests: 1} }
	r := &Report{Format: ReportFormat, Commit: "0123456789abcdef0123 (modified)", Go: "go1.27.3", Time: time.Now().UTC(),
		Host: ThisHost(), Settings: Settings{Target: "in-process", Store: "sqlite", Sizes: SizesFor(1000, 4), Clients: 4, DurationS: 1, Rounds: 2},
		Shapes: []Shape{{Name: "spread", Sizes: SizesFor(1000, 4), Memory: &Memory{PeakRSS: 100 << 20, Source: "test"}}},
		Scenarios: []Result{
			{Shape: "spread", Name: "get", Title: "get contact by id", Requests: 9000, RPS: 9000, P99: 12, Goal: withFigure(readGoal, getFigure), Floor: fl(10000, 4), Ratio: 0.9},
			{Shape: "spread", Name: "list:-created_at", Title: "list 50 by -created_at", Requests: 100, RPS: 100, P99: 40, Goal: readGoal, Floor: fl(1000, 10), Ratio: 0.1},
			{Shape: "spread", Name: "create", Title: "create contact", Requests: 100, RPS: 450, P99: 30, Goal: writeGoal, Floor: fl(1000, 10), Ratio: 0.45},
			{Shape: "spread", Name: "login", Title: "login (password)", Skipped: "no password"},
		}}
	want := [][]string{nil, {"req/s", "p99"}, {"p99"}, nil}
	for i, x := range r.Scenarios {
		if got := x.Misses(); !slices.Equal(got, want[i]) {
			t.Errorf("%s: misses %v, want %v", x.Name, got, want[i])
		}
	}
	if !r.Scenarios[0].Met() || r.Scenarios[1].Met() || r.Scenarios[0].P99Limit() != 13 {
		t.Errorf("Met: %v %v, p99 limit %v; want true false 13", r.Scenarios[0].Met(), r.Scenarios[1].Met(), r.Scenarios[0].P99Limit())
	}
	path := filepath.Join(t.TempDir(), "r.json")
	if err := r.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadReport(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Commit != r.Commit || len(back.Scenarios) != 4 || back.Scenarios[0].Goal.Figure != getFigure || back.Scenarios[1].Goal != r.Scenarios[1].Goal ||
		back.Scenarios[1].Floor == nil || back.Scenarios[1].Floor.RPS != 1000 || back.Scenarios[1].Ratio != 0.1 {
		t.Errorf("round trip: %+v", back)
	}
	var out bytes.Buffer
	r.WriteTable(&out)
	for _, want := range []string{"0123456789ab (modified)", "shape spread", "≥0.5× p99≤13.0ms ok", "MISS (req/s, p99)",
		"≥0.4× p99≤25.0ms MISS (p99)", "0.90", "10000", "skipped: no password", "100.0 MiB", "not judged below 100,000",
		"8000/s: 1.12×"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	r.Shapes[0].Sizes, r.Shapes[0].Memory.PeakRSS = SizesFor(DefaultContacts, 20), 400<<20
	out.Reset()
	r.WriteTable(&out)
	if !strings.Contains(out.String(), "at 100,000 contacts: MISS") {
		t.Errorf("400 MiB at 100,000 contacts is not marked:\n%s", out.String())
	}
	back.Scenarios[0].Ratio = 0.45
	back.Scenarios[0].RPS = 4500
	out.Reset()
	Compare(&out, back, r)
	if !strings.Contains(out.String(), "0.45      0.90   2.00×") {
		t.Errorf("compare:\n%s", out.String())
	}
}

func TestMissesWithoutFloor(t *testing.T) {
	t.Parallel()
	r := Result{Name: "get", RPS: 1, P99: 1000, Goal: readGoal}
	if !r.Met() || goalText(r) != "≥0.5× p99≤2×+5ms (no floor)" {
		t.Errorf("without a floor: met %v, %q; want met and no verdict", r.Met(), goalText(r))
	}
	r.Floor = &Result{RPS: 10, Errors: 2}
	if m := r.Misses(); !slices.Equal(m, []string{"errors", "req/s", "p99"}) {
		t.Errorf("floor errors: misses %v", m)
	}
}
