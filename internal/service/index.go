package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/memindex"
	"github.com/nyaruka/phonenumbers"
)

// The contact lists of ENC-4: sorted by name or email, searched by words
// of the names, the email, the phone's digits and the company's name,
// filtered by exact email and phone. The store holds names, email and
// phone sealed, so it can neither sort nor match them: the service keeps
// every contact's opened sort keys and search terms in memory
// (internal/memindex), asks it for a page of ids, and reads those rows,
// in the caller's scope again, from the store. The index follows the
// store's change sequence (crm.ChangeTx) before each list, so a list sees
// every write committed before it began, by this instance or any other.

// contactSchema is the index of contacts. Every sort has ordered trees,
// so a page costs the same whatever the caller's scope (PRF-3).
var contactSchema = memindex.Schema{
	Sorts:  crm.SortFields["contacts"],
	Trees:  crm.SortFields["contacts"],
	Attrs:  []string{"company_id"},
	Lookup: []string{"company_id"},
	Fields: []string{"first_name", "last_name", "email", "phone", "email_domain", "phone_national"},
}

// The positions of contactSchema's search fields and attribute. The
// email's domain and the phone's national number are fields of their own,
// so that the exact filters match only the whole email and the whole
// phone.
const (
	termFirst uint8 = iota
	termLast
	termEmail
	termPhone
	termEmailDomain
	termPhoneNational
	attrCompany = 0
)

// searchedFields are the contact fields a search reads, and the index
// fields each one's terms are in.
var searchedFields = map[string][]uint8{
	"first_name": {termFirst},
	"last_name":  {termLast},
	"email":      {termEmail, termEmailDomain},
	"phone":      {termPhone, termPhoneNational},
}

// intSorts are the sorts whose keys are numbers (cursor keys in decimal,
// index keys zero-padded so that they order as strings).
var intSorts = map[string]bool{"created_at": true, "updated_at": true, "amount": true, "due_at": true}

// maxCompanyMatches bounds the companies a search word may name: the
// contacts of the first so many companies with a word of their name
// starting with it match. Only words of minCompanyWord letters or more
// match company names, and a search has at most maxSearchWords words:
// each word of a search costs a walk of the company index.
const (
	maxCompanyMatches = 10000
	minCompanyWord    = 2
	maxSearchWords    = 8
)

// companySchema is the index of companies (ENC-4): their lists sort by
// name and search the words of the name and the domain's start, and a
// contact search word may start a company's name (the contacts of those
// companies match). The whole name is a field of its own, so that the
// exact name filter matches only the whole name.
var companySchema = memindex.Schema{
	Sorts:  crm.SortFields["companies"],
	Trees:  crm.SortFields["companies"],
	Fields: []string{"name", "domain", "name_exact"},
}

// The positions of companySchema's search fields.
const (
	companyName uint8 = iota
	companyDomain
	companyNameExact
)

// dealSchema is the index of deals (ENC-4): their lists sort by title
// among others and search the words of the title; a deal's stage,
// contact and company are found by value (a pipeline's column, a client's
// deals).
var dealSchema = memindex.Schema{
	Sorts:  crm.SortFields["deals"],
	Trees:  crm.SortFields["deals"],
	Attrs:  []string{"pipeline_id", "stage_id", "contact_id", "company_id"},
	Lookup: []string{"stage_id", "contact_id", "company_id"},
	Fields: []string{"title"},
}

// The positions of dealSchema's attributes.
const (
	dealPipeline = iota
	dealStage
	dealContact
	dealCompany
)

// taskSchema is the index of tasks (ENC-4): their lists sort by title
// among others and search the words of the title; a task's assignee,
// contact, company and deal are found by value. A task is in the scope of
// its assignee too (Rec.Assignee).
var taskSchema = memindex.Schema{
	Sorts:  crm.SortFields["tasks"],
	Trees:  crm.SortFields["tasks"],
	Attrs:  []string{"status", "assignee_id", "contact_id", "company_id", "deal_id"},
	Lookup: []string{"assignee_id", "contact_id", "company_id", "deal_id"},
	Fields: []string{"title"},
}

// The positions of taskSchema's attributes.
const (
	taskStatus = iota
	taskAssignee
	taskContact
	taskCompany
	taskDeal
)

// statusCode is a task status as the index's attribute: its position in
// crm.TaskStatuses, from 1.
func statusCode(status string) int64 { return int64(slices.Index(crm.TaskStatuses, status) + 1) }

// recordIndex is one entity's index and how far it has read the store's
// change sequence.
type recordIndex struct {
	entity string
	schema memindex.Schema
	// cur is the index lists read; a build fills a new one and swaps it
	// in when it has read every record.
	cur atomic.Pointer[memindex.Index]
	// read returns the index records of the records ids (at most a
	// page), in every state; those no longer stored are left out.
	read func(ctx context.Context, tx crm.RecordTx, ids []int64) ([]memindex.Rec, error)

	mu     sync.Mutex // held while the change sequence is read and applied
	mark   crm.ChangeMark
	synced time.Time // when the last completed read of the sequence began
}

// x is the index as it is now; nil before the first build.
func (ix *recordIndex) x() *memindex.Index { return ix.cur.Load() }

func (s *Service) newContactIndex() *recordIndex {
	return &recordIndex{entity: "contact", schema: contactSchema,
		read: func(ctx context.Context, tx crm.RecordTx, ids []int64) ([]memindex.Rec, error) {
			rows, _, err := tx.Contacts(ctx, crm.Scope{All: true}, crm.ContactFilter{IDs: ids, AnyState: true},
				crm.ListQuery{Sort: "created_at", Limit: len(ids)})
			if err != nil {
				return nil, err
			}
			return openRecs(ctx, s, tx, "contact", rows, func(c *crm.Contact) int64 { return c.ID },
				func(c *crm.Contact) { c.FirstName, c.LastName, c.Email, c.Phone = "", "", "", "" }, contactRec)
		}}
}

func (s *Service) newCompanyIndex() *recordIndex {
	return &recordIndex{entity: "company", schema: companySchema,
		read: func(ctx context.Context, tx crm.RecordTx, ids []int64) ([]memindex.Rec, error) {
			rows, _, err := tx.Companies(ctx, crm.Scope{All: true}, crm.CompanyFilter{IDs: ids, AnyState: true},
				crm.ListQuery{Sort: "created_at", Limit: len(ids)})
			if err != nil {
				return nil, err
			}
			return openRecs(ctx, s, tx, "company", rows, func(c *crm.Company) int64 { return c.ID },
				func(c *crm.Company) { c.Name, c.Domain = "", "" }, companyRec)
		}}
}

func (s *Service) newDealIndex() *recordIndex {
	return &recordIndex{entity: "deal", schema: dealSchema,
		read: func(ctx context.Context, tx crm.RecordTx, ids []int64) ([]memindex.Rec, error) {
			rows, _, err := tx.Deals(ctx, crm.Scope{All: true}, crm.DealFilter{IDs: ids, AnyState: true},
				crm.ListQuery{Sort: "created_at", Limit: len(ids)})
			if err != nil {
				return nil, err
			}
			return openRecs(ctx, s, tx, "deal", rows, func(d *crm.Deal) int64 { return d.ID },
				func(d *crm.Deal) { d.Title = "" }, dealRec)
		}}
}

func (s *Service) newTaskIndex() *recordIndex {
	return &recordIndex{entity: "task", schema: taskSchema,
		read: func(ctx context.Context, tx crm.RecordTx, ids []int64) ([]memindex.Rec, error) {
			rows, _, err := tx.Tasks(ctx, crm.Scope{All: true}, crm.TaskFilter{IDs: ids, AnyState: true},
				crm.ListQuery{Sort: "created_at", Limit: len(ids)})
			if err != nil {
				return nil, err
			}
			return openRecs(ctx, s, tx, "task", rows, func(t *crm.Task) int64 { return t.ID },
				func(t *crm.Task) { t.Title = "" }, taskRec)
		}}
}

// indexes are the service's in-memory indexes.
func (s *Service) indexes() []*recordIndex {
	return []*recordIndex{s.contacts, s.companies, s.deals, s.tasks}
}

// WarmIndexes builds the in-memory indexes now rather than at the first
// list (serve calls it at start). It returns how many records they hold.
func (s *Service) WarmIndexes(ctx context.Context) (int, error) {
	n := 0
	for _, ix := range s.indexes() {
		if err := s.syncIndex(ctx, ix, time.Now()); err != nil {
			return 0, err
		}
		n += ix.x().Len()
	}
	return n, nil
}

// FollowChanges keeps the in-memory indexes current in the background:
// it reads the change sequence every interval until ctx ends, so that a
// list finds little left to apply, and an instance nobody lists on for
// longer than ChangeRetention does not read every record again at its
// next list (serve runs it).
func (s *Service) FollowChanges(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, ix := range s.indexes() {
			if err := s.syncIndex(ctx, ix, time.Now()); err != nil && ctx.Err() == nil {
				s.log.LogAttrs(ctx, slog.LevelWarn, "index: reading the change sequence failed; the next list tries again",
					slog.String("entity", ix.entity), slog.String("error", crm.ErrorMessage(err)))
			}
		}
	}
}

// syncIndex brings ix up to date with every change committed before since:
// when another caller's read of the change sequence began after since, it
// has done the work.
func (s *Service) syncIndex(ctx context.Context, ix *recordIndex, since time.Time) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.x() != nil && ix.synced.After(since) {
		return nil
	}
	began := time.Now()
	if ix.x() == nil {
		if err := s.buildIndex(ctx, ix); err != nil {
			return err
		}
		ix.synced = began
		return nil
	}
	var changes []crm.Change
	var mark crm.ChangeMark
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		changes, mark, err = tx.Changes(ctx, ix.mark)
		return err
	})
	if errors.Is(err, crm.ErrChangesGone) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "index: the change sequence was pruned past this instance; reading every record again",
			slog.String("entity", ix.entity))
		if err := s.buildIndex(ctx, ix); err != nil {
			return err
		}
		ix.synced = began
		return nil
	}
	if err != nil {
		return err
	}
	seen := map[crm.Change]bool{}
	var ids, shares []int64
	for _, c := range changes {
		k := crm.Change{Entity: c.Entity, ID: c.ID}
		if seen[k] {
			continue
		}
		seen[k] = true
		switch c.Entity {
		case ix.entity:
			ids = append(ids, c.ID)
		case "share":
			shares = append(shares, c.ID)
		}
	}
	for _, step := range []struct {
		ids   []int64
		apply func(context.Context, *recordIndex, []int64) error
	}{{ids, s.indexRecords}, {shares, s.indexShares}} {
		for page := range slices.Chunk(step.ids, crm.MaxLimit) {
			if err := step.apply(ctx, ix, page); err != nil {
				return err
			}
		}
	}
	ix.mark, ix.synced = mark, began
	return nil
}

// indexShares reads the shares ids (at most a page) and puts those of
// ix's entity in it; those no longer stored (revoked, purged, gone with
// their grantee) leave it.
func (s *Service) indexShares(ctx context.Context, ix *recordIndex, ids []int64) error {
	return applyPage(ctx, s, ix, ids, func(tx crm.Tx) ([]*crm.Share, error) { return tx.SharesByID(ctx, ids) },
		func(sh *crm.Share) int64 { return sh.ID },
		func(x *memindex.Index, sh *crm.Share) {
			if sh.Entity == ix.entity {
				x.PutShare(indexShare(sh))
			}
		}, func(x *memindex.Index, id int64) { x.DeleteShare(id) })
}

// applyPage reads the items of ids (at most a page) and puts each in ix's
// index; the ids read finds no longer stored are dropped from it.
func applyPage[T any](ctx context.Context, s *Service, ix *recordIndex, ids []int64, read func(crm.Tx) ([]T, error),
	id func(T) int64, put func(*memindex.Index, T), drop func(*memindex.Index, int64)) error {
	return s.store.Read(ctx, func(tx crm.Tx) error {
		items, err := read(tx)
		if err != nil {
			return err
		}
		x := ix.x()
		found := make(map[int64]bool, len(items))
		for _, it := range items {
			found[id(it)] = true
			put(x, it)
		}
		for _, i := range ids {
			if !found[i] {
				drop(x, i)
			}
		}
		return nil
	})
}

// indexQuery is the index's query of the page q: its sort, order, limit
// and cursor.
func indexQuery(q crm.ListQuery) (memindex.Query, error) {
	iq := memindex.Query{Sort: q.Sort, Desc: q.Desc, Limit: q.Limit}
	if c := q.After; c != nil {
		key, ok := indexKey(q.Sort, c.Key)
		if !ok || c.Sort != q.Sort || c.ID <= 0 || !utf8.ValidString(c.Key) {
			return iq, crm.Invalid("cursor", "invalid")
		}
		iq.After = &memindex.Cursor{Key: key, ID: c.ID}
	}
	return iq, nil
}

// indexPage is one page of ix's records in scope sc at now for iq: the
// ids from the index, then their rows, in scope again, from the store
// (read, which returns them in any order), in the index's order.
func indexPage[T any](ix *recordIndex, sc crm.Scope, now time.Time, iq memindex.Query, read func(ids []int64) ([]T, error),
	id func(T) int64) ([]T, string, error) {
	hits, more, err := ix.x().Page(indexScope(sc, now), iq)
	if err != nil || len(hits) == 0 {
		return []T{}, "", err
	}
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	rows, err := read(ids)
	if err != nil {
		return nil, "", err
	}
	byID := make(map[int64]T, len(rows))
	for _, r := range rows {
		byID[id(r)] = r
	}
	out := make([]T, 0, len(rows))
	for _, i := range ids {
		if r, ok := byID[i]; ok {
			out = append(out, r)
		}
	}
	next := ""
	if more {
		// After the last row the store returned: a row the index gave but
		// the store's scope left out (a share revoked meanwhile) shapes
		// no cursor. A page of none such goes on after the index's last.
		last := hits[len(hits)-1]
		if len(out) > 0 {
			for _, h := range hits {
				if h.ID == id(out[len(out)-1]) {
					last = h
				}
			}
		}
		next = crm.EncodeCursor(crm.Cursor{Sort: iq.Sort, Key: cursorKey(iq.Sort, last.Key), ID: last.ID})
	}
	return out, next, nil
}

// searchWords are the words of q, each once, as a search of the index:
// each must start a word of a searched field.
func searchWords(q string) []memindex.Word {
	var out []memindex.Word
	seen := map[string]bool{}
	for _, w := range strings.Fields(q) {
		if !seen[w] {
			seen[w] = true
			out = append(out, memindex.Word{Text: w, Attr: -1})
		}
	}
	return out
}

// indexShare is the index's form of a share.
func indexShare(sh *crm.Share) memindex.Share {
	out := memindex.Share{ID: sh.ID, Record: sh.RecordID, Write: sh.Access == crm.ShareWrite}
	if sh.UserID != nil {
		out.User = *sh.UserID
	}
	if sh.TeamID != nil {
		out.Team = *sh.TeamID
	}
	if sh.ExpiresAt != nil {
		out.Expires = sh.ExpiresAt.UnixMicro()
	}
	return out
}

// indexScope is the index's form of the scope sc at now.
func indexScope(sc crm.Scope, now time.Time) memindex.Scope {
	return memindex.Scope{All: sc.All, Owner: sc.OwnerID, Teams: sc.Teams, Assignee: sc.Assignee,
		Shared: sc.Shared, ShareTeams: sc.ShareTeams, ShareWrite: sc.ShareWrite, Now: now.UnixMicro()}
}

// buildIndex reads every record into a new index and swaps it in for ix's:
// the head of the change sequence first, so that what changes during the
// read is applied after it. Lists read the old index meanwhile; a build
// that fails leaves it as it was.
func (s *Service) buildIndex(ctx context.Context, ix *recordIndex) error {
	fresh := memindex.New(ix.schema)
	var mark crm.ChangeMark
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		if mark, err = tx.ChangeHead(ctx); err != nil {
			return err
		}
		// Every record, live or deleted, a page of ids at a time along
		// the primary key.
		for after := int64(0); ; {
			ids, err := tx.IDsAfter(ctx, ix.entity, after, crm.MaxLimit)
			if err != nil {
				return err
			}
			if len(ids) > 0 {
				recs, err := ix.read(ctx, tx, ids)
				if err != nil {
					return err
				}
				for _, r := range recs {
					fresh.Put(r)
				}
				after = ids[len(ids)-1]
			}
			if len(ids) < crm.MaxLimit {
				break
			}
		}
		// The entity's shares, expired ones too (a page judges expiry).
		for after := int64(0); ; {
			shares, err := tx.SharesAfter(ctx, ix.entity, after, crm.MaxLimit)
			if err != nil {
				return err
			}
			for _, sh := range shares {
				fresh.PutShare(indexShare(sh))
				after = sh.ID
			}
			if len(shares) < crm.MaxLimit {
				return nil
			}
		}
	})
	if err != nil {
		return fmt.Errorf("index of %s records: %w", ix.entity, err)
	}
	ix.mark = mark
	ix.cur.Store(fresh)
	return nil
}

// indexRecords reads the records ids (at most a page) and puts them in
// ix; those no longer stored (purged, erased) leave it.
func (s *Service) indexRecords(ctx context.Context, ix *recordIndex, ids []int64) error {
	return applyPage(ctx, s, ix, ids, func(tx crm.Tx) ([]memindex.Rec, error) { return ix.read(ctx, tx, ids) },
		func(r memindex.Rec) int64 { return r.ID },
		func(x *memindex.Index, r memindex.Rec) { x.Put(r) }, func(x *memindex.Index, id int64) { x.Delete(id) })
}

// openRecs opens rows of entity and returns their index records (rec). A
// record that does not open (a tampered value) is indexed without its
// sealed keys (blank clears them): it stays in its lists, whose read then
// fails naming it, as a read of it does. Any other failure (the KMS, the
// store) fails the read, so that the change is read again.
func openRecs[T any](ctx context.Context, s *Service, tx crm.RecordTx, entity string, rows []T, id func(T) int64,
	blank func(T), rec func(T) memindex.Rec) ([]memindex.Rec, error) {
	if err := prefetch(ctx, s, tx, entity, rows); err != nil && crm.ErrorCode(err) != crm.EINTEGRITY {
		return nil, err
	}
	recs := make([]memindex.Rec, len(rows))
	for i, r := range rows {
		if err := s.hooks.Open(ctx, tx, entity, r); err != nil {
			if crm.ErrorCode(err) != crm.EINTEGRITY {
				return nil, err
			}
			s.log.LogAttrs(ctx, slog.LevelWarn, "index: a record does not open", slog.String("entity", entity),
				slog.Int64("id", id(r)), slog.String("error", crm.ErrorMessage(err)))
			blank(r)
		}
		recs[i] = rec(r)
	}
	return recs, nil
}

// companyRec is the index's record of an opened company.
func companyRec(c *crm.Company) memindex.Rec {
	r := memindex.Rec{ID: c.ID, Owner: c.OwnerID, Deleted: c.DeletedAt != nil, Tags: c.Tags,
		Keys: []string{fold(c.Name), intKey(c.CreatedAt.UnixMicro()), intKey(c.UpdatedAt.UnixMicro())}}
	if c.TeamID != nil {
		r.Team = *c.TeamID
	}
	r.Terms = appendWords(r.Terms, companyName, c.Name)
	if d := strings.ToLower(c.Domain); d != "" {
		r.Terms = append(r.Terms, memindex.Term{Field: companyDomain, Text: d})
	}
	if n := fold(c.Name); n != "" {
		r.Terms = append(r.Terms, memindex.Term{Field: companyNameExact, Text: n})
	}
	return r
}

// dealRec is the index's record of an opened deal. A deal without an
// expected close sorts after every date, as the store's lists sort it.
func dealRec(d *crm.Deal) memindex.Rec {
	closing := d.ExpectedClose
	if closing == "" {
		closing = "9999-12-31"
	}
	r := memindex.Rec{ID: d.ID, Owner: d.OwnerID, Deleted: d.DeletedAt != nil, Tags: d.Tags,
		Attrs: []int64{d.PipelineID, d.StageID, 0, 0},
		Keys: []string{intKey(d.CreatedAt.UnixMicro()), fold(d.Title), closing, intKey(d.AmountMinor),
			intKey(d.UpdatedAt.UnixMicro())}}
	if d.TeamID != nil {
		r.Team = *d.TeamID
	}
	if d.ContactID != nil {
		r.Attrs[dealContact] = *d.ContactID
	}
	if d.CompanyID != nil {
		r.Attrs[dealCompany] = *d.CompanyID
	}
	r.Terms = appendWords(r.Terms, 0, d.Title)
	return r
}

// taskRec is the index's record of an opened task. A task without a due
// time sorts after every time, as the store's lists sort it.
func taskRec(t *crm.Task) memindex.Rec {
	due := int64(math.MaxInt64)
	if t.DueAt != nil {
		due = t.DueAt.UnixMicro()
	}
	r := memindex.Rec{ID: t.ID, Owner: t.OwnerID, Assignee: t.AssigneeID, Deleted: t.DeletedAt != nil,
		Attrs: []int64{statusCode(t.Status), t.AssigneeID, 0, 0, 0},
		Keys:  []string{intKey(due), intKey(t.CreatedAt.UnixMicro()), intKey(t.UpdatedAt.UnixMicro()), fold(t.Title)}}
	if t.TeamID != nil {
		r.Team = *t.TeamID
	}
	for i, link := range []*int64{t.ContactID, t.CompanyID, t.DealID} {
		if link != nil {
			r.Attrs[taskContact+i] = *link
		}
	}
	r.Terms = appendWords(r.Terms, 0, t.Title)
	return r
}

// eqs are the attribute filters of the non-zero values of byAttr (by
// attribute position), in attribute order.
func eqs(byAttr map[int]int64) []memindex.Eq {
	var out []memindex.Eq
	for _, attr := range slices.Sorted(maps.Keys(byAttr)) {
		if v := byAttr[attr]; v != 0 {
			out = append(out, memindex.Eq{Attr: attr, Value: v})
		}
	}
	return out
}

// contactRec is the index's record of an opened contact.
func contactRec(c *crm.Contact) memindex.Rec {
	r := memindex.Rec{ID: c.ID, Owner: c.OwnerID, Deleted: c.DeletedAt != nil, Attrs: []int64{0}, Tags: c.Tags,
		Keys: []string{fold(c.LastName), fold(c.FirstName), strings.ToLower(c.Email),
			intKey(c.CreatedAt.UnixMicro()), intKey(c.UpdatedAt.UnixMicro())}}
	if c.TeamID != nil {
		r.Team = *c.TeamID
	}
	if c.CompanyID != nil {
		r.Attrs[attrCompany] = *c.CompanyID
	}
	r.Terms = appendWords(r.Terms, termFirst, c.FirstName)
	r.Terms = appendWords(r.Terms, termLast, c.LastName)
	if e := strings.ToLower(c.Email); e != "" {
		r.Terms = append(r.Terms, memindex.Term{Field: termEmail, Text: e})
		if at := strings.LastIndexByte(e, '@'); at > 0 && at < len(e)-1 {
			r.Terms = append(r.Terms, memindex.Term{Field: termEmailDomain, Text: e[at+1:]})
		}
	}
	if d := phoneDigits(c.Phone); len(d) > 0 {
		r.Terms = append(r.Terms, memindex.Term{Field: termPhone, Text: d[0]})
		if len(d) > 1 {
			r.Terms = append(r.Terms, memindex.Term{Field: termPhoneNational, Text: d[1]})
		}
	}
	return r
}

// fold is a name as it sorts and is searched: lower case.
func fold(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// appendWords adds the terms of a name: the whole name, and each of its
// words when it has several ("anna-maria" also as "anna" and "maria"), so
// that a search finds a word inside a name.
func appendWords(terms []memindex.Term, field uint8, name string) []memindex.Term {
	whole := fold(name)
	if whole == "" {
		return terms
	}
	terms = append(terms, memindex.Term{Field: field, Text: whole})
	words := strings.FieldsFunc(whole, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) == 1 && words[0] == whole {
		return terms
	}
	for _, w := range words {
		terms = append(terms, memindex.Term{Field: field, Text: w})
	}
	return terms
}

// phoneDigits are the search terms of a phone in E.164: its digits with
// the country code, and without it (the national number), so that
// "79165551234", "916555" and "+7 916 555" all find +79165551234.
func phoneDigits(phone string) []string {
	if phone == "" {
		return nil
	}
	full := strings.TrimPrefix(phone, "+")
	out := []string{full}
	if n, err := phonenumbers.Parse(phone, ""); err == nil {
		if national := phonenumbers.GetNationalSignificantNumber(n); national != "" && national != full {
			out = append(out, national)
		}
	}
	return out
}

// intKey is a number as an index key: sixteen hex digits of the number
// with its sign bit flipped, so that keys order as the numbers do,
// negative ones (a task due before 1970) included.
func intKey(n int64) string { return fmt.Sprintf("%016x", uint64(n)^(1<<63)) }

// keyInt is the number of an index key intKey made; ok is false for any
// other string.
func keyInt(key string) (int64, bool) {
	if len(key) != 16 {
		return 0, false
	}
	u, err := strconv.ParseUint(key, 16, 64)
	return int64(u ^ (1 << 63)), err == nil
}

// indexKey turns a cursor's key into the index's form; ok is false for a
// key no page can have made.
func indexKey(sort, key string) (string, bool) {
	if !intSorts[sort] {
		return key, true
	}
	n, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		return "", false
	}
	return intKey(n), true
}

// cursorKey is an index key as a cursor holds it (numbers in decimal, as
// the store's lists write them).
func cursorKey(sort, key string) string {
	if !intSorts[sort] {
		return key
	}
	n, _ := keyInt(key)
	return strconv.FormatInt(n, 10)
}

// phoneQuery reports whether q reads as part of a phone number (digits,
// spaces, "+", "-", parentheses, dots, with a digit) and returns its
// digits.
func phoneQuery(q string) (string, bool) {
	var b strings.Builder
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '+' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return "", false
		}
	}
	return b.String(), b.Len() > 0
}
