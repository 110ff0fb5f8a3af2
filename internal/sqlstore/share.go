package sqlstore

import (
	"context"
	"sync/atomic"

	"github.com/custos-crm/custos/internal/crm"
)

// Shares of client records (ACL-2). A share names one user or one team;
// a record has at most one share per grantee (unique indexes), which
// PutShare replaces.

const shareCols = `id, entity, record_id, user_id, team_id, access, expires_at, created_by, created_at`

var (
	sqlSharesOf = Statement(`SELECT ` + shareCols + ` FROM shares
		WHERE entity = ? AND record_id = ? ORDER BY id`)
	sqlShareOfUser = Statement(`SELECT id FROM shares
		WHERE entity = ? AND record_id = ? AND user_id = ?`)
	sqlShareOfTeam = Statement(`SELECT id FROM shares
		WHERE entity = ? AND record_id = ? AND team_id = ?`)
	sqlInsertShare = Statement(`INSERT INTO shares (entity, record_id, user_id, team_id, access,
		expires_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlUpdateShare = Statement(`UPDATE shares SET access = ?, expires_at = ?, created_by = ?, created_at = ?
		WHERE id = ?`)
	sqlDeleteShare = Statement(`DELETE FROM shares WHERE id = ? AND entity = ? AND record_id = ?`)
	sqlPurgeShares = Statement(`DELETE FROM shares WHERE expires_at IS NOT NULL AND expires_at < ?`)
	sqlSharesAfter = Statement(`SELECT ` + shareCols + ` FROM shares WHERE entity = ? AND id > ? ORDER BY id LIMIT ?`)
)

// scanShare scans one row of shareCols; expired is judged at now.
func scanShare(sc Row, now int64) (*crm.Share, error) {
	var (
		sh        crm.Share
		createdBy *int64
		expires   *int64
		created   int64
	)
	if err := sc.Scan(&sh.ID, &sh.Entity, &sh.RecordID, &sh.UserID, &sh.TeamID, &sh.Access, &expires, &createdBy, &created); err != nil {
		return nil, err
	}
	if createdBy != nil {
		sh.CreatedBy = *createdBy
	}
	sh.ExpiresAt, sh.CreatedAt = TimePtr(expires), FromMicros(created)
	sh.Expired = expires != nil && *expires <= now
	return &sh, nil
}

// SharesOf returns the shares of a record, by id. The caller has checked
// that the record is visible.
func (t Tx) SharesOf(ctx context.Context, entity string, recordID int64) ([]*crm.Share, error) {
	return t.shareRows(ctx, sqlSharesOf, entity, recordID)
}

// PutShare stores sh as the share of its record with its grantee,
// replacing one that exists (its id is kept), and sets sh.ID; created
// reports whether it is new.
func (t Tx) PutShare(ctx context.Context, sh *crm.Share) (created bool, err error) {
	query, grantee := sqlShareOfUser, sh.UserID
	if sh.TeamID != nil {
		query, grantee = sqlShareOfTeam, sh.TeamID
	}
	var id int64
	err = t.C.QueryRow(ctx, query+t.C.Lock("FOR UPDATE"), sh.Entity, sh.RecordID, NullID(grantee)).Scan(&id)
	if err == nil {
		sh.ID = id
		return false, t.updateOne(ctx, "update share", "share", "", sqlUpdateShare,
			string(sh.Access), NullMicros(sh.ExpiresAt), NullZero(sh.CreatedBy), Micros(sh.CreatedAt), id)
	} else if err = t.C.RowError(err, "share", "share"); crm.ErrorCode(err) != crm.ENOTFOUND {
		return false, err
	}
	id, err = t.C.Insert(ctx, sqlInsertShare, sh.Entity, sh.RecordID, NullID(sh.UserID), NullID(sh.TeamID),
		string(sh.Access), NullMicros(sh.ExpiresAt), NullZero(sh.CreatedBy), Micros(sh.CreatedAt))
	if err != nil {
		return false, t.C.DBError(err, "insert share", "share", "")
	}
	sh.ID = id
	return true, nil
}

// DeleteShare removes the share id of the record. ENOTFOUND if the
// record has no such share.
func (t Tx) DeleteShare(ctx context.Context, entity string, recordID, id int64) error {
	return t.updateOne(ctx, "delete share", "share", "", sqlDeleteShare, id, entity, recordID)
}

// shared returns s without its shares when no unexpired share of entity
// names its user or teams: the common case, whose lists then run on the
// owner and team indexes alone. One index probe decides.
func (t Tx) shared(ctx context.Context, entity string, s crm.Scope) crm.Scope {
	s, _ = t.sharedCount(ctx, entity, s, 1)
	return s
}

// ManyShares is the number of records shared with a principal above which
// a merged list reads its shared part along the sort index, testing each
// record for a share, rather than reading every shared record by id and
// sorting them: with N records in the table and S shared, the first costs
// about N/S × the page size, the second S (both index probes and row
// reads); they cross near S = √(50·N), about 2,000 at 100,000 records.
//
// A variable for the tests, which set it to 0 to read every shared part
// along the sort index.
var ManyShares atomic.Int64

func init() { ManyShares.Store(2000) }

// sharedCount is shared, and how many records of entity are shared with
// s's user or teams, counting up to limit.
func (t Tx) sharedCount(ctx context.Context, entity string, s crm.Scope, limit int) (crm.Scope, int) {
	if !s.Shared || s.All || s.OwnerID == 0 {
		return s, 0
	}
	// The user's shares and their teams' counted apart, each along its
	// grantee index (shares_user, shares_team): ORed, they would be read
	// from every share of the entity.
	teams, teamsArg := t.C.InIDs("team_id", s.ShareTeams)
	live := " AND (expires_at IS NULL OR expires_at > ?) LIMIT ?) AS s)"
	query := "SELECT (SELECT count(*) FROM (SELECT 1 FROM shares WHERE user_id = ? AND entity = ?" + live +
		" + (SELECT count(*) FROM (SELECT 1 FROM shares WHERE " + teams + " AND entity = ?" + live
	now := Micros(t.C.Now())
	var n int
	if err := t.C.QueryRow(ctx, query, s.OwnerID, entity, now, limit, teamsArg, entity, now, limit).Scan(&n); err != nil || n == 0 {
		// An error leaves the shares in the scope: the list's own
		// predicate then decides, and reports the error if it recurs.
		if err == nil {
			s.Shared = false
		}
	}
	return s, n
}

// scoped sets w's scope to s over entity's rows, with its shares read the
// way their number makes cheaper (ManyShares), and reports whether
// anything can be visible. A read by ids (byIDs: at most a page of
// them) tests each row's shares by the record index, as a read by id
// does; counting the caller's shares first, to leave the test out when
// there are none, would cost a statement of its own on every page.
func (t Tx) scoped(ctx context.Context, w *where, entity string, s crm.Scope, ids []int64) bool {
	if ids != nil {
		return w.scope(t.C, s, entity, Micros(t.C.Now()))
	}
	shared := s
	s = t.shared(ctx, entity, s)
	// Counted only for a merged list: a filtered list finds its few rows
	// by its filter's index and checks their shares one by one.
	w.manyShares = func() bool {
		many := int(ManyShares.Load())
		_, n := t.sharedCount(ctx, entity, shared, many+1)
		return n > many
	}
	return w.scope(t.C, s, entity, Micros(t.C.Now()))
}

// SharesByID returns the shares of ids that exist, of any entity, in id
// order: the service's index reads those the change sequence names.
func (t Tx) SharesByID(ctx context.Context, ids []int64) ([]*crm.Share, error) {
	if len(ids) == 0 {
		return []*crm.Share{}, nil
	}
	cond, arg := t.C.InIDs("id", ids)
	return t.shareRows(ctx, `SELECT `+shareCols+` FROM shares WHERE `+cond+` ORDER BY id`, arg)
}

// SharesAfter returns up to limit shares of entity with ids above after,
// in id order, expired ones included: the service's index reads them all
// when it is built.
func (t Tx) SharesAfter(ctx context.Context, entity string, after int64, limit int) ([]*crm.Share, error) {
	return t.shareRows(ctx, sqlSharesAfter, entity, after, limit)
}

func (t Tx) shareRows(ctx context.Context, query string, args ...any) ([]*crm.Share, error) {
	rows, err := t.C.Query(ctx, query, args...)
	if err != nil {
		return nil, t.C.DBError(err, "shares", "share", "")
	}
	defer rows.Close()
	now := Micros(t.C.Now())
	list := []*crm.Share{}
	for rows.Next() {
		sh, err := scanShare(rows, now)
		if err != nil {
			return nil, t.C.RowError(err, "scan share", "share")
		}
		list = append(list, sh)
	}
	if err := rows.Err(); err != nil {
		return nil, t.C.RowError(err, "shares", "share")
	}
	return list, nil
}
