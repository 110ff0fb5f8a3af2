package bench

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The store keeps a contact's names, email and phone sealed, with no
// index on them (ENC-4): the product's lists sort and search them in
// memory. The floor is what a plain application does, so its copy of the
// data gets them back in plain text, with the lower-case name columns and
// the indexes on names, email and phone that the store had before
// encryption (migrations 0001 to 0014): PlainContacts writes them.

// floorIndexes are the plaintext indexes of the floor's copy.
var floorIndexes = []string{
	"floor_last_name ON contacts (last_name_lc, id) WHERE deleted_at IS NULL",
	"floor_first_name ON contacts (first_name_lc, id) WHERE deleted_at IS NULL",
	"floor_email ON contacts (email, id) WHERE deleted_at IS NULL",
	"floor_phone ON contacts (phone)",
	"floor_owner ON contacts (owner_id, last_name_lc, id, deleted_at)",
	"floor_owner_first_name ON contacts (owner_id, first_name_lc, last_name_lc, id, deleted_at)",
	"floor_owner_email ON contacts (owner_id, email, last_name_lc, id, deleted_at)",
	"floor_owner_first_sort ON contacts (owner_id, first_name_lc, id) WHERE deleted_at IS NULL",
	"floor_owner_email_sort ON contacts (owner_id, email, id) WHERE deleted_at IS NULL",
	"floor_team ON contacts (team_id, last_name_lc, id) WHERE team_id IS NOT NULL",
	"floor_team_first ON contacts (team_id, first_name_lc, id) WHERE deleted_at IS NULL",
	"floor_team_email ON contacts (team_id, email, id) WHERE deleted_at IS NULL",
}

// PlainContacts writes the seeded contacts' names, email, phone and tags
// in plain text into the floor's copy db (PostgreSQL's placeholders when pg),
// from the data set's generator, and makes the floor's plaintext indexes.
// On SQLite the caller then drops the samples its ANALYZE leaves
// (sqlite.DropSamples), as the store does.
func PlainContacts(ctx context.Context, db *sql.DB, pg bool, d *Dataset) error {
	if d.ContactIDs == nil {
		return fmt.Errorf("bench: the floor needs the seeded data set")
	}
	text := "TEXT"
	if pg {
		text = `TEXT COLLATE "C"`
	}
	for _, col := range []string{"first_name_lc", "last_name_lc"} {
		if _, err := db.ExecContext(ctx, "ALTER TABLE contacts ADD COLUMN "+col+" "+text+" NOT NULL DEFAULT ''"); err != nil {
			return fmt.Errorf("bench: floor: %w", err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q := `UPDATE contacts SET first_name = ?, last_name = ?, first_name_lc = ?, last_name_lc = ?, email = ?,
		phone = CASE WHEN phone = '' THEN '' ELSE ? END, tags = ? WHERE id = ?`
	if pg {
		q = `UPDATE contacts SET first_name = $1, last_name = $2, first_name_lc = $3, last_name_lc = $4, email = $5,
		phone = CASE WHEN phone = '' THEN '' ELSE $6 END, tags = $7 WHERE id = $8`
	}
	st, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return err
	}
	defer st.Close()
	for seq, id := range d.ContactIDs {
		p := personOf(d.Seed, seq)
		tags := "[]"
		if seq < len(d.ContactTags) && d.ContactTags[seq] != "" {
			tags = d.ContactTags[seq]
		}
		if _, err := st.ExecContext(ctx, p.first, p.last, strings.ToLower(p.first), strings.ToLower(p.last), p.email, phoneOf(seq), tags, id); err != nil {
			return fmt.Errorf("bench: floor: plain contact %d: %w", id, err)
		}
	}
	for _, ix := range floorIndexes {
		if _, err := tx.ExecContext(ctx, "CREATE INDEX "+ix); err != nil {
			return fmt.Errorf("bench: floor: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "ANALYZE contacts"); err != nil {
		return err
	}
	return tx.Commit()
}
