package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
)

const roleHelp = `Manage roles (ACL-1). The six built-in roles (admin, manager, sales,
support, auditor, readonly) are fixed; a custom role is a named set of
actions with field policies (ACL-3), given to users with
"custos user set-role" or an invitation.

  custos role list
  custos role show --role R
  custos role add --name R [--label L] --permissions A,B,… [--field ENTITY.FIELD=LEVEL]… [--mfa]
  custos role set --role R [--label L] [--permissions A,B,…] [--field ENTITY.FIELD=LEVEL]… [--clear-fields] [--mfa=true|false]
  custos role remove --role R                 (only a role no user and no pending invitation holds)

Actions are <entities>.<verb> for contacts, companies, deals, activities
and tasks, with the verbs read, create, update, delete, transfer, share,
view_all and modify_all (e.g. contacts.read,contacts.update), and
pipelines.manage, users.manage, users.read, tokens.own.

A field policy gives one field one level: hidden, masked, read or edit
(e.g. --field contact.phone=masked --field contact.notes=hidden). Only
personal details and free text can be hidden or masked: contact email,
phone, title, address, birthday, notes; company domain, phone, address,
notes; deal notes; activity body; task description. A field a role does
not name is editable when the role may create or change the entity.

A role with users.manage always requires a second factor to sign in; --mfa
requires one for any role. Changes hold for the role's users from their
next request.`

// fieldFlags collects repeated --field ENTITY.FIELD=LEVEL flags.
type fieldFlags map[string]crm.FieldLevel

func (f fieldFlags) String() string { return "" }

func (f fieldFlags) Set(v string) error {
	key, level, ok := strings.Cut(v, "=")
	if !ok || key == "" {
		return fmt.Errorf("want ENTITY.FIELD=LEVEL, e.g. contact.phone=masked")
	}
	f[strings.TrimSpace(key)] = crm.FieldLevel(strings.TrimSpace(level))
	return nil
}

func runRole(ctx context.Context, e env, args []string) error {
	sub, args, err := subcommand(e, "role", roleHelp, args)
	if sub == "" {
		return err
	}
	fs, load := newFlags(e, "role "+sub, "[flags]", roleHelp, "data", "db", "db-insecure", "config", "log-level", "log-format", "mfa-roles")
	roleArg := fs.String("role", "", "the role's name")
	name := fs.String("name", "", "the new role's name: 2 to 32 lower-case letters, digits, - and _")
	label := fs.String("label", "", "a display name")
	perms := fs.String("permissions", "", "the actions the role grants, comma-separated")
	fields := fieldFlags{}
	fs.Var(fields, "field", "a field policy ENTITY.FIELD=LEVEL (hidden, masked, read, edit); repeat for more")
	clear := fs.Bool("clear-fields", false, "remove every field policy of the role (before any --field)")
	mfa := fs.Bool("mfa", false, "require a second factor to sign in")
	if err := parse(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	svc, done, err := openIdentity(ctx, e, load)
	if err != nil {
		return err
	}
	defer done()
	sys := crm.SystemPrincipal()
	in := crm.RoleInput{}
	if set["label"] {
		in.Label = label
	}
	if set["permissions"] {
		list := []string{}
		for _, a := range strings.Split(*perms, ",") {
			if a = strings.TrimSpace(a); a != "" {
				list = append(list, a)
			}
		}
		in.Permissions = &list
	}
	if set["mfa"] {
		in.MFA = mfa
	}
	if len(fields) > 0 || *clear {
		m := map[string]crm.FieldLevel{}
		in.Fields = &m
	}
	needRole := func() (crm.Role, error) {
		if *roleArg == "" {
			return "", usageError{"--role is required"}
		}
		return crm.Role(*roleArg), nil
	}
	switch sub {
	case "list":
		roles, err := svc.FindRoles(ctx, sys)
		if err != nil {
			return cliError(err)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ROLE\tKIND\tMFA\tACTIONS\tFIELDS")
		for _, d := range roles {
			kind := "custom"
			if d.Builtin {
				kind = "built-in"
			}
			fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%s\n", d.Name, kind, d.MFA, len(d.Permissions), fieldList(d))
		}
		return tw.Flush()
	case "show":
		r, err := needRole()
		if err != nil {
			return err
		}
		d, err := svc.FindRole(ctx, sys, r)
		if err != nil {
			return cliError(err)
		}
		printRole(e, d)
	case "add":
		if *name == "" {
			return usageError{"--name is required"}
		}
		if !set["permissions"] {
			return usageError{"--permissions is required (it may be empty: --permissions '')"}
		}
		in.Name = name
		if in.Fields != nil {
			for k, v := range fields {
				(*in.Fields)[k] = v
			}
		}
		d, err := svc.CreateRole(ctx, sys, in)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "created role %s\n", d.Name)
		printRole(e, d)
	case "set":
		r, err := needRole()
		if err != nil {
			return err
		}
		if in.Fields != nil && !*clear {
			// --field without --clear-fields changes the named fields and
			// keeps the others.
			cur, err := svc.FindRole(ctx, sys, r)
			if err != nil {
				return cliError(err)
			}
			for k, v := range cur.Fields {
				(*in.Fields)[k] = v
			}
		}
		if in.Fields != nil {
			for k, v := range fields {
				(*in.Fields)[k] = v
			}
		}
		d, err := svc.UpdateRole(ctx, sys, r, in, 0)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "updated role %s (version %d)\n", d.Name, d.Version)
		printRole(e, d)
	case "remove":
		r, err := needRole()
		if err != nil {
			return err
		}
		if err := svc.DeleteRole(ctx, sys, r); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "removed role %s\n", r)
	default:
		fmt.Fprintln(e.stderr, roleHelp)
		return usageError{"role: unknown subcommand " + sub}
	}
	return nil
}

// fieldList is a role's field policies as "entity.field=level, …".
func fieldList(d *crm.RoleDef) string {
	var out []string
	for k, v := range d.Fields {
		out = append(out, k+"="+string(v))
	}
	slices.Sort(out)
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ", ")
}

// printRole prints one role: its actions by entity, then its fields.
func printRole(e env, d *crm.RoleDef) {
	fmt.Fprintf(e.stdout, "role %s", d.Name)
	if d.Label != "" {
		fmt.Fprintf(e.stdout, " (%s)", d.Label)
	}
	fmt.Fprintf(e.stdout, "; second factor required: %v\n", d.MFA)
	for _, entity := range policy.EntityOrder {
		var verbs []string
		for _, v := range policy.Verbs {
			if d.Has(string(policy.On(entity, v))) {
				verbs = append(verbs, string(v))
			}
		}
		if len(verbs) > 0 {
			fmt.Fprintf(e.stdout, "  %-10s %s\n", policy.Entities[entity], strings.Join(verbs, ", "))
		}
	}
	var admin []string
	for _, a := range policy.AdminActions {
		if d.Has(string(a)) {
			admin = append(admin, string(a))
		}
	}
	if len(admin) > 0 {
		fmt.Fprintf(e.stdout, "  %-10s %s\n", "other", strings.Join(admin, ", "))
	}
	fmt.Fprintf(e.stdout, "  %-10s %s\n", "fields", fieldList(d))
}
