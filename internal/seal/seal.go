// Package seal is field encryption at rest (issue 12, ENC-2): the Seal and
// Open layers of the record service. Every personal field a record holds
// is sealed under its client's data key just before the store writes it,
// and opened just after the store reads it, inside the transaction; no
// other code sees a sealed value or a plaintext on its way to disk.
//
// A client is a contact (with its activities, tasks and consents), a
// company (with the activities and tasks that name it and no contact), or
// a deal; each has one data key, made at its first write, wrapped by the
// key-encryption key and kept in the store by subject ("contact:7"). The
// sealed value binds table, record id, field and data key (vault.Where),
// so a value copied to another record or field does not open.
package seal

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/vault"
)

// Sealer seals and opens the personal fields of client records.
type Sealer struct {
	kek          vault.KEK
	cache        *vault.Cache
	strict       atomic.Bool // plain values in sealed fields are refused (Upgrade)
	tokens       tokenIndex  // the blind index (tokens.go)
	plainCompany bool        // a company's CompanyPersonal columns rest plain (KeepCompanyNamesPlain)
	// eitherCompany accepts plain values in a company's CompanyPersonal
	// columns while strict, during the pass that follows a change of the
	// setting (AcceptCompanyNamesEither).
	eitherCompany atomic.Bool
}

// KeepCompanyNamesPlain makes the columns classify.go marks
// CompanyPersonal (a company's name, domain, phone and address) rest in
// plain text, for an organisation that has decided they are not personal
// data (encryption setting company-names = plain). Call it once, before
// the Sealer is used. Values sealed before are opened as ever, and the
// upgrade pass writes them plain (Version names the setting, so a change
// runs the pass again, either way).
func (s *Sealer) KeepCompanyNamesPlain() { s.plainCompany = true }

// companyPlain is the set of companies' CompanyPersonal columns.
var companyPlain = func() map[string]bool {
	out := map[string]bool{}
	for _, c := range Columns {
		if c.Class == CompanyPersonal {
			if c.Table != "companies" {
				panic("seal: only companies' columns can be CompanyPersonal")
			}
			out[c.Name] = true
		}
	}
	return out
}()

// companyPersonal reports whether field of table is one the setting may
// keep plain.
func companyPersonal(table, field string) bool { return table == "companies" && companyPlain[field] }

// keptPlain reports whether field of table rests plain by the setting.
func (s *Sealer) keptPlain(table, field string) bool {
	return s.plainCompany && companyPersonal(table, field)
}

// AcceptCompanyNamesEither makes a strict Open accept plain values in a
// company's CompanyPersonal columns whatever the setting, and nowhere
// else: while the pass after a change of the setting re-writes them, the
// rest of the database stays strict.
func (s *Sealer) AcceptCompanyNamesEither(on bool) { s.eitherCompany.Store(on) }

// plainAccepted reports whether a strict Open accepts a plain value in
// field of table.
func (s *Sealer) plainAccepted(table, field string) bool {
	return companyPersonal(table, field) && (s.plainCompany || s.eitherCompany.Load())
}

// The sizes of a Sealer's data-key cache by default (vault.Cache): 16,384
// keys ready to use (some 13 MiB) and 262,144 as bytes only (some 16 MiB
// when full), so that the keys of 100,000 clients stay in memory.
const (
	CacheSize    = 16384
	RawCacheSize = 1 << 18
)

// New returns a Sealer wrapping data keys with kek and keeping up to
// hot of them unwrapped and ready in memory, and up to raw as bytes
// (zeroed when evicted).
func New(kek vault.KEK, hot, raw int) *Sealer {
	return &Sealer{kek: kek, cache: vault.NewCache(hot, raw)}
}

// field is one sealed field of a record.
type field struct {
	name string
	p    *string
}

// sealed returns the table, a pointer to the id, the subject and the
// sealed fields of rec; ok is false for a record with nothing to seal.
//
// A contact's names, email and phone, a company's name and domain and the
// titles of deals and tasks are sealed too: their lists sort and search
// from the service's in-memory index (ENC-4). An activity's subject is
// sealed and searched by the service, which opens the subjects of a
// bounded run of the list (docs/encryption.md, "What is sealed").
func sealed(entity string, rec any) (table string, id *int64, subject string, fs []field, ok bool) {
	switch r := rec.(type) {
	case *crm.Contact:
		return "contacts", &r.ID, crm.KeySubject("contact", r.ID), []field{
			{"first_name", &r.FirstName}, {"last_name", &r.LastName}, {"email", &r.Email}, {"phone", &r.Phone},
			{"title", &r.Title}, {"address", &r.Address}, {"birthday", &r.Birthday}, {"notes", &r.Notes}}, true
	case *crm.Company:
		return "companies", &r.ID, crm.KeySubject("company", r.ID), []field{
			{"name", &r.Name}, {"domain", &r.Domain}, {"phone", &r.Phone}, {"address", &r.Address}, {"notes", &r.Notes}}, true
	case *crm.Deal:
		return "deals", &r.ID, crm.KeySubject("deal", r.ID), []field{{"title", &r.Title}, {"notes", &r.Notes}}, true
	case *crm.Activity:
		return "activities", &r.ID, clientOf("activity", r.ID, r.ContactID, r.CompanyID), []field{{"subject", &r.Subject}, {"body", &r.Body}}, true
	case *crm.Task:
		return "tasks", &r.ID, clientOf("task", r.ID, r.ContactID, r.CompanyID), []field{{"title", &r.Title}, {"description", &r.Description}}, true
	case *crm.Consent:
		return "consents", &r.ID, crm.KeySubject("contact", r.ContactID), []field{{"source", &r.Source}}, true
	}
	return "", nil, "", nil, false
}

// SealedColumns lists, per entity ("contact", …, "consent"), the columns
// Seal encrypts today: what the store's SealFields may write, and what
// docs/data-classification.md marks sealed at rest (both tested).
func SealedColumns() map[string][]string {
	out := map[string][]string{}
	for entity, rec := range map[string]any{"contact": &crm.Contact{}, "company": &crm.Company{}, "deal": &crm.Deal{},
		"activity": &crm.Activity{}, "task": &crm.Task{}, "consent": &crm.Consent{}} {
		_, _, _, fs, _ := sealed(entity, rec)
		for _, f := range fs {
			out[entity] = append(out[entity], f.name)
		}
	}
	out["contact"] = append(out["contact"], "tags") // tags.go
	return out
}

// clientOf is the subject of an activity or task: its contact's, else its
// company's, else its own.
func clientOf(entity string, id int64, contact, company *int64) string {
	switch {
	case contact != nil:
		return crm.KeySubject("contact", *contact)
	case company != nil:
		return crm.KeySubject("company", *company)
	}
	return crm.KeySubject(entity, id)
}

// Seal encrypts rec's personal fields in place under its client's data
// key, reserving the id of a new record first (its id is in every sealed
// value).
func (s *Sealer) Seal(ctx context.Context, tx crm.RecordTx, entity string, rec any) error {
	_, idp, _, _, ok := sealed(entity, rec)
	if !ok {
		return nil
	}
	if *idp == 0 {
		newID, err := tx.ReserveID(ctx, entity)
		if err != nil {
			return err
		}
		*idp = newID
	}
	// Read again: a new record's subject names its reserved id.
	table, idp, subject, fs, _ := sealed(entity, rec)
	id := *idp
	c, _ := rec.(*crm.Contact)
	if c != nil {
		if err := s.setTokens(ctx, tx, c); err != nil {
			return err
		}
	}
	var key *vault.DataKey
	keyOnce := func() (*vault.DataKey, error) {
		if key == nil {
			var err error
			key, err = s.keyFor(ctx, tx, subject)
			return key, err
		}
		return key, nil
	}
	for _, f := range fs {
		// A value the setting keeps plain is sealed all the same when it
		// looks sealed (a name typed as "e1:…"): kept as it is, it would
		// not open.
		if *f.p == "" || s.keptPlain(table, f.name) && !vault.Sealed(*f.p) {
			continue
		}
		key, err := keyOnce()
		if err != nil {
			return err
		}
		v, err := key.Seal(vault.Where{Table: table, ID: id, Field: f.name}, *f.p)
		if err != nil {
			return fmt.Errorf("seal: %s %d %s: %w", entity, id, f.name, err)
		}
		*f.p = v
	}
	if c != nil && len(c.Tags) > 0 {
		key, err := keyOnce()
		if err != nil {
			return err
		}
		if err := sealTags(key, table, id, c); err != nil {
			return err
		}
	}
	return nil
}

// Open decrypts rec's sealed fields in place. A field that does not open
// is EINTEGRITY naming the record and the field, never its value. A field
// stored before encryption (no sealed prefix) is returned as it is; the
// upgrade pass seals those.
func (s *Sealer) Open(ctx context.Context, tx crm.RecordTx, entity string, rec any) error {
	table, idp, _, fs, ok := sealed(entity, rec)
	if !ok {
		return nil
	}
	id := *idp
	for _, f := range fs {
		if err := s.openValue(ctx, tx, entity, table, id, f.name, f.p); err != nil {
			return err
		}
	}
	if c, ok := rec.(*crm.Contact); ok {
		return s.openTags(ctx, tx, table, id, c)
	}
	return nil
}

// openValue opens the sealed value *p of field name of record id in place
// (Open).
func (s *Sealer) openValue(ctx context.Context, tx crm.RecordTx, entity, table string, id int64, name string, p *string) error {
	if !vault.Sealed(*p) {
		if *p != "" && s.strict.Load() && !s.plainAccepted(table, name) {
			return notOpening(entity, id, name)
		}
		return nil
	}
	kid, ok := vault.KeyOf(*p)
	if !ok {
		return notOpening(entity, id, name)
	}
	key, err := s.key(ctx, tx, kid)
	if errors.Is(err, vault.ErrIntegrity) || crm.ErrorCode(err) == crm.ENOTFOUND {
		return notOpening(entity, id, name)
	} else if err != nil {
		return err
	}
	v, err := key.Open(vault.Where{Table: table, ID: id, Field: name}, *p)
	if err != nil {
		return notOpening(entity, id, name)
	}
	*p = v
	return nil
}

// notOpening is the error of a field of a record that does not open,
// naming the record and the field, never the value.
func notOpening(entity string, id int64, field string) error {
	return &crm.Error{Code: crm.EINTEGRITY, Message: fmt.Sprintf(
		"%s %d: the encrypted field %s does not open: it was altered or moved, or its client was erased", entity, id, field)}
}

// Forget drops the data key id from memory: its client was erased, and
// the key no longer exists in the store.
func (s *Sealer) Forget(id int64) { s.cache.Forget(uint64(id)) }

// Prefetch loads, in one read, the data keys of recs' sealed fields that
// the cache does not hold: a page of fifty contacts has fifty clients.
func (s *Sealer) Prefetch(ctx context.Context, tx crm.RecordTx, entity string, recs []any) error {
	var missing []int64
	seen := map[uint64]bool{}
	for _, rec := range recs {
		_, _, _, fs, ok := sealed(entity, rec)
		if !ok {
			return nil
		}
		values := make([]string, 0, len(fs)+1)
		for _, f := range fs {
			values = append(values, *f.p)
		}
		if c, ok := rec.(*crm.Contact); ok {
			if v, ok := packedTags(c); ok {
				values = append(values, v)
			}
		}
		for _, v := range values {
			if kid, ok := vault.KeyOf(v); ok && !seen[kid] {
				seen[kid] = true
				if s.cache.Get(kid) == nil {
					missing = append(missing, int64(kid))
				}
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	gen := s.cache.Gen()
	keys, err := tx.DataKeysByID(ctx, missing)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if _, err := s.unwrap(ctx, k, gen); err != nil && !errors.Is(err, vault.ErrIntegrity) {
			return err
		}
	}
	return nil
}

// key returns the unwrapped data key id, from the cache or the store.
func (s *Sealer) key(ctx context.Context, tx crm.RecordTx, id uint64) (*vault.DataKey, error) {
	if k := s.cache.Get(id); k != nil {
		return k, nil
	}
	gen := s.cache.Gen()
	ks, err := tx.DataKeysByID(ctx, []int64{int64(id)})
	if err != nil {
		return nil, err
	}
	if len(ks) == 0 {
		return nil, crm.NotFound("data key")
	}
	return s.unwrap(ctx, ks[0], gen)
}

// unwrap unwraps a data key read from the store after the cache's Gen
// was gen into the cache (vault.Cache.PutSince: not cached when a key was
// forgotten meanwhile).
func (s *Sealer) unwrap(ctx context.Context, k *crm.DataKey, gen uint64) (*vault.DataKey, error) {
	raw, err := s.kek.Unwrap(ctx, k.Wrapped, k.KEKVersion, wrapAAD(k.Subject))
	if err != nil {
		return nil, err
	}
	return s.cache.PutSince(uint64(k.ID), raw, gen)
}

// SweepKeys drops from memory the data keys kept longer than
// vault.KeyTTL (the server calls it every minute).
func (s *Sealer) SweepKeys() { s.cache.Sweep() }

// wrapAAD binds a wrapped data key to its subject (the KEK adds its own
// context and version).
func wrapAAD(subject string) []byte { return []byte(subject) }

// keyFor returns the data key of subject, making it on the client's first
// write. The subject's key id is read from the store on every write (one
// read by a unique index): a key made by a write that then rolls back
// must never be used by a later one.
func (s *Sealer) keyFor(ctx context.Context, tx crm.RecordTx, subject string) (*vault.DataKey, error) {
	gen := s.cache.Gen()
	stored, raw, err := s.storedKey(ctx, tx, subject)
	if err != nil {
		return nil, err
	}
	if raw != nil {
		return s.cache.Put(uint64(stored.ID), raw)
	}
	if k := s.cache.Get(uint64(stored.ID)); k != nil {
		return k, nil
	}
	return s.unwrap(ctx, stored, gen)
}

// storedKey returns the stored data key of subject, making and storing
// one when there is none; raw is the new key's plaintext when this call
// made it (the caller keeps or clears it), nil otherwise.
func (s *Sealer) storedKey(ctx context.Context, tx crm.RecordTx, subject string) (stored *crm.DataKey, raw []byte, err error) {
	stored, err = tx.DataKeyOf(ctx, subject)
	if crm.ErrorCode(err) != crm.ENOTFOUND {
		return stored, nil, err
	}
	raw = make([]byte, vault.KeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, nil, err
	}
	wrapped, version, err := s.kek.Wrap(ctx, raw, wrapAAD(subject))
	if err != nil {
		clear(raw)
		return nil, nil, err
	}
	// Data key ids are random, so that an id is never used twice even
	// when the write that made a key rolls back: the cache may then hold
	// a key no stored value names, and nothing else.
	dk := &crm.DataKey{ID: randomID(), Subject: subject, KEKVersion: version, Wrapped: wrapped, CreatedAt: tx.Now()}
	switch err := tx.InsertDataKey(ctx, dk); {
	case err == nil:
		return dk, raw, nil
	case crm.ErrorCode(err) != crm.ECONFLICT:
		clear(raw)
		return nil, nil, err
	}
	// Another transaction made the key meanwhile (two first writes at
	// once, another instance, or a rotation of the client's key on
	// PostgreSQL): use it.
	clear(raw)
	stored, err = tx.DataKeyOf(ctx, subject)
	return stored, nil, err
}

// randomID is a random positive 63-bit id.
func randomID() int64 {
	var b [8]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic(err) // crypto/rand does not fail (Go 1.24+)
		}
		if id := int64(binary.BigEndian.Uint64(b[:]) >> 1); id > 0 {
			return id
		}
	}
}

// Rewrap re-wraps every data key of st that is not under version with
// kek's current version, batch keys per write, so that a server on the
// same store keeps serving; progress is told the keys of each batch. A
// run cut short leaves the rest under their old version: the next run
// finishes them (ENC-3). It returns how many keys it re-wrapped.
func Rewrap(ctx context.Context, st crm.Store, kek vault.KEK, version, batch int, progress func(int)) (int, error) {
	// Data key ids are random: a key a server makes under the old version
	// while a pass runs may fall behind its cursor.
	return inPasses(ctx, "data keys",
		func() (int, error) { return rewrapPass(ctx, st, kek, version, batch, progress) },
		func() (int64, error) { return NotUnder(ctx, st, version) })
}

// inPasses runs pass until left counts nothing left to do, and reports
// what a server still wrapping under the old version (another instance
// with the old key file) leaves after several passes. It returns how much
// the passes did.
func inPasses(ctx context.Context, what string, pass func() (int, error), left func() (int64, error)) (int, error) {
	total := 0
	for i := 0; ; i++ {
		n, err := pass()
		total += n
		if err != nil {
			return total, err
		}
		rest, err := left()
		if err != nil {
			return total, err
		}
		if rest == 0 {
			return total, nil
		}
		if i >= rewrapPasses {
			return total, fmt.Errorf("%d %s are still wrapped under an older version after %d passes: an instance still wraps under the old key (copy the new key file to every instance), then resume", rest, what, i+1)
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(rewrapPause):
		}
	}
}

// NotUnder counts the data keys of st wrapped under another version than
// version: what a rotation to it has left to do.
func NotUnder(ctx context.Context, st crm.Store, version int) (int64, error) {
	var left int64
	err := st.Read(ctx, func(tx crm.Tx) error {
		counts, err := tx.DataKeyVersions(ctx)
		for v, c := range counts {
			if v != version {
				left += c
			}
		}
		return err
	})
	return left, err
}

// rewrapPasses and rewrapPause bound the passes of Rewrap: a server reads a
// changed key file within 5 seconds.
const (
	rewrapPasses = 8
	rewrapPause  = 2 * time.Second
)

// rewrapPass re-wraps, in id order, the data keys not under version.
func rewrapPass(ctx context.Context, st crm.Store, kek vault.KEK, version, batch int, progress func(int)) (int, error) {
	total := 0
	after := int64(0)
	for {
		var last int64
		var done int
		err := st.Write(ctx, func(tx crm.Tx) error {
			last, done = after, 0
			ks, err := tx.DataKeysBelow(ctx, version, after, batch)
			if err != nil {
				return err
			}
			for _, k := range ks {
				raw, err := kek.Unwrap(ctx, k.Wrapped, k.KEKVersion, wrapAAD(k.Subject))
				if err != nil {
					return fmt.Errorf("data key %d (%s): %w", k.ID, k.Subject, err)
				}
				wrapped, v, err := kek.Wrap(ctx, raw, wrapAAD(k.Subject))
				clear(raw)
				if err != nil {
					return err
				}
				if v != version {
					return fmt.Errorf("the current key-encryption key version is %d, not %d: rotate again", v, version)
				}
				if err := tx.RewrapDataKey(ctx, k.ID, v, wrapped); err != nil && crm.ErrorCode(err) != crm.ENOTFOUND {
					return err
				}
				last = k.ID
				done++
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		if done == 0 {
			return total, nil
		}
		total += done
		after = last
		if progress != nil {
			progress(done)
		}
	}
}

// Canary is the subject of the data key that proves, at every start, that
// the key-encryption key is the one this database's keys are wrapped by.
const Canary = "custos:canary"

// ErrWrongKEK is the refusal to start with a key-encryption key that does
// not unwrap this database's data keys.
var ErrWrongKEK = errors.New("seal: the key-encryption key does not open this database's data keys: it is the wrong key, or the wrong version of it")

// Verify reports whether kek unwraps the canary data key wrapped under
// version: ErrWrongKEK when it does not.
func Verify(ctx context.Context, kek vault.KEK, version int, wrapped []byte) error {
	raw, err := kek.Unwrap(ctx, wrapped, version, wrapAAD(Canary))
	if err != nil {
		return fmt.Errorf("%w (%v)", ErrWrongKEK, err)
	}
	clear(raw)
	return nil
}

// Check proves that kek opens st's data keys: it unwraps the canary data
// key, made at the first start. ErrWrongKEK when it does not open.
func Check(ctx context.Context, st crm.Store, kek vault.KEK) error {
	var stored *crm.DataKey
	err := st.Read(ctx, func(tx crm.Tx) error {
		var err error
		stored, err = tx.DataKeyOf(ctx, Canary)
		return err
	})
	switch {
	case err == nil:
		return Verify(ctx, kek, stored.KEKVersion, stored.Wrapped)
	case crm.ErrorCode(err) != crm.ENOTFOUND:
		return err
	}
	return st.Write(ctx, func(tx crm.Tx) error {
		if stored, err := tx.DataKeyOf(ctx, Canary); err == nil {
			// Another instance made it meanwhile: it must open under
			// this key too, or the two would wrap under different keys.
			return Verify(ctx, kek, stored.KEKVersion, stored.Wrapped)
		}
		// No canary but data keys (a database of the first step, a
		// partial restore, a deleted row): one of them must open, or any
		// key would be taken as the right one.
		if some, err := tx.DataKeysBelow(ctx, 0, 0, 1); err != nil {
			return err
		} else if len(some) == 1 {
			raw, err := kek.Unwrap(ctx, some[0].Wrapped, some[0].KEKVersion, wrapAAD(some[0].Subject))
			if err != nil {
				return fmt.Errorf("%w (%v)", ErrWrongKEK, err)
			}
			clear(raw)
		}
		raw := make([]byte, vault.KeySize)
		if _, err := rand.Read(raw); err != nil {
			return err
		}
		wrapped, v, err := kek.Wrap(ctx, raw, wrapAAD(Canary))
		clear(raw)
		if err != nil {
			return err
		}
		return tx.InsertDataKey(ctx, &crm.DataKey{ID: randomID(), Subject: Canary, KEKVersion: v, Wrapped: wrapped, CreatedAt: tx.Now()})
	})
}

// Keys reports whether st holds any data key: a store that does, started
// without its key file, is refused rather than given a new key.
func Keys(ctx context.Context, st crm.Store) (int64, error) {
	var n int64
	err := st.Read(ctx, func(tx crm.Tx) error {
		counts, err := tx.DataKeyVersions(ctx)
		for _, c := range counts {
			n += c
		}
		return err
	})
	return n, err
}
