package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
)

const teamHelp = `Manage teams (ACL-2). A manager sees and edits the records of the teams
they manage and of every team below them; a user is a member of one team at
most, and the records a user owns belong to the user's team.

  custos team list
  custos team add --name N [--parent TEAM] [--manager EMAIL]
  custos team set --team TEAM [--name N] [--parent TEAM | --top] [--manager EMAIL | --no-manager]
  custos team remove --team TEAM                      (only a team without members and sub-teams)
  custos team add-member --team TEAM --email E        (moves the user, and the records they own, from any other team)
  custos team remove-member --team TEAM --email E

TEAM is a team's id or its name.`

func runTeam(ctx context.Context, e env, args []string) error {
	sub, args, err := subcommand(e, "team", teamHelp, args)
	if sub == "" {
		return err
	}
	fs, load := newFlags(e, "team "+sub, "[flags]", teamHelp, "data", "db", "db-insecure", "config", "log-level", "log-format")
	teamArg := fs.String("team", "", "the team: its id or its name")
	name := fs.String("name", "", "the team's name")
	parent := fs.String("parent", "", "the parent team: its id or its name")
	top := fs.Bool("top", false, "make the team a top-level team")
	manager := fs.String("manager", "", "the manager's email address")
	noManager := fs.Bool("no-manager", false, "leave the team without a manager")
	email := fs.String("email", "", "the member's email address")
	if err := parse(fs, args); err != nil {
		return err
	}
	svc, done, err := openIdentity(ctx, e, load)
	if err != nil {
		return err
	}
	defer done()
	sys := crm.SystemPrincipal()
	teams, err := svc.FindTeams(ctx, sys)
	if err != nil {
		return cliError(err)
	}
	find := func(flag, ref string) (*crm.Team, error) {
		if ref == "" {
			return nil, usageError{"--" + flag + " is required"}
		}
		return teamByRef(teams, ref)
	}
	user := func(flag, addr string) (*crm.User, error) {
		if addr == "" {
			return nil, usageError{"--" + flag + " is required"}
		}
		u, err := svc.FindUserByEmail(ctx, sys, addr)
		return u, cliError(err)
	}
	in := crm.TeamInput{}
	if *name != "" {
		in.Name = name
	}
	switch {
	case *top && *parent != "":
		return usageError{"give --parent or --top, not both"}
	case *top:
		in.ParentID = crm.Null[int64]()
	case *parent != "":
		pt, err := find("parent", *parent)
		if err != nil {
			return err
		}
		in.ParentID = crm.Value(pt.ID)
	}
	switch {
	case *noManager && *manager != "":
		return usageError{"give --manager or --no-manager, not both"}
	case *noManager:
		in.ManagerID = crm.Null[int64]()
	case *manager != "":
		u, err := user("manager", *manager)
		if err != nil {
			return err
		}
		in.ManagerID = crm.Value(u.ID)
	}
	switch sub {
	case "list":
		return printTeams(e, svc, ctx, teams)
	case "add":
		if *name == "" {
			return usageError{"--name is required"}
		}
		tm, err := svc.CreateTeam(ctx, sys, in)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "created team %d %q\n", tm.ID, tm.Name)
	case "set":
		tm, err := find("team", *teamArg)
		if err != nil {
			return err
		}
		if tm, err = svc.UpdateTeam(ctx, sys, tm.ID, in, 0); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "updated team %d %q\n", tm.ID, tm.Name)
	case "remove":
		tm, err := find("team", *teamArg)
		if err != nil {
			return err
		}
		if err := svc.DeleteTeam(ctx, sys, tm.ID); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "removed team %d %q\n", tm.ID, tm.Name)
	case "add-member", "remove-member":
		tm, err := find("team", *teamArg)
		if err != nil {
			return err
		}
		u, err := user("email", *email)
		if err != nil {
			return err
		}
		change, verb := svc.AddTeamMember, "added"
		if sub == "remove-member" {
			change, verb = svc.RemoveTeamMember, "removed"
		}
		if _, err := change(ctx, sys, tm.ID, u.ID); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "%s <%s> %s team %d %q\n", verb, u.Email, map[bool]string{true: "to", false: "from"}[verb == "added"], tm.ID, tm.Name)
	default:
		fmt.Fprintln(e.stderr, teamHelp)
		return usageError{"team: unknown subcommand " + sub}
	}
	return nil
}

// teamByRef finds a team by id or by name, compared in lower case as the
// store keeps names unique. A reference that is one team's id and another
// team's name is refused as ambiguous.
func teamByRef(teams []*crm.Team, ref string) (*crm.Team, error) {
	var byID, byName *crm.Team
	id, idErr := strconv.ParseInt(ref, 10, 64)
	want := strings.ToLower(strings.TrimSpace(ref)) // the store's rule, not Unicode case folding
	for _, t := range teams {
		if idErr == nil && t.ID == id {
			byID = t
		}
		if name := strings.ToLower(t.Name); name == want {
			byName = t
		}
	}
	switch {
	case byID != nil && byName != nil && byID != byName:
		return nil, fmt.Errorf("%q is team %d's id and team %d's name; rename one of them", ref, byID.ID, byName.ID)
	case byID != nil:
		return byID, nil
	case byName != nil:
		return byName, nil
	}
	return nil, fmt.Errorf("no team %q (see custos team list)", ref)
}

// printTeams prints the tree: each team under its parent, with its
// manager and members.
func printTeams(e env, svc *identity.Service, ctx context.Context, teams []*crm.Team) error {
	users, err := svc.FindUsers(ctx, crm.SystemPrincipal())
	if err != nil {
		return cliError(err)
	}
	email := map[int64]string{}
	for _, u := range users {
		email[u.ID] = u.Email
	}
	children := map[int64][]*crm.Team{}
	for _, t := range teams {
		var parent int64
		if t.ParentID != nil {
			parent = *t.ParentID
		}
		children[parent] = append(children[parent], t)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTEAM\tMANAGER\tMEMBERS")
	var walk func(parent int64, depth int)
	walk = func(parent int64, depth int) {
		for _, t := range children[parent] {
			mgr := "-"
			if t.ManagerID != nil {
				mgr = email[*t.ManagerID]
			}
			members := make([]string, len(t.Members))
			for i, m := range t.Members {
				members[i] = email[m]
			}
			fmt.Fprintf(tw, "%d\t%s%s\t%s\t%s\n", t.ID, strings.Repeat("  ", depth), t.Name, mgr, strings.Join(members, ", "))
			if depth < len(teams) {
				walk(t.ID, depth+1)
			}
		}
	}
	walk(0, 0)
	return tw.Flush()
}
