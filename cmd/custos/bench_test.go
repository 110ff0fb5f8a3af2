package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/bench"
)

// TestBench runs the bench briefly on a small data set, to prove that every
// scenario works end to end against a real server with zero errors and
// that the JSON report parses. It never asserts timings; each scenario
// runs a second, so that even under the race detector, on a busy machine,
// every one completes some requests.
func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a data set and starts a server")
	}
	dir := t.TempDir()
	report := filepath.Join(dir, "bench.json")
	rep, out := runBenchReport(t, dir, "--contacts", "1000", "--owners", "4", "--duration", "1s", "--warmup", "100ms",
		"--rounds", "1", "--clients", "4")
	checkBothServers(t, rep, []string{"spread", "one-owner", "org"})
	if len(rep.Shapes) != 3 || rep.Shapes[0].Sizes.Owners != 4 || rep.Shapes[1].Sizes.Owners != 1 || rep.Shapes[2].Sizes.Teams != 4 {
		t.Fatalf("shapes %+v, want spread (4 owners), one-owner and org (4 teams)", rep.Shapes)
	}
	for _, sh := range rep.Shapes {
		if sh.Sizes.Contacts != 1000 || sh.Sizes.Activities != 3000 || sh.Seeding == nil || sh.Memory == nil || sh.DataDir == nil {
			t.Errorf("shape %+v: want sizes, seeding, memory and data directory", sh)
		}
	}
	checkOrgShape(t, rep.Shapes[2])
	for _, want := range []string{"req/s", "floor/s", "ratio", "get contact by id", "list 50 by -created_at", "mixed",
		"peak RSS", "seeding", "shape one-owner", "shape org: 36 owners; 40 users in 4 teams, 50 shares",
		"manager: list 50 by -updated_at", "manager: name prefix search", "figure (issue 11)", "3000/s: ", "top-level manager"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, out.String())
		}
	}
	// The throw-away data directories are gone.
	if left, _ := filepath.Glob(filepath.Join(dir, "custos-bench-*")); len(left) > 0 {
		t.Errorf("data directories left behind: %v", left)
	}

	// A second, shorter run compares its ratios with the first.
	var errb bytes.Buffer
	out.Reset()
	args := []string{"bench", "--contacts", "400", "--owners", "2", "--duration", "200ms", "--warmup", "0s", "--rounds", "1",
		"--clients", "2", "--scenarios", "get,update", "--shapes", "spread", "--compare", report, "--dir", dir}
	if err := run(context.Background(), args, testEnv(dir), strings.NewReader(""), out, &errb); err != nil {
		t.Fatalf("bench --compare: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "compared with") || !strings.Contains(out.String(), "ratio old") ||
		!strings.Contains(out.String(), "update one field") {
		t.Errorf("compare output:\n%s", out.String())
	}
}

// checkOrgShape checks that the org shape was seeded as it claims: teams
// three levels deep, the reps each holding unexpired shares, and the
// top-level manager seeing every team and most, not all, contacts.
func checkOrgShape(t *testing.T, sh bench.Shape) {
	t.Helper()
	z, c := sh.Sizes, sh.Callers
	want := bench.OrgSizes(z.Contacts, z.Teams)
	switch {
	case sh.Name != "org" || z != want || z.Users != 10*z.Teams || z.Shares != z.Contacts/20:
		t.Errorf("org shape %q: sizes %+v, want %+v", sh.Name, z, want)
	case c == nil:
		t.Errorf("org shape: no callers in the report")
	case c.Reps == 0 || c.RepSharedMin < 1 || c.RepOwnMean < 1:
		t.Errorf("org shape: reps %+v; want reps who own contacts and each read some through shares", c)
	case c.Managers != 1 || c.ManagerTeams != z.Teams || c.ManagerSees < z.Contacts/2 || c.ManagerSees >= z.Contacts:
		t.Errorf("org shape: manager %+v; want one who sees all %d teams and most of the %d contacts, not all", c, z.Teams, z.Contacts)
	}
}

// checkBothServers checks that every scenario of every shape ran on Custos
// and on the floor (but login, which the floor has not) with requests and
// without errors: every response passed the client's checks, which look
// at the JSON of each answer. The manager's scenarios run in the org shape
// only, where there is a manager.
func checkBothServers(t *testing.T, rep *bench.Report, shapes []string) {
	t.Helper()
	for _, sh := range shapes {
		var names []string
		for _, r := range rep.Scenarios {
			if r.Shape != sh {
				continue
			}
			names = append(names, r.Name)
			if sh == "one-owner" && r.Name == "login" {
				if r.Skipped == "" {
					t.Errorf("one-owner login: not skipped, though one account's throttle answers its clients")
				}
				continue
			}
			if r.Name == "login" && r.Skipped == "" && r.Requests == 0 && r.Errors == 0 {
				// argon2id one hash at a time under the race detector, on
				// two cores shared with the other packages' tests: a window
				// of a second has seen no login complete. The login itself
				// is tested end to end elsewhere (e2e_test.go, mfa_test.go).
				t.Logf("%s login: no login completed within the window", sh)
				continue
			}
			if r.Skipped != "" || r.Requests == 0 || r.Errors != 0 {
				t.Errorf("%s %s: skipped %q, %d requests, %d errors %v; want requests and no errors", sh, r.Name, r.Skipped, r.Requests, r.Errors, r.ErrorSamples)
			}
			f := r.Floor
			switch {
			case f == nil:
				t.Errorf("%s %s: no floor", sh, r.Name)
			case r.Name == "login":
				if f.Skipped == "" {
					t.Errorf("%s login: the floor has a login row: %+v", sh, f)
				}
			case f.Skipped != "" || f.Requests == 0 || f.Errors != 0 || r.Ratio <= 0:
				t.Errorf("%s %s on the floor: skipped %q, %d requests, %d errors %v, ratio %v; want requests and no errors",
					sh, r.Name, f.Skipped, f.Requests, f.Errors, f.ErrorSamples, r.Ratio)
			}
		}
		want := bench.ScenarioNames()
		if sh != "org" {
			want = slices.DeleteFunc(want, func(n string) bool { return strings.HasPrefix(n, "manager:") })
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s: scenarios in the report: %v, want %v", sh, names, want)
		}
	}
}

// TestBenchPostgres runs the short bench on PostgreSQL: every shape, each
// in a schema of its own, and the floor on a copy of the seeded tables.
func TestBenchPostgres(t *testing.T) {
	dsn := os.Getenv("CUSTOS_TEST_POSTGRES")
	if dsn == "" || testing.Short() {
		t.Skip("CUSTOS_TEST_POSTGRES is not set (postgres://user@host/db); the bench on PostgreSQL is not tested")
	}
	// 1 s a scenario: under the race detector on a busy 2-core machine a
	// window of 200 ms, and later one of 500 ms for the logins (argon2id,
	// one hash at a time, while the other packages' tests ran), ended
	// before any request of the scenario had completed (a zero row, which
	// checkBothServers rightly refuses).
	rep, _ := runBenchReport(t, t.TempDir(), "--db", dsn, "--contacts", "600", "--owners", "3", "--duration", "1s", "--warmup", "100ms",
		"--rounds", "1", "--clients", "3")
	checkBothServers(t, rep, []string{"spread", "one-owner", "org"})
	checkOrgShape(t, rep.Shapes[2])
}

// runBench runs `custos bench` with args, its data and its JSON report
// (bench.json) in dir, and returns the report and the printed table.
func runBenchReport(t *testing.T, dir string, args ...string) (*bench.Report, *bytes.Buffer) {
	t.Helper()
	report := filepath.Join(dir, "bench.json")
	var out, errb bytes.Buffer
	args = append(append([]string{"bench"}, args...), "--json", report, "--dir", dir)
	if err := run(context.Background(), args, testEnv(dir), strings.NewReader(""), &out, &errb); err != nil {
		t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
	}
	rep, err := bench.LoadReport(report)
	if err != nil {
		t.Fatal(err)
	}
	return rep, &out
}

func TestBenchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--url", "https://localhost:8443"},
		{"bench", "--scenarios", "get,nonsense"},
		{"bench", "--clients", "0"},
		{"bench", "--token", "cst_x"},
		{"bench", "--contacts", "3", "--owners", "4"},
		{"bench", "--shapes", "spread,nonsense"},
		{"bench", "--shapes", "org", "--contacts", "100", "--owners", "20"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), args, testEnv(t.TempDir()), strings.NewReader(""), &out, &out)
		if exitCode(err) != 2 {
			t.Errorf("%v: %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
	// A report from another format is refused rather than misread.
	old := filepath.Join(t.TempDir(), "old.json")
	os.WriteFile(old, []byte(`{"format":99}`), 0o600)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"bench", "--compare", old}, testEnv(t.TempDir()), strings.NewReader(""), &out, &out); err == nil {
		t.Error("a report of another format was accepted")
	}
}
