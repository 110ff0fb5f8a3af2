package sqlstore

import (
	"context"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlkit"
)

// Teams (ACL-2). A team row is versioned; its members are the users whose
// team_id names it. Team changes are rare and small: the service reads the
// whole tree (Teams) to refuse cycles and to recompute what each manager
// sees (SetSeesTeams), all in the change's transaction.

const teamCols = `id, name, parent_id, manager_id, version, created_at, updated_at`

var (
	sqlTeams      = Statement(`SELECT ` + teamCols + ` FROM teams ORDER BY id`)
	sqlTeamByID   = Statement(`SELECT ` + teamCols + ` FROM teams WHERE id = ?`)
	sqlTeamUsers  = Statement(`SELECT team_id, id FROM users WHERE team_id IS NOT NULL ORDER BY id`)
	sqlTeamMember = Statement(`SELECT id FROM users WHERE team_id = ? ORDER BY id`)
	sqlInsertTeam = Statement(`INSERT INTO teams (name, name_lc, parent_id, manager_id, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`)
	sqlUpdateTeam = Statement(`UPDATE teams SET name = ?, name_lc = ?, parent_id = ?, manager_id = ?, version = ?,
		updated_at = ? WHERE id = ? AND version = ?`)
	sqlTeamExists  = Statement(`SELECT count(*) FROM teams WHERE id = ?`)
	sqlDeleteTeam  = Statement(`DELETE FROM teams WHERE id = ?`)
	sqlSetUserTeam = Statement(`UPDATE users SET team_id = ? WHERE id = ?`)
	sqlSetSees     = Statement(`UPDATE users SET sees_teams = ? WHERE id = ?`)
)

// recordTables are the client-record tables that carry a team.
var recordTables = []string{"contacts", "companies", "deals", "activities", "tasks"}

// sqlMoveRecords moves an owner's records from one team (or none) to
// another (or none), one statement per table.
var sqlMoveRecords, sqlMoveUnteamed = func() (from, none map[string]string) {
	from, none = map[string]string{}, map[string]string{}
	for _, table := range recordTables {
		// The version moves too, so that an update of a record read before
		// the move fails its precondition instead of writing the old team
		// back.
		set := `UPDATE ` + table + ` SET team_id = ?, version = version + 1, updated_at = ? WHERE owner_id = ?`
		from[table] = Statement(set + ` AND team_id = ?`)
		none[table] = Statement(set + ` AND team_id IS NULL`)
	}
	return from, none
}()

func scanTeam(sc Row) (*crm.Team, error) {
	var tm crm.Team
	var created, updated int64
	if err := sc.Scan(&tm.ID, &tm.Name, &tm.ParentID, &tm.ManagerID, &tm.Version, &created, &updated); err != nil {
		return nil, err
	}
	tm.CreatedAt, tm.UpdatedAt = FromMicros(created), FromMicros(updated)
	tm.Members = []int64{}
	return &tm, nil
}

// Teams returns every team, by id, with its members.
func (t Tx) Teams(ctx context.Context) ([]*crm.Team, error) {
	rows, err := t.C.Query(ctx, sqlTeams)
	if err != nil {
		return nil, t.C.DBError(err, "teams", "team", "")
	}
	list := []*crm.Team{}
	byID := map[int64]*crm.Team{}
	for rows.Next() {
		tm, err := scanTeam(rows)
		if err != nil {
			rows.Close()
			return nil, t.C.RowError(err, "scan team", "team")
		}
		list = append(list, tm)
		byID[tm.ID] = tm
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, t.C.RowError(err, "teams", "team")
	}
	members, err := t.C.Query(ctx, sqlTeamUsers)
	if err != nil {
		return nil, t.C.DBError(err, "team members", "team", "")
	}
	defer members.Close()
	for members.Next() {
		var teamID, userID int64
		if err := members.Scan(&teamID, &userID); err != nil {
			return nil, t.C.RowError(err, "scan team member", "team")
		}
		if tm := byID[teamID]; tm != nil {
			tm.Members = append(tm.Members, userID)
		}
	}
	if err := members.Err(); err != nil {
		return nil, t.C.RowError(err, "team members", "team")
	}
	return list, nil
}

// TeamByID returns a team with its members. ENOTFOUND if there is none.
func (t Tx) TeamByID(ctx context.Context, id int64) (*crm.Team, error) {
	tm, err := scanTeam(t.C.QueryRow(ctx, sqlTeamByID+t.C.Lock("FOR UPDATE"), id))
	if err != nil {
		return nil, t.C.RowError(err, "team by id", "team")
	}
	rows, err := t.C.Query(ctx, sqlTeamMember, id)
	if err != nil {
		return nil, t.C.DBError(err, "team members", "team", "")
	}
	defer rows.Close()
	for rows.Next() {
		var userID int64
		if err := rows.Scan(&userID); err != nil {
			return nil, t.C.RowError(err, "scan team member", "team")
		}
		tm.Members = append(tm.Members, userID)
	}
	if err := rows.Err(); err != nil {
		return nil, t.C.RowError(err, "team members", "team")
	}
	return tm, nil
}

// InsertTeam stores a new team and sets its id; a taken name (in any case)
// is ECONFLICT on "name".
func (t Tx) InsertTeam(ctx context.Context, tm *crm.Team) error {
	id, err := t.C.Insert(ctx, sqlInsertTeam, tm.Name, strings.ToLower(tm.Name), NullID(tm.ParentID),
		NullID(tm.ManagerID), tm.Version, Micros(tm.CreatedAt), Micros(tm.UpdatedAt))
	if err != nil {
		return t.C.DBError(err, "insert team", "team", "name")
	}
	tm.ID = id
	return nil
}

// UpdateTeam stores tm if the stored version is tm.Version-1: EPRECONDITION
// when it changed meanwhile, ENOTFOUND when the team is gone.
func (t Tx) UpdateTeam(ctx context.Context, tm *crm.Team) error {
	ok, err := t.changed(ctx, sqlUpdateTeam, tm.Name, strings.ToLower(tm.Name), NullID(tm.ParentID),
		NullID(tm.ManagerID), tm.Version, Micros(tm.UpdatedAt), tm.ID, tm.Version-1)
	if err != nil {
		return t.C.DBError(err, "update team", "team", "name")
	}
	if !ok {
		var n int
		if err := t.C.QueryRow(ctx, sqlTeamExists, tm.ID).Scan(&n); err != nil {
			return t.C.RowError(err, "team exists", "team")
		}
		if n == 0 {
			return crm.NotFound("team")
		}
		return crm.Errorf(crm.EPRECONDITION, "the team was changed meanwhile; reload it")
	}
	return nil
}

// DeleteTeam removes a team; the records of the team lose it (the foreign
// key's ON DELETE SET NULL). The caller checks it has no members and no
// sub-teams. ENOTFOUND if there is none.
func (t Tx) DeleteTeam(ctx context.Context, id int64) error {
	return t.updateOne(ctx, "delete team", "team", "", sqlDeleteTeam, id)
}

// SetUserTeam makes the user a member of team (nil: of none) and moves the
// records the user owns in from (nil: in no team) to team.
func (t Tx) SetUserTeam(ctx context.Context, userID int64, from, team *int64) error {
	if err := t.updateOne(ctx, "set user team", "user", "", sqlSetUserTeam, NullID(team), userID); err != nil {
		return err
	}
	for _, table := range recordTables {
		var err error
		now := Micros(t.C.Now())
		if from == nil {
			_, err = t.C.Exec(ctx, sqlMoveUnteamed[table], NullID(team), now, userID)
		} else {
			_, err = t.C.Exec(ctx, sqlMoveRecords[table], NullID(team), now, userID, *from)
		}
		if err != nil {
			return t.C.DBError(err, "move records", table, "")
		}
	}
	return nil
}

var sqlTeamOf = Statement(`SELECT team_id FROM users WHERE id = ?`)

// TeamOf returns the user's team. Inside a write on PostgreSQL it
// share-locks the user row, so that a move of the user waits for this
// transaction, and then moves what it wrote.
func (t Tx) TeamOf(ctx context.Context, userID int64) (*int64, error) {
	var team *int64
	if err := t.C.QueryRow(ctx, sqlTeamOf+t.C.Lock("FOR SHARE"), userID).Scan(&team); err != nil {
		return nil, t.C.RowError(err, "team of user", "user")
	}
	return team, nil
}

// LockTeams serialises team changes: each reads the whole tree and writes
// what managers see from it, so two at once must not interleave (on
// PostgreSQL's READ COMMITTED they would overwrite each other's sets, or
// both pass the cycle check and form a cycle). SQLite runs one write at a
// time anyway.
func (t Tx) LockTeams(ctx context.Context) error {
	if err := t.C.Serialize(ctx, "custos.teams"); err != nil {
		return t.C.DBError(err, "lock teams", "team", "")
	}
	return nil
}

// SetSeesTeams sets the teams whose records the user sees as a manager.
func (t Tx) SetSeesTeams(ctx context.Context, userID int64, teams []int64) error {
	return t.updateOne(ctx, "set sees teams", "user", "", sqlSetSees, sqlkit.EncodeIDs(teams), userID)
}

// TeamExists reports whether there is a team id. Inside a write on
// PostgreSQL it share-locks the team row, so that a delete of the team
// waits for this transaction (whose share it then cascades to).
func (t Tx) TeamExists(ctx context.Context, id int64) (bool, error) {
	var one int
	err := t.C.QueryRow(ctx, sqlTeamRow+t.C.Lock("FOR SHARE"), id).Scan(&one)
	if err == nil {
		return true, nil
	} else if err = t.C.RowError(err, "team exists", "team"); crm.ErrorCode(err) == crm.ENOTFOUND {
		return false, nil
	}
	return false, err
}

var sqlTeamRow = Statement(`SELECT 1 FROM teams WHERE id = ?`)
