package sqlstore

import (
	"strings"

	"github.com/custos-crm/custos/internal/crm"
)

// A crm.Scope as SQL (ACL-2, ACL-4): the records a principal may see or
// change are a predicate of the query itself, so that no list, count or
// cursor ever holds a record outside it. A record is in a scope when
//
//   - the scope is All, or
//   - the user owns it (or, for tasks with Assignee, is its assignee), or
//   - it belongs to one of the scope's Teams, or
//   - with Shared, a share of it names the user or one of ShareTeams and
//     has not expired (with ShareWrite, a share that allows changes).

// tables names each entity's table.
var tables = map[string]string{
	"contact": "contacts", "company": "companies", "deal": "deals", "activity": "activities", "task": "tasks",
}

// shareCond is the condition that a share of the row of table (an entity
// of that table) grants the scope's user or teams access: the correlated
// form, for a read by id and for the rows of a list.
func shareCond(d Dialect, entity string) string {
	teams, _ := d.InIDs("sh.team_id", nil)
	return "EXISTS (SELECT 1 FROM shares sh WHERE sh.entity = '" + entity + "' AND sh.record_id = " +
		tables[entity] + ".id AND (sh.user_id = ? OR " + teams + ") AND (sh.expires_at IS NULL OR sh.expires_at > ?)" +
		" AND (? OR sh.access = 'write'))"
}

// shareArgs are the arguments of shareCond.
func shareArgs(d Dialect, s crm.Scope, now int64) []any {
	_, teams := d.InIDs("sh.team_id", s.ShareTeams)
	return []any{s.OwnerID, teams, now, !s.ShareWrite}
}

// byIDSQL is the read of one live (or, with deleted, soft-deleted) row of
// entity by id in any scope: one text per entity and dialect, whatever the
// scope, so that it is prepared once. Its arguments are byIDArgs's.
func byIDSQL(d Dialect, entity, cols string, deleted bool) string {
	var b strings.Builder
	b.WriteString("SELECT " + cols + " FROM " + tables[entity] + " WHERE id = ? AND deleted_at IS ")
	if deleted {
		b.WriteString("NOT ")
	}
	teams, _ := d.InIDs("team_id", nil)
	b.WriteString("NULL AND (? OR owner_id = ? OR ")
	if entity == "task" {
		b.WriteString("(? AND assignee_id = ?) OR ")
	}
	b.WriteString(teams + " OR (? AND " + shareCond(d, entity) + "))")
	return b.String()
}

// byIDArgs are the arguments of byIDSQL for id in s at the time now
// (unix microseconds).
func byIDArgs(d Dialect, entity string, s crm.Scope, id, now int64) []any {
	args := make([]any, 0, 11)
	args = append(args, id, s.All, s.OwnerID)
	if entity == "task" {
		args = append(args, s.Assignee, s.OwnerID)
	}
	_, teams := d.InIDs("team_id", s.Teams)
	args = append(args, teams, s.Shared)
	return append(args, shareArgs(d, s, now)...)
}

// byIDStatements are the reads by id of every entity, for a dialect's
// store to prepare up front (Statements).
func byIDStatements(d Dialect) []string {
	var out []string
	for entity, cols := range entityCols {
		out = append(out, byIDSQL(d, entity, cols, false), byIDSQL(d, entity, cols, true))
	}
	return out
}

// entityCols are the columns each entity's scan reads.
var entityCols = map[string]string{
	"contact": contactCols, "company": companyCols, "deal": dealCols, "activity": activityCols, "task": taskCols,
}

// scopePart is one alternative of a scope: a condition on the rows of one
// part (the user's own, one team's, the assigned, the shared), which a list
// can read along an index in its sort order.
type scopePart struct {
	cond string
	args []any
	lead string // "owner", "team", "assignee" or "sort" (the sort's own index): what to read it along; "" for shares by id
}

// scopeIndexes names, per table, part and sort field, the index that reads
// a part in sort order (migrations 0001, 0006, 0011 and 0014). A merged
// list names it (SQLite's INDEXED BY): with its statistics SQLite may
// otherwise walk the sort index of the whole table and test each row's
// team, which costs the page size times the number of teams per branch.
var scopeIndexes = map[string]map[string]map[string]string{
	"contacts": {
		"sort":  {"created_at": "contacts_created", "updated_at": "contacts_updated"},
		"owner": {"created_at": "contacts_owner_created", "updated_at": "contacts_owner_updated"},
		"team":  {"created_at": "contacts_team_created", "updated_at": "contacts_team_updated"},
	},
	"companies": {
		"sort":  {"created_at": "companies_created", "updated_at": "companies_updated"},
		"owner": {"created_at": "companies_owner_created", "updated_at": "companies_owner_updated"},
		"team":  {"created_at": "companies_team_created", "updated_at": "companies_team_updated"},
	},
	"deals": {
		"sort": {"created_at": "deals_created", "expected_close": "deals_expected_close", "amount": "deals_amount",
			"updated_at": "deals_updated"},
		"owner": {"created_at": "deals_owner", "expected_close": "deals_owner_close", "amount": "deals_owner_amount",
			"updated_at": "deals_owner_updated"},
		"team": {"created_at": "deals_team_created", "expected_close": "deals_team_close", "amount": "deals_team_amount",
			"updated_at": "deals_team_updated"},
	},
	"activities": {
		"sort":  {"occurred_at": "activities_occurred", "created_at": "activities_created", "updated_at": "activities_updated"},
		"owner": {"occurred_at": "activities_owner", "created_at": "activities_owner_created", "updated_at": "activities_owner_updated"},
		"team":  {"occurred_at": "activities_team_occurred", "created_at": "activities_team_created", "updated_at": "activities_team_updated"},
	},
	"tasks": {
		"sort":     {"due_at": "tasks_due", "created_at": "tasks_created", "updated_at": "tasks_updated"},
		"owner":    {"due_at": "tasks_owner", "created_at": "tasks_owner_created", "updated_at": "tasks_owner_updated"},
		"assignee": {"due_at": "tasks_assignee", "created_at": "tasks_assignee_created", "updated_at": "tasks_assignee_updated"},
		"team":     {"due_at": "tasks_team_due", "created_at": "tasks_team_created", "updated_at": "tasks_team_updated"},
	},
}

// maxTeamBranches is the most teams a list merges as branches of their own;
// a manager of more teams reads them as one part, which is sorted (see
// docs/performance.md). SQLite allows 500 terms in a compound select.
const maxTeamBranches = 64

// scope sets the visibility predicate of s over rows of entity and reports
// whether anything can be visible at all: the zero Scope sees nothing. Only
// the parts s uses are in the text, so that a user who manages no team
// and holds no share runs the plain owner predicate, which the owner
// indexes serve. It keeps the parts apart as well, for a list to merge
// (buildList).
func (w *where) scope(d Dialect, s crm.Scope, entity string, now int64) bool {
	switch {
	case s.All:
		return true
	case s.OwnerID == 0:
		return false
	}
	w.scoped = true
	parts := []scopePart{{"owner_id = ?", []any{s.OwnerID}, "owner"}}
	if s.Assignee && entity == "task" {
		parts = append(parts, scopePart{"assignee_id = ?", []any{s.OwnerID}, "assignee"})
	}
	conds := make([]string, 0, 4)
	var args []any
	for _, p := range parts {
		conds = append(conds, p.cond)
		args = append(args, p.args...)
	}
	if len(s.Teams) > 0 {
		tc, ta := d.InIDs("team_id", s.Teams)
		conds = append(conds, tc)
		args = append(args, ta)
		if len(s.Teams) <= maxTeamBranches {
			for _, team := range s.Teams {
				parts = append(parts, scopePart{"team_id = ?", []any{team}, "team"})
			}
		} else {
			parts = append(parts, scopePart{tc, []any{ta}, ""})
		}
	}
	if s.Shared {
		conds = append(conds, shareCond(d, entity))
		args = append(args, shareArgs(d, s, now)...)
		// With many shares (decided by buildList, only for a merged
		// list), one part read along the sort index instead, each record
		// tested for a share by its record index.
		w.shareWalk = scopePart{shareCond(d, entity), shareArgs(d, s, now), "sort"}
		w.shareFrom = len(parts)
		// The user's shares and their teams' apart, each along its
		// grantee index (shares_user, shares_team).
		live := " AND (sh.expires_at IS NULL OR sh.expires_at > ?) AND (? OR sh.access = 'write'))"
		sub := "id IN (SELECT sh.record_id FROM shares sh WHERE sh.entity = '" + entity + "' AND "
		parts = append(parts, scopePart{sub + "sh.user_id = ?" + live, []any{s.OwnerID, now, !s.ShareWrite}, ""})
		if len(s.ShareTeams) > 0 {
			teams, teamsArg := d.InIDs("sh.team_id", s.ShareTeams)
			parts = append(parts, scopePart{sub + teams + live, []any{teamsArg, now, !s.ShareWrite}, ""})
		}
	}
	w.setScope(parts, conds, args)
	return true
}

// setScope keeps the scope as its parts and as one condition, the OR of
// conds.
func (w *where) setScope(parts []scopePart, conds []string, args []any) {
	w.parts = parts
	if len(conds) == 1 {
		w.scopeCond, w.scopeArgs = conds[0], args
	} else {
		w.scopeCond, w.scopeArgs = "("+strings.Join(conds, " OR ")+")", args
	}
}
