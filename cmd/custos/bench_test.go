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
// that the JSON report parses. It never asserts timings.
func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a data set and starts a server")
	}
	dir := t.TempDir()
	report := filepath.Join(dir, "bench.json")
	var out, errb bytes.Buffer
	args := []string{"bench", "--contacts", "2000", "--owners", "4", "--duration", "1s", "--warmup", "200ms",
		"--clients", "4", "--json", report, "--dir", dir}
	if err := run(context.Background(), args, testEnv(dir), strings.NewReader(""), &out, &errb); err != nil {
		t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
	}
	rep, err := bench.LoadReport(report)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rep.Scenarios {
		names = append(names, r.Name)
		if r.Skipped != "" || r.Requests == 0 || r.Errors != 0 {
			t.Errorf("%s: skipped %q, %d requests, %d errors %v; want requests and no errors", r.Name, r.Skipped, r.Requests, r.Errors, r.ErrorSamples)
		}
	}
	if !slices.Equal(names, bench.ScenarioNames()) {
		t.Errorf("scenarios in the report: %v, want %v", names, bench.ScenarioNames())
	}
	s := rep.Settings
	if s.Sizes.Contacts != 2000 || s.Sizes.Activities != 6000 || s.Clients != 4 || rep.Seeding == nil || rep.Memory == nil || rep.DataDir == nil {
		t.Errorf("report settings %+v, seeding %v, memory %v, data dir %v", s, rep.Seeding, rep.Memory, rep.DataDir)
	}
	for _, want := range []string{"req/s", "p99", "get contact by id", "mixed", "peak RSS", "seeding"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, out.String())
		}
	}
	// The throw-away data directory is gone.
	if left, _ := filepath.Glob(filepath.Join(dir, "custos-bench-*")); len(left) > 0 {
		t.Errorf("data directories left behind: %v", left)
	}

	// A second, shorter run compares itself with the first.
	out.Reset()
	args = []string{"bench", "--contacts", "400", "--owners", "2", "--duration", "300ms", "--warmup", "0s",
		"--clients", "2", "--scenarios", "get,update", "--compare", report, "--dir", dir}
	if err := run(context.Background(), args, testEnv(dir), strings.NewReader(""), &out, &errb); err != nil {
		t.Fatalf("bench --compare: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "compared with") || !strings.Contains(out.String(), "update one field") {
		t.Errorf("compare output:\n%s", out.String())
	}
}

func TestBenchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--url", "https://localhost:8443"},
		{"bench", "--scenarios", "get,nonsense"},
		{"bench", "--clients", "0"},
		{"bench", "--token", "cst_x"},
		{"bench", "--contacts", "3", "--owners", "4"},
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
