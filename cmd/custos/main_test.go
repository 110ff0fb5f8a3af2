package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/config"
)

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, func(string) string { return "" }, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, c := range commands() {
		if !strings.Contains(out.String(), c.name) {
			t.Errorf("help does not list %s", c.name)
		}
	}
	// Every command explains itself with --help (CORE-3).
	for _, args := range [][]string{{"serve", "--help"}, {"migrate", "--help"}, {"user", "--help"}, {"token", "--help"}, {"version", "--help"}} {
		var o, e bytes.Buffer
		err := run(context.Background(), args, func(string) string { return "" }, nil, &o, &e)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%v: %v", args, err)
		}
		if len(e.String()+o.String()) < 80 {
			t.Errorf("%v: help too short: %q", args, e.String()+o.String())
		}
	}
	err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, nil, &out, &out)
	if exitCode(err) != 2 {
		t.Errorf("unknown command: %v (exit %d)", err, exitCode(err))
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "custos ") || !strings.Contains(out.String(), "go go1.") {
		t.Errorf("version: %q", out.String())
	}
}

// TestReadmeDocumentsConfig keeps the README's configuration table true.
func TestReadmeDocumentsConfig(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range config.Table() {
		line := "| `" + row[0] + "` | `" + row[1] + "` |"
		if !bytes.Contains(readme, []byte(line)) {
			t.Errorf("README lacks the row for %s (%s)", row[0], row[1])
		}
	}
}

func TestUserAndTokenCLI(t *testing.T) {
	dir := t.TempDir()
	env := testEnv(dir)
	var out, errb bytes.Buffer
	// Weak passwords are refused with the reason.
	err := run(context.Background(), []string{"user", "add", "--email", "a@example.com", "--role", "admin", "--password-stdin"}, env, strings.NewReader("password123\n"), &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("weak password: %v", err)
	}
	// The password is never taken from the command line.
	err = run(context.Background(), []string{"user", "add", "--email", "a@example.com", "--role", "admin"}, env, strings.NewReader(""), &out, &errb)
	if exitCode(err) != 2 {
		t.Fatalf("without --password-stdin: %v", err)
	}
	// An administrator's password enrols no second factor: "user add"
	// prints the one-time enrolment link (issue 9 item 4); a sales user
	// gets none; "user enrol-link" makes a new one.
	added := runCLI(t, dir, "a perfectly fine passphrase\n", "user", "add", "--email", "a@example.com", "--role", "admin", "--password-stdin")
	link := regexp.MustCompile(`https://\S+/enrol/[A-Z2-7]{40,}`).FindString(added)
	if link == "" {
		t.Errorf("user add --role admin printed no enrolment link: %q", added)
	}
	if got := runCLI(t, dir, "a perfectly fine passphrase\n", "user", "add", "--email", "s@example.com", "--role", "sales", "--password-stdin"); strings.Contains(got, "/enrol/") {
		t.Errorf("a sales user got an enrolment link: %q", got)
	}
	again := runCLI(t, dir, "", "user", "enrol-link", "--email", "a@example.com")
	if l := regexp.MustCompile(`https://\S+/enrol/[A-Z2-7]{40,}`).FindString(again); l == "" || l == link {
		t.Errorf("user enrol-link: %q (the first link was %q)", again, link)
	}
	if got := runCLI(t, dir, "", "user", "list"); !strings.Contains(got, "a@example.com") || !strings.Contains(got, "admin") {
		t.Errorf("user list: %q", got)
	}
	err = run(context.Background(), []string{"token", "create", "--email", "a@example.com", "--scope", "root"}, env, strings.NewReader(""), &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "scope") {
		t.Errorf("bad scope: %v", err)
	}
	err = run(context.Background(), []string{"token", "create", "--email", "nobody@example.com"}, env, strings.NewReader(""), &out, &errb)
	if err == nil {
		t.Error("token for an unknown user")
	}
	got := runCLI(t, dir, "", "migrate", "--status")
	if !strings.Contains(got, "schema version") {
		t.Errorf("migrate --status: %q", got)
	}
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/custos.json"
	os.WriteFile(file, []byte(`{"listen":"127.0.0.1:1111","log-level":"debug","phone-region":"GB"}`), 0o600)
	env := map[string]string{"CUSTOS_CONFIG": file, "CUSTOS_LISTEN": "127.0.0.1:2222", "CUSTOS_LOG_LEVEL": "warn"}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	load := config.Register(fs)
	if err := fs.Parse([]string{"--listen", "127.0.0.1:3333"}); err != nil {
		t.Fatal(err)
	}
	c, err := load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:3333" || c.LogLevel != "warn" || c.PhoneRegion != "GB" || c.DataDir != "./custos-data" {
		t.Errorf("precedence: %+v", c)
	}
	for _, bad := range []map[string]string{
		{"CUSTOS_LISTEN": "nope"}, {"CUSTOS_RECORD_VISIBILITY": "everyone"}, {"CUSTOS_ARGON2_MEMORY": "1024"},
		{"CUSTOS_TLS_CERT": "x.pem"}, {"CUSTOS_SESSION_IDLE": "soon"},
		{"CUSTOS_DB": "mysql://db/x"},
		{"CUSTOS_DB": "postgres://custos@db.example.com/crm"},
		{"CUSTOS_DB": "postgres://custos@db.example.com/crm?sslmode=require"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		if _, err := config.Register(fs)(func(k string) string { return bad[k] }); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	os.WriteFile(file, []byte(`{"listne":"x"}`), 0o600)
	fs = flag.NewFlagSet("t", flag.ContinueOnError)
	if _, err := config.Register(fs)(func(k string) string { return map[string]string{"CUSTOS_CONFIG": file}[k] }); err == nil {
		t.Error("unknown key in config file accepted")
	}
}

// TestDBURLPolicy: a remote PostgreSQL must be verified (ASVS v5.0.0-12.3.2).
func TestDBURLPolicy(t *testing.T) {
	for url, ok := range map[string]bool{
		"postgres://custos@127.0.0.1:5432/crm?sslmode=disable":                    true,
		"postgres://custos@localhost/crm":                                         true,
		"postgres:///crm?host=/var/run/postgresql":                                true,
		"postgres://custos@db.example.com/crm?sslmode=verify-full&sslrootcert=ca": true,
		"postgres://custos@db.example.com/crm?sslmode=prefer":                     false,
		"postgres://custos@10.0.0.5/crm":                                          false,
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		_, err := config.Register(fs)(func(k string) string { return map[string]string{"CUSTOS_DB": url}[k] })
		if (err == nil) != ok {
			t.Errorf("%s: err %v, want ok=%v", url, err, ok)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	env := map[string]string{"CUSTOS_DB": "postgres://custos@db.example.com/crm", "CUSTOS_DB_INSECURE": "true"}
	if _, err := config.Register(fs)(func(k string) string { return env[k] }); err != nil {
		t.Errorf("--db-insecure: %v", err)
	}
}
