// Command custos is the Custos CRM: one binary that serves the web UI and
// the REST API and administers the data (see `custos help`).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/config"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/postgres"
	"github.com/custos-crm/custos/internal/seal"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/sqlite"
	"github.com/custos-crm/custos/internal/vault"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "custos:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError is a mistake on the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

// env carries the process environment into the subcommands, so tests can
// call run with their own.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name, summary string
	run           func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the CRM server (web UI and REST API over HTTPS)", runServe},
		{"migrate", "apply database migrations, or show the schema version", runMigrate},
		{"user", "manage users: add, list, set-password, set-role, disable, unlock, enrol-link", runUser},
		{"team", "teams and their members: list, add, set, remove, add-member, remove-member", runTeam},
		{"role", "built-in and custom roles: list, show, add, set, remove", runRole},
		{"token", "API tokens: create, list, revoke", runToken},
		{"keys", "field-encryption keys: status, rotate", runKeys},
		{"version", "print the version and build information", runVersion},
		{"bench", "measure throughput and latency on a seeded throw-away server (docs/performance.md)", runBench},
	}
}

const intro = `Custos is a self-hosted CRM in which client data is protected by default.

Usage:
  custos <command> [flags]

Commands:
`

// run is the whole program; main only supplies the process environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			return run(ctx, []string{args[1], "--help"}, getenv, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, intro)
		for _, c := range commands() {
			fmt.Fprintf(stdout, "  %-9s %s\n", c.name, c.summary)
		}
		fmt.Fprint(stdout, "\nRun `custos <command> --help` for the flags of a command.\n"+
			"Every flag can also be set as a CUSTOS_* environment variable or in a JSON file given by --config.\n")
		if len(args) == 0 {
			return usageError{"no command given"}
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	return usageError{fmt.Sprintf("unknown command %q; run `custos help`", args[0])}
}

// newFlags returns a flag set that prints its usage to stderr with a
// description, and the loader of the named config options.
func newFlags(e env, name, usage, description string, options ...string) (*flag.FlagSet, func() (*config.Config, error)) {
	fs := flag.NewFlagSet("custos "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: custos %s %s\n\n%s\n\nFlags:\n", name, usage, strings.TrimSpace(description))
		fs.PrintDefaults()
	}
	load := config.Register(fs, options...)
	return fs, func() (*config.Config, error) { return load(e.getenv) }
}

// parse parses flags and turns a flag mistake into a usage error.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// newLogger makes the structured logger.
func newLogger(c *config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// database is a store with its schema management: the embedded SQLite
// store or PostgreSQL.
type database interface {
	crm.Store
	Migrate(ctx context.Context) error
	SchemaVersion(ctx context.Context) (current, latest int, err error)
}

// openDB opens the configured store without migrating it.
func openDB(ctx context.Context, c *config.Config) (database, error) {
	if c.DB != "" {
		return postgres.Open(ctx, c.DB)
	}
	return sqlite.Open(ctx, c.DataDir)
}

// openStore opens and migrates the configured store.
func openStore(ctx context.Context, c *config.Config) (database, error) {
	db, err := openDB(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// services are the two services over one store: the client records and
// identity.
type services struct {
	records  *service.Service
	identity *identity.Service
	sealer   *seal.Sealer  // nil without a key-encryption key
	secrets  *seal.Secrets // TOTP seeds and the cursor key wrapped; nil without a key-encryption key
}

// newServices builds the service layer from the configuration; more adjust
// the identity options (serve adds the mailer and passkeys).
// kek, when not nil, seals every client's personal fields (internal/seal).
func newServices(c *config.Config, db crm.Store, log *slog.Logger, kek vault.KEK, more ...func(*identity.Options)) services {
	pol, err := policy.ParseVisibility(c.RecordVisibility)
	if err != nil {
		panic("custos: a validated configuration has a bad record-visibility: " + err.Error())
	}
	o := identity.Options{
		Policy:          pol,
		Hasher:          auth.NewHasher(auth.Params{Memory: uint32(c.Argon2Memory), Time: uint32(c.Argon2Time), Threads: uint8(c.Argon2Threads)}, c.HashWorkers),
		Logger:          log,
		IdleTimeout:     c.SessionIdle,
		AbsoluteTimeout: c.SessionAbsolute,
		StepUpWindow:    c.StepUpWindow,
		Throttle: auth.Throttle{AccountLimit: c.LockoutThreshold, Lockout: c.LockoutDuration,
			IPLimit: c.IPFailureLimit, IPWindow: c.IPFailureWindow},
	}
	for _, r := range c.MFARoleList() {
		o.MFARoles = append(o.MFARoles, crm.Role(r))
	}
	for _, f := range more {
		f(&o)
	}
	var hooks service.Hooks = service.NoHooks{}
	var sealer *seal.Sealer
	var secrets *seal.Secrets
	store := db
	if kek != nil {
		sealer = seal.New(kek, seal.CacheSize, seal.RawCacheSize)
		if c.CompanyNames == "plain" {
			sealer.KeepCompanyNamesPlain()
		}
		hooks = service.WithSealing(hooks, sealer)
		secrets = seal.NewSecrets(kek)
		store = secrets.Store(db)
	}
	return services{
		sealer: sealer, secrets: secrets,
		records: service.New(store, service.Options{Policy: pol, Logger: log, PhoneRegion: c.PhoneRegion, StepUpWindow: c.StepUpWindow,
			Hooks: hooks}),
		identity: identity.New(store, o),
	}
}
