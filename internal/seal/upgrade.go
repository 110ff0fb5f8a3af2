package seal

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/vault"
)

// The upgrade pass (issue 12, item 7): a database written before field
// encryption holds its clients' personal fields in plain text. Upgrade
// seals them online, a page of records per write, while the server
// serves; a run cut short is resumed by the next (it seals what is still
// plain). When a pass finds nothing left it records so, and from then on
// Open refuses a plain value where a sealed one belongs: a value put back
// in plain text by someone with write access to the database is tampering.

// SettingSealed is the setting the upgrade pass sets to SealedVersion when
// every personal field is sealed.
const SettingSealed = "encryption.sealed"

// SealedVersion names the set of sealed fields: when a version seals more
// of them, it changes, and the upgrade pass runs again over every record
// (sealing what is still plain) before Open turns strict. "done" was the
// first set, before a contact's names, email and phone were sealed; "2"
// the set before a company's name and domain were, "3" before a deal's
// title was, "4" before a task's, "5" before an activity's subject, "6"
// before a contact's tags.
const SealedVersion = "7"

// Version is what SettingSealed holds once every field s seals is
// sealed: SealedVersion, and the company-names setting when it keeps them
// plain, so that changing the setting runs the upgrade pass again.
func (s *Sealer) Version() string {
	if s.plainCompany {
		return SealedVersion + plainCompanySuffix
	}
	return SealedVersion
}

const plainCompanySuffix = "+company-names=plain"

// OnlyCompanyNamesChanged reports whether stored, the SettingSealed of
// the database, differs from s's Version by the company-names setting
// alone: every other field is sealed, and only the companies' pass is
// due.
func (s *Sealer) OnlyCompanyNamesChanged(stored string) bool {
	return stored != s.Version() && strings.TrimSuffix(stored, plainCompanySuffix) == SealedVersion
}

// KeepsCompanyNamesPlain reports whether version, a value of
// SettingSealed, was written by a Sealer keeping company names plain.
func KeepsCompanyNamesPlain(version string) bool {
	return strings.HasSuffix(version, plainCompanySuffix)
}

// Strict makes Open refuse plain values in sealed fields.
func (s *Sealer) Strict(on bool) { s.strict.Store(on) }

// Upgrade seals every personal field still in plain text and returns how
// many records it changed; progress is told each page's count. A record a
// writer changed between the pass's read and its write is left to the
// writer (who sealed it), and the pass runs again to make sure: when a
// record still cannot be written after upgradePasses passes, Upgrade
// fails, and the next start tries again. When it completes it sets
// SettingSealed and makes s strict.
func (s *Sealer) Upgrade(ctx context.Context, st crm.Store, progress func(entity string, sealed int)) (int, error) {
	total := 0
	for pass := 1; ; pass++ {
		changed, missed, err := s.upgradePass(ctx, st, progress)
		total += changed
		if err != nil {
			return total, err
		}
		if missed == 0 {
			break
		}
		if pass == upgradePasses {
			return total, fmt.Errorf("seal: upgrade: %d records changed under every one of %d passes, or hold values that cannot be replaced; their fields stay in plain text", missed, pass)
		}
	}
	err := st.Write(ctx, func(tx crm.Tx) error { return tx.SetSetting(ctx, SettingSealed, s.Version()) })
	if err != nil {
		return total, err
	}
	s.Strict(true)
	s.AcceptCompanyNamesEither(false)
	return total, nil
}

// upgradePasses bounds the passes of Upgrade over records that change
// under it.
const upgradePasses = 3

// upgradePass is one pass of Upgrade over every record: it returns how
// many it sealed, and how many changed between its read and its write.
func (s *Sealer) upgradePass(ctx context.Context, st crm.Store, progress func(entity string, sealed int)) (total, missed int, err error) {
	for _, entity := range []string{"company", "contact", "deal", "activity", "task"} {
		for _, deleted := range []bool{false, true} {
			var after *crm.Cursor
			for {
				var page []any
				var next string
				var changed, skipped int
				err := st.Write(ctx, func(tx crm.Tx) error {
					var err error
					changed, skipped = 0, 0
					page, next, err = listAll(ctx, tx, entity, deleted, after)
					if err != nil {
						return err
					}
					one := func(entity string, rec any) error {
						n, err := s.upgradeOne(ctx, tx, entity, rec)
						if errors.Is(err, errChanged) {
							skipped++
							return nil
						}
						changed += n
						return err
					}
					for _, rec := range page {
						if err := one(entity, rec); err != nil {
							return err
						}
						if c, ok := rec.(*crm.Contact); ok {
							consents, err := tx.ConsentsByContact(ctx, c.ID)
							if err != nil {
								return err
							}
							for _, cs := range consents {
								if err := one("consent", cs); err != nil {
									return err
								}
							}
						}
					}
					return nil
				})
				if err != nil {
					return total, missed, fmt.Errorf("seal: upgrade of %ss: %w", entity, err)
				}
				total += changed
				missed += skipped
				if progress != nil && changed > 0 {
					progress(entity, changed)
				}
				if next == "" {
					break
				}
				c, err := crm.DecodeCursor(next, "created_at")
				if err != nil {
					return total, missed, err
				}
				after = c
			}
		}
	}
	return total, missed, nil
}

// upgradeOne seals rec's plain personal fields in the store, and opens
// into plain text the sealed ones the setting keeps plain, and reports 1
// if it wrote; errChanged when the record changed meanwhile.
func (s *Sealer) upgradeOne(ctx context.Context, tx crm.RecordTx, entity string, rec any) (int, error) {
	table, _, _, _, _ := sealed(entity, rec)
	return s.sealAgain(ctx, tx, entity, rec, func(field, v string) bool {
		return vault.Sealed(v) == s.keptPlain(table, field)
	}, false)
}

// listAll lists a page of entity's live or deleted records in every scope,
// by creation.
func listAll(ctx context.Context, tx crm.Tx, entity string, deleted bool, after *crm.Cursor) ([]any, string, error) {
	all := crm.Scope{All: true}
	q := crm.ListQuery{Limit: crm.MaxLimit, Sort: "created_at", After: after}
	switch entity {
	case "contact":
		return anys(tx.Contacts(ctx, all, crm.ContactFilter{Deleted: deleted}, q))
	case "company":
		return anys(tx.Companies(ctx, all, crm.CompanyFilter{Deleted: deleted}, q))
	case "deal":
		return anys(tx.Deals(ctx, all, crm.DealFilter{Deleted: deleted}, q))
	case "activity":
		return anys(tx.Activities(ctx, all, crm.ActivityFilter{Deleted: deleted}, q))
	case "task":
		return anys(tx.Tasks(ctx, all, crm.TaskFilter{Deleted: deleted}, q))
	}
	return nil, "", fmt.Errorf("seal: no list of %q", entity)
}

// anys passes on a page of records as values of any.
func anys[T any](rs []T, next string, err error) ([]any, string, error) {
	out := make([]any, len(rs))
	for i, r := range rs {
		out[i] = r
	}
	return out, next, err
}
