package seal

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// The purge of the recycle bin destroys the data keys of the clients it
// removes, as an erasure does (ENC-5): a record past its grace period is
// gone for good, and so is every copy of its sealed fields (older backups
// included). A contact's activities and tasks that were not deleted with
// it outlive it (they lose the link, ON DELETE SET NULL), but their fields
// are sealed under its key: BeforePurge first seals them again under the
// key of the client they belong to after the purge (their company's, or
// their own).

// BeforePurge runs in the purge's transaction, before the store removes
// the records deleted before before: it re-seals the surviving records
// sealed under a purged client's key and returns the ids of the data keys
// the purge makes useless, for the caller to delete once the records are
// gone.
func (s *Sealer) BeforePurge(ctx context.Context, tx crm.Tx, before time.Time) ([]int64, error) {
	gone := map[string]map[int64]bool{}
	for _, entity := range []string{"contact", "company", "deal", "activity", "task"} {
		gone[entity] = map[int64]bool{}
		ids, err := tx.DeletedBefore(ctx, entity, before)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			gone[entity][id] = true
		}
	}
	var keys []int64
	for entity, ids := range gone {
		for id := range ids {
			// Taken for a change: a writer sealing under it meanwhile
			// waits for the purge, then finds the client gone.
			k, err := tx.LockDataKey(ctx, crm.KeySubject(entity, id))
			if crm.ErrorCode(err) == crm.ENOTFOUND {
				continue
			} else if err != nil {
				return nil, err
			}
			keys = append(keys, k.ID)
			if entity != "contact" && entity != "company" {
				continue
			}
			// The client's activities and tasks the purge keeps.
			recs, err := clientRecords(ctx, tx, entity, id)
			if err != nil {
				return nil, err
			}
			for _, r := range recs {
				if r.entity != "activity" && r.entity != "task" {
					continue
				}
				_, idp, _, _, _ := sealed(r.entity, r.rec)
				if gone[r.entity][*idp] {
					continue
				}
				// Its links after the purge decide its key.
				contact, company := links(r.rec)
				if *contact != nil && gone["contact"][**contact] {
					*contact = nil
				}
				if *company != nil && gone["company"][**company] {
					*company = nil
				}
				if _, err := s.reseal(ctx, tx, r.entity, r.rec, uint64(k.ID)); err != nil {
					return nil, err
				}
			}
		}
	}
	return keys, nil
}

// links points at an activity's or task's contact and company.
func links(rec any) (contact, company **int64) {
	switch r := rec.(type) {
	case *crm.Activity:
		return &r.ContactID, &r.CompanyID
	case *crm.Task:
		return &r.ContactID, &r.CompanyID
	}
	var none *int64
	return &none, &none
}
