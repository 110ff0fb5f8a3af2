package seal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/vault"
)

// Rotating one client's data key (ENC-3): when a client's key may have
// leaked (it was unwrapped on a machine that was then compromised, say),
// every field sealed under it is sealed again under a new key, and the old
// key is destroyed, in one transaction. A copy of the old ciphertexts (a
// backup) no longer opens; nothing else of the client changes.
//
// On PostgreSQL, writers read a client's key with a share lock (DataKeyOf
// in a write), and the rotation takes it for a change first (LockDataKey):
// it waits for those that sealed with it to commit, and the writers that
// come after wait for the rotation and then seal under the new key. The
// rotation reads the client's records only once it holds the key's row,
// so it sees every value sealed under the old key.

// RotateClient seals every field of the client subject ("contact:7",
// "company:3", "deal:9", "activity:4", "task:5") again under a new data
// key and deletes the old one. It returns how many records it re-sealed
// and the ids of the old and new keys. ENOTFOUND when the client has no
// data key; EINVALID for a subject of no such form.
func (s *Sealer) RotateClient(ctx context.Context, st crm.Store, subject string) (records int, oldKey, newKey int64, err error) {
	kind, idText, _ := strings.Cut(subject, ":")
	id, perr := strconv.ParseInt(idText, 10, 64)
	if _, ok := subjectKinds[kind]; !ok || perr != nil || id <= 0 {
		return 0, 0, 0, crm.Invalid("client", "must be contact:ID, company:ID, deal:ID, activity:ID or task:ID")
	}
	err = st.Write(ctx, func(tx crm.Tx) error {
		records = 0
		old, err := tx.LockDataKey(ctx, subject)
		if crm.ErrorCode(err) == crm.ENOTFOUND {
			return crm.Errorf(crm.ENOTFOUND, "%s has no data key (nothing of it is sealed)", subject)
		} else if err != nil {
			return err
		}
		oldKey = old.ID
		// The old key, unwrapped before its row goes: the records are
		// opened with it after.
		if _, err := s.key(ctx, tx, uint64(old.ID)); err != nil {
			return err
		}
		if err := tx.DeleteDataKey(ctx, old.ID); err != nil {
			return err
		}
		recs, err := clientRecords(ctx, tx, kind, id)
		if err != nil {
			return err
		}
		for _, r := range recs {
			n, err := s.reseal(ctx, tx, r.entity, r.rec, uint64(old.ID))
			if err != nil {
				return err
			}
			records += n
		}
		if k, err := tx.DataKeyOf(ctx, subject); err == nil {
			newKey = k.ID
		} else if crm.ErrorCode(err) != crm.ENOTFOUND {
			return err
		}
		return nil
	})
	if err != nil {
		return 0, 0, 0, err
	}
	s.cache.Forget(uint64(oldKey))
	return records, oldKey, newKey, nil
}

// subjectKinds are the kinds of client a data key's subject names.
var subjectKinds = map[string]bool{"contact": true, "company": true, "deal": true, "activity": true, "task": true}

// reseal opens rec's fields sealed under the key oldKey and seals them
// again (under its client's current key, made on the first), writing them
// with a compare-and-set; it reports 1 if it wrote, and fails if the
// record changed meanwhile (its writer sealed under the old key).
func (s *Sealer) reseal(ctx context.Context, tx crm.RecordTx, entity string, rec any, oldKey uint64) (int, error) {
	return s.sealAgain(ctx, tx, entity, rec, func(_, v string) bool {
		k, ok := vault.KeyOf(v)
		return ok && vault.Sealed(v) && k == oldKey
	}, true)
}

// errChanged is sealAgain's report that the record changed between its
// read and its write, which it left to its writer.
var errChanged = errors.New("seal: the record changed while its fields were sealed again")

// sealAgain seals the fields of rec whose stored value pick chooses (after
// opening them; a field the setting keeps plain is written opened) and
// writes them in place of those values, a
// compare-and-set; it reports 1 if it wrote. When the record changed
// meanwhile, it fails if must, and otherwise leaves it to its writer and
// returns errChanged.
func (s *Sealer) sealAgain(ctx context.Context, tx crm.RecordTx, entity string, rec any, pick func(field, stored string) bool, must bool) (int, error) {
	_, idp, _, fs, ok := sealed(entity, rec)
	if !ok {
		return 0, nil
	}
	old := map[string]string{}
	for _, f := range fs {
		if *f.p != "" && pick(f.name, *f.p) {
			old[f.name] = *f.p
		}
	}
	// A contact's tags are one value of their own (tags.go): plain ones
	// are what pick sees as not sealed.
	c, _ := rec.(*crm.Contact)
	var oldTags []string
	plainTags := false
	if c != nil && len(c.Tags) > 0 {
		v, packed := packedTags(c)
		if !packed {
			v = tagsColumn(c.Tags)
		}
		if pick("tags", v) {
			oldTags, plainTags = c.Tags, !packed
		} else {
			c.Tags = nil
		}
	}
	if len(old) == 0 && oldTags == nil {
		return 0, nil
	}
	// Only the chosen fields are sealed again; the others stay as stored.
	for _, f := range fs {
		if _, ok := old[f.name]; !ok {
			*f.p = ""
		}
	}
	if err := s.Open(ctx, tx, entity, rec); err != nil {
		return 0, err
	}
	var tokens [2]string // a contact's stored email and phone tokens
	if c != nil {
		tokens = [2]string{c.EmailToken, c.PhoneToken}
	}
	if err := s.Seal(ctx, tx, entity, rec); err != nil {
		return 0, err
	}
	fields := map[string][2]string{}
	for _, f := range fs {
		if v, ok := old[f.name]; ok {
			fields[f.name] = [2]string{v, *f.p}
		}
	}
	if oldTags != nil {
		fields["tags"] = [2]string{tagsColumn(oldTags), tagsColumn(c.Tags)}
	}
	// The tokens of a value sealed here for the first time (the upgrade
	// pass): a value sealed again has the token it had.
	if _, ok := old["email"]; ok && c != nil && c.EmailToken != tokens[0] {
		fields["email_token"] = [2]string{tokens[0], c.EmailToken}
	}
	if _, ok := old["phone"]; ok && c != nil && c.PhoneToken != tokens[1] {
		fields["phone_token"] = [2]string{tokens[1], c.PhoneToken}
	}
	wrote, err := tx.SealFields(ctx, entity, *idp, fields)
	switch {
	case err != nil:
		return 0, err
	case !wrote && must:
		return 0, fmt.Errorf("seal: %s %d changed while its fields were sealed again", entity, *idp)
	case !wrote:
		return 0, errChanged
	}
	if plainTags {
		// Sealed here for the first time: the tag rows become tokens.
		if err := tx.SetTagTokens(ctx, *idp, c.TagTokens); err != nil {
			return 0, err
		}
	}
	return 1, nil
}

// clientRecord is one record of a client, with its entity.
type clientRecord struct {
	entity string
	rec    any
}

// clientRecords lists, live and deleted, the records whose fields a
// client's key seals (clientOf): a contact with its activities, tasks and
// consents; a company with its activities and tasks that name no contact;
// a deal, an activity or a task alone.
func clientRecords(ctx context.Context, tx crm.Tx, kind string, id int64) ([]clientRecord, error) {
	all := crm.Scope{All: true}
	var out []clientRecord
	add := func(entity string, rec any, err error) error {
		if crm.ErrorCode(err) == crm.ENOTFOUND {
			return nil
		}
		if err == nil {
			out = append(out, clientRecord{entity, rec})
		}
		return err
	}
	for _, deleted := range []bool{false, true} {
		var err error
		switch kind {
		case "contact":
			c, e := tx.ContactByID(ctx, all, id, deleted)
			err = add("contact", c, e)
		case "company":
			c, e := tx.CompanyByID(ctx, all, id, deleted)
			err = add("company", c, e)
		case "deal":
			d, e := tx.DealByID(ctx, all, id, deleted)
			err = add("deal", d, e)
		case "activity":
			a, e := tx.ActivityByID(ctx, all, id, deleted)
			if e == nil && (a.ContactID != nil || a.CompanyID != nil) {
				continue // sealed under its client's key
			}
			err = add("activity", a, e)
		case "task":
			t, e := tx.TaskByID(ctx, all, id, deleted)
			if e == nil && (t.ContactID != nil || t.CompanyID != nil) {
				continue
			}
			err = add("task", t, e)
		}
		if err != nil {
			return nil, err
		}
		if kind != "contact" && kind != "company" {
			continue
		}
		f := crm.ActivityFilter{Deleted: deleted}
		tf := crm.TaskFilter{Deleted: deleted}
		if kind == "contact" {
			f.ContactID, tf.ContactID = id, id
		} else {
			f.CompanyID, tf.CompanyID = id, id
		}
		// A company's key seals its activities and tasks that name no
		// contact.
		mine := func(contact *int64) bool { return kind == "contact" || contact == nil }
		acts, err := allPages(func(q crm.ListQuery) ([]*crm.Activity, string, error) { return tx.Activities(ctx, all, f, q) })
		if err != nil {
			return nil, err
		}
		for _, a := range acts {
			if mine(a.ContactID) {
				out = append(out, clientRecord{"activity", a})
			}
		}
		tasks, err := allPages(func(q crm.ListQuery) ([]*crm.Task, string, error) { return tx.Tasks(ctx, all, tf, q) })
		if err != nil {
			return nil, err
		}
		for _, t := range tasks {
			if mine(t.ContactID) {
				out = append(out, clientRecord{"task", t})
			}
		}
	}
	if kind == "contact" {
		cs, err := tx.ConsentsByContact(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			out = append(out, clientRecord{"consent", c})
		}
	}
	return out, nil
}

// allPages reads every page of a list, by creation.
func allPages[T any](list func(q crm.ListQuery) ([]T, string, error)) ([]T, error) {
	var out []T
	for after := (*crm.Cursor)(nil); ; {
		page, next, err := list(crm.ListQuery{Limit: crm.MaxLimit, Sort: "created_at", After: after})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if after, err = nextCursor(next); err != nil || after == nil {
			return out, err
		}
	}
}

// nextCursor decodes a list's next cursor (nil on the last page).
func nextCursor(next string) (*crm.Cursor, error) {
	if next == "" {
		return nil, nil
	}
	return crm.DecodeCursor(next, "created_at")
}
