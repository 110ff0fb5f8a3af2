package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/custos-crm/custos/internal/config"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
)

func runMigrate(ctx context.Context, e env, args []string) error {
	fs, load := newFlags(e, "migrate", "[--status] [flags]", `Apply the embedded database migrations, each in its own transaction.
"serve" migrates on start too. A database whose schema is newer than this
binary is refused: upgrade custos instead.`, "data", "db", "db-insecure", "config", "log-level", "log-format")
	status := fs.Bool("status", false, "only print the current and latest schema version")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := load()
	if err != nil {
		return usageError{err.Error()}
	}
	db, err := openDB(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	if !*status {
		if err := db.Migrate(ctx); err != nil {
			return err
		}
	}
	cur, latest, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "schema version %d (this binary's latest: %d)\n", cur, latest)
	return nil
}

// subcommand splits off the subcommand of an administration command. With
// none it prints help and returns "" with nil for -h/--help, else a usage
// error.
func subcommand(e env, name, help string, args []string) (string, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(e.stderr, help)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			return "", nil, nil
		}
		return "", nil, usageError{name + ": missing subcommand"}
	}
	return args[0], args[1:], nil
}

// openIdentity loads the configuration and opens the store for an
// administration command, returning the identity service over it and the
// function that closes the store.
func openIdentity(ctx context.Context, e env, load func() (*config.Config, error)) (*identity.Service, func(), error) {
	c, err := load()
	if err != nil {
		return nil, nil, usageError{err.Error()}
	}
	db, err := openStore(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	return newServices(c, db, newLogger(c, e.stderr), nil).identity, func() { db.Close() }, nil
}

// readSecret reads one line from standard input.
func readSecret(e env) (string, error) {
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", usageError{"expected the password on standard input"}
	}
	return strings.TrimRight(line, "\r\n"), nil
}

const userHelp = `Manage users.

  custos user add --email E --role R [--name N] [--language en|ru] --password-stdin
  custos user list
  custos user set-password --email E --password-stdin   (ends the user's sessions, revokes their API tokens)
  custos user disable --email E                          (ends the user's sessions, revokes their API tokens)
  custos user set-role --email E --role R                (ends the user's sessions, revokes their API tokens)
  custos user unlock --email E                           (lifts a lockout after failed sign-ins)
  custos user enrol-link --email E                       (prints a one-time link to set up a second factor)

Roles: admin, manager, sales, support, auditor, readonly, or a custom role
(custom roles: custos role). The last enabled administrator can be neither
disabled nor given another role. A role that
requires a second factor (--mfa-roles; admin always) cannot enrol one with
the password alone: "user add" prints the new user's one-time enrolment
link, and "user enrol-link" a new one for a user who has lost every factor.

Passwords are 12 to 128 characters and are refused when on the bundled list
of common passwords, repetitive or sequential (aaaa…, 1234…), or built on
the user's own email or name.`

func runUser(ctx context.Context, e env, args []string) error {
	sub, args, err := subcommand(e, "user", userHelp, args)
	if sub == "" {
		return err
	}
	fs, load := newFlags(e, "user "+sub, "[flags]", userHelp, "data", "db", "db-insecure", "config", "log-level", "log-format", "argon2-memory", "argon2-time", "argon2-threads")
	email := fs.String("email", "", "the user's email address")
	role := fs.String("role", "", "role: admin, manager, sales, support, auditor, readonly, or a custom role's name")
	name := fs.String("name", "", "display name (default: the email)")
	lang := fs.String("language", "en", "interface language: en or ru")
	stdinPw := fs.Bool("password-stdin", false, "read the password from standard input")
	if err := parse(fs, args); err != nil {
		return err
	}
	svc, done, err := openIdentity(ctx, e, load)
	if err != nil {
		return err
	}
	defer done()
	sys := crm.SystemPrincipal()

	needEmail := func() error {
		if *email == "" {
			return usageError{"--email is required"}
		}
		return nil
	}
	switch sub {
	case "add":
		if err := needEmail(); err != nil {
			return err
		}
		if !*stdinPw {
			return usageError{"pass the password on standard input with --password-stdin (it never goes on the command line)"}
		}
		pw, err := readSecret(e)
		if err != nil {
			return err
		}
		r := crm.Role(*role)
		in := crm.UserInput{Email: email, Role: &r, Password: &pw, Language: lang}
		if *name != "" {
			in.Name = name
		}
		u, err := svc.CreateUser(ctx, sys, in)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "created user %d <%s> with role %s\n", u.ID, u.Email, u.Role)
		if mfa, err := svc.RoleRequiresMFA(ctx, u.Role); err != nil {
			return cliError(err)
		} else if mfa {
			// The role requires a second factor, which the password alone
			// cannot enrol: hand the operator the user's enrolment link.
			link, err := svc.IssueEnrolmentLink(ctx, sys, u.ID)
			if err != nil {
				return cliError(err)
			}
			fmt.Fprintf(e.stdout, "the role requires a second factor: give the user this one-time enrolment link (valid %d hours), where they sign in with the password and set it up:\n  %s\n", int(crm.EnrolTTL.Hours()), link)
		}
	case "enrol-link":
		if err := needEmail(); err != nil {
			return err
		}
		u, err := svc.FindUserByEmail(ctx, sys, *email)
		if err != nil {
			return cliError(err)
		}
		link, err := svc.IssueEnrolmentLink(ctx, sys, u.ID)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "one-time enrolment link for <%s> (valid %d hours; earlier links no longer work):\n  %s\n", u.Email, int(crm.EnrolTTL.Hours()), link)
	case "list":
		users, err := svc.FindUsers(ctx, sys)
		if err != nil {
			return cliError(err)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tSTATUS\tLAST LOGIN")
		for _, u := range users {
			status, last := "active", "never"
			if u.Disabled {
				status = "disabled"
			} else if u.LockedUntil != nil && u.LockedUntil.After(time.Now()) {
				status = "locked until " + u.LockedUntil.Format(time.RFC3339)
			}
			if u.LastLoginAt != nil {
				last = u.LastLoginAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Name, u.Role, status, last)
		}
		return tw.Flush()
	case "set-password", "disable", "set-role":
		if err := needEmail(); err != nil {
			return err
		}
		u, err := svc.FindUserByEmail(ctx, sys, *email)
		if err != nil {
			return cliError(err)
		}
		in := crm.UserInput{}
		switch sub {
		case "disable":
			t := true
			in.Disabled = &t
		case "set-role":
			if *role == "" {
				return usageError{"--role is required"}
			}
			r := crm.Role(*role)
			in.Role = &r
		default:
			if !*stdinPw {
				return usageError{"pass the password on standard input with --password-stdin"}
			}
			pw, err := readSecret(e)
			if err != nil {
				return err
			}
			in.Password = &pw
		}
		if _, err := svc.UpdateUser(ctx, sys, u.ID, in); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "updated user %d <%s>; their sessions have ended\n", u.ID, u.Email)
	case "unlock":
		if err := needEmail(); err != nil {
			return err
		}
		u, err := svc.FindUserByEmail(ctx, sys, *email)
		if err != nil {
			return cliError(err)
		}
		if err := svc.UnlockUser(ctx, sys, u.ID); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "unlocked user %d <%s>\n", u.ID, u.Email)
	default:
		return usageError{fmt.Sprintf("user: unknown subcommand %q", sub)}
	}
	return nil
}

const tokenHelp = `Create, list and revoke API tokens. A new token is shown only once;
Custos stores only its hash. Use it as "Authorization: Bearer <token>".

  custos token create --email E --scope read|write [--ttl 720h] [--name N]
  custos token list --email E      (every token of the user: scope, expiry,
                                    last use and its address, revocation)
  custos token revoke --id N       (incident response; the id is in the list)`

func runToken(ctx context.Context, e env, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	if sub != "create" && sub != "list" && sub != "revoke" {
		fmt.Fprintln(e.stderr, tokenHelp)
		if sub == "-h" || sub == "--help" || sub == "-help" {
			return nil
		}
		return usageError{"token: expected the subcommand create, list or revoke"}
	}
	fs, load := newFlags(e, "token "+sub, "[flags]", tokenHelp, "data", "db", "db-insecure", "config", "log-level", "log-format")
	email := fs.String("email", "", "the user the token acts as (create, list)")
	scope := fs.String("scope", "read", "read (GET only) or write (create)")
	ttl := fs.Duration("ttl", 30*24*time.Hour, "lifetime, e.g. 24h or 720h, at most 8784h (create)")
	name := fs.String("name", "cli", "a name to recognise the token by (create)")
	id := fs.Int64("id", 0, "the token to revoke (revoke)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if sub == "revoke" && *id <= 0 {
		return usageError{"--id is required"}
	} else if sub != "revoke" && *email == "" {
		return usageError{"--email is required"}
	}
	svc, done, err := openIdentity(ctx, e, load)
	if err != nil {
		return err
	}
	defer done()
	sys := crm.SystemPrincipal()
	if sub == "revoke" {
		if err := svc.RevokeToken(ctx, sys, *id); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "token %d revoked\n", *id)
		return nil
	}
	u, err := svc.FindUserByEmail(ctx, sys, *email)
	if err != nil {
		return cliError(err)
	}
	if sub == "list" {
		list, err := svc.FindUserTokens(ctx, sys, u.ID)
		if err != nil {
			return cliError(err)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPE\tPREFIX\tCREATED\tEXPIRES\tLAST USED\tFROM\tSTATUS")
		now := time.Now()
		for _, t := range list {
			last, status := "never", "active"
			if t.LastUsedAt != nil {
				last = t.LastUsedAt.UTC().Format(time.RFC3339)
			}
			if t.RevokedAt != nil {
				status = "revoked " + t.RevokedAt.UTC().Format(time.RFC3339)
			} else if now.After(t.ExpiresAt) {
				status = "expired"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Scope, t.Prefix,
				t.CreatedAt.UTC().Format(time.RFC3339), t.ExpiresAt.UTC().Format(time.RFC3339), last, orDash(t.LastUsedIP), status)
		}
		return tw.Flush()
	}
	nt, err := svc.CreateToken(ctx, sys, u.ID, *name, crm.TokenScope(*scope), *ttl)
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintln(e.stdout, nt.Secret)
	return nil
}

// orDash is s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cliError turns a service error into a readable message with the fields.
func cliError(err error) error {
	var ce *crm.Error
	if !errors.As(err, &ce) {
		return err
	}
	msg := ce.Message
	for f, reason := range ce.Fields {
		msg += fmt.Sprintf("; %s: %s", f, reason)
	}
	return errors.New(msg)
}
