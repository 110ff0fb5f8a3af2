package sqlstore

import (
	"context"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
)

// duplicateCols are the blind-index columns contacts are matched by.
var duplicateCols = map[string]bool{"email_token": true, "phone_token": true}

// DuplicateContacts implements crm.RecordTx: the live contacts in s that
// share a blind-index token, grouped, in token order. It reads the
// caller's contacts along the token's index until it has limit groups:
// with few duplicates in a large scope one page reads all of them, as a
// report does; the tokens order nothing a reader can use (keyed hashes).
func (t Tx) DuplicateContacts(ctx context.Context, s crm.Scope, col, after string, limit, perGroup int) ([]crm.Duplicates, error) {
	if !duplicateCols[col] || limit <= 0 || limit > crm.MaxLimit || perGroup <= 0 {
		return nil, crm.Errorf(crm.EINVALID, "duplicates: no blind index %q, or a limit out of range", col)
	}
	scoped := func() (*where, bool) {
		var w where
		if !t.scoped(ctx, &w, "contact", s, nil) {
			return nil, false
		}
		w.deleted(false)
		return &w, true
	}
	w, ok := scoped()
	if !ok {
		return []crm.Duplicates{}, nil
	}
	w.and(col+" > ?", after) // also leaves out the contacts without one ('')
	conds, args := w.all()
	rows, err := t.C.Query(ctx, "SELECT "+col+", count(*) FROM contacts WHERE "+strings.Join(conds, " AND ")+
		" GROUP BY "+col+" HAVING count(*) > 1 ORDER BY "+col+" LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, t.C.DBError(err, "duplicates", "contact", "")
	}
	out := []crm.Duplicates{}
	at := map[string]int{}
	for rows.Next() {
		var d crm.Duplicates
		if err := rows.Scan(&d.Token, &d.Count); err != nil {
			rows.Close()
			return nil, t.C.RowError(err, "scan duplicates", "contact")
		}
		at[d.Token] = len(out)
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, t.C.RowError(err, "duplicates", "contact")
	}
	if len(out) == 0 {
		return out, nil
	}
	tokens := make([]string, len(out))
	for i, d := range out {
		tokens[i] = d.Token
	}
	// The first perGroup of each group, ranked in the statement: a group
	// of thousands (a switchboard's number) costs no more than a page.
	w, _ = scoped()
	from, arg := t.C.Values(tokens)
	w.and(col+" IN (SELECT value FROM "+from+")", arg)
	conds, args = w.all()
	rows, err = t.C.Query(ctx, "SELECT id, tok FROM (SELECT id, "+col+" AS tok, ROW_NUMBER() OVER (PARTITION BY "+col+" ORDER BY id) AS n"+
		" FROM contacts WHERE "+strings.Join(conds, " AND ")+") AS d WHERE n <= ? ORDER BY tok, id", append(args, perGroup)...)
	if err != nil {
		return nil, t.C.DBError(err, "duplicates", "contact", "")
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id    int64
			token string
		)
		if err := rows.Scan(&id, &token); err != nil {
			return nil, t.C.RowError(err, "scan duplicates", "contact")
		}
		if i, ok := at[token]; ok {
			out[i].IDs = append(out[i].IDs, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, t.C.RowError(err, "duplicates", "contact")
	}
	return out, nil
}
