//go:build ignore

// mutate applies hand-written mutations of the security code, one at a
// time, to a scratch copy of the repository, and checks that the tests
// named for each fail with the mutation in place (a mutation that leaves
// them passing "survives": the check it breaks is not tested). With
// -gremlins it also runs the gremlins mutation tool over the given
// packages. See docs/testing.md.
//
//	go run scripts/mutate.go [-only id,id] [-gremlins ./internal/auth,./internal/policy]
//
// PostgreSQL mutants need CUSTOS_TEST_POSTGRES, as the tests do; without
// it they are reported as skipped, not as killed.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

type mutant struct {
	id, file, old, new, pkg, run, why string
	accepted                          string // why surviving is harmless ("survives: …")
}

func main() {
	only := flag.String("only", "", "comma-separated mutant ids to run (default: all)")
	gremlins := flag.String("gremlins", "", "comma-separated packages to run gremlins over as well")
	list := flag.String("mutants", "scripts/mutants.txt", "the mutants file")
	flag.Parse()
	ms, err := load(*list)
	if err != nil {
		fail(err)
	}
	want := map[string]bool{}
	for _, id := range strings.Split(*only, ",") {
		if id != "" {
			want[id] = true
		}
	}
	root, err := filepath.Abs(".")
	if err != nil {
		fail(err)
	}
	scratch, err := os.MkdirTemp("", "custos-mutate-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(scratch)
	// A copy of the working tree as it is (committed or not), so that the
	// checkout itself is never touched.
	if out, err := exec.Command("cp", "-a", root+"/.", scratch).CombinedOutput(); err != nil {
		fail(fmt.Errorf("copy: %v: %s", err, out))
	}
	fmt.Println("| mutant | file | killed by | result |")
	fmt.Println("|---|---|---|---|")
	survived := 0
	for _, m := range ms {
		if len(want) > 0 && !want[m.id] {
			continue
		}
		res := apply(scratch, m)
		if res == "SURVIVED" && m.accepted != "" {
			res = "SURVIVED (accepted: " + m.accepted + ")"
		} else if res == "SURVIVED" || strings.HasPrefix(res, "STALE") || strings.HasPrefix(res, "NOT VIABLE") {
			survived++
		}
		fmt.Printf("| `%s`: %s | %s | `%s` %s | %s |\n", m.id, m.why, m.file, m.pkg, m.run, res)
	}
	if *gremlins != "" {
		for _, pkg := range strings.Split(*gremlins, ",") {
			cmd := exec.Command("gremlins", "unleash", pkg, "--workers", "1", "--timeout-coefficient", "10")
			cmd.Dir, cmd.Stdout, cmd.Stderr = scratch, os.Stdout, os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "gremlins %s: %v\n", pkg, err)
			}
		}
	}
	if survived > 0 {
		fmt.Fprintf(os.Stderr, "%d mutants survived, are stale or do not compile\n", survived)
		os.Exit(1)
	}
}

// apply makes the mutation in the scratch copy, runs the tests and puts
// the file back. It returns KILLED, SURVIVED, SKIPPED, NOT VIABLE (the
// mutant does not compile) or STALE (the code to mutate is not there
// exactly once): the last two mean the list needs updating.
func apply(dir string, m mutant) string {
	path := filepath.Join(dir, m.file)
	orig, err := os.ReadFile(path)
	if err != nil {
		return "STALE (" + err.Error() + ")"
	}
	if n := bytes.Count(orig, []byte(m.old)); n != 1 {
		return fmt.Sprintf("STALE (found %d times)", n)
	}
	mutated := bytes.Replace(orig, []byte(m.old), []byte(m.new), 1)
	if err := os.WriteFile(path, mutated, 0o644); err != nil {
		fail(err)
	}
	defer os.WriteFile(path, orig, 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	args := []string{"test", "-count=1", "-failfast"}
	if m.run != "" {
		args = append(args, "-run", m.run)
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "-v", m.pkg)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	switch {
	case bytes.Contains(out, []byte("[build failed]")) || bytes.Contains(out, []byte("[setup failed]")):
		return "NOT VIABLE (does not compile: fix the mutant)"
	case err != nil:
		return "KILLED"
	case bytes.Contains(out, []byte("--- SKIP")) && !bytes.Contains(out, []byte("--- PASS")):
		return "SKIPPED (" + firstSkip(out) + ")"
	default:
		return "SURVIVED"
	}
}

func firstSkip(out []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); strings.Contains(l, "is not set") {
			return "CUSTOS_TEST_POSTGRES not set"
		}
	}
	return "skipped"
}

// load reads the mutants file: blocks of "key: value" lines separated by
// blank lines; old and new may be Go-quoted strings (for tabs and
// newlines).
func load(name string) ([]mutant, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var out []mutant
	for i, block := range strings.Split(string(b), "\n\n") {
		var m mutant
		for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, ": ")
			if !ok {
				return nil, fmt.Errorf("%s: block %d: %q is not key: value", name, i+1, line)
			}
			if strings.HasPrefix(v, `"`) {
				if v, err = strconv.Unquote(v); err != nil {
					return nil, fmt.Errorf("%s: block %d: %s: %v", name, i+1, k, err)
				}
			}
			switch k {
			case "id":
				m.id = v
			case "file":
				m.file = v
			case "old":
				m.old = v
			case "new":
				m.new = v
			case "pkg":
				m.pkg = v
			case "run":
				m.run = v
			case "why":
				m.why = v
			case "survives":
				m.accepted = v
			default:
				return nil, fmt.Errorf("%s: block %d: unknown key %q", name, i+1, k)
			}
		}
		if m.id == "" {
			continue
		}
		if m.file == "" || m.old == "" || m.pkg == "" {
			return nil, fmt.Errorf("%s: mutant %s lacks file, old or pkg", name, m.id)
		}
		out = append(out, m)
	}
	return out, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mutate:", err)
	os.Exit(2)
}
