package memindex

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var schema = Schema{
	Sorts:  []string{"last_name", "email", "created_at"},
	Trees:  []string{"last_name", "email"},
	Attrs:  []string{"company", "stage"},
	Lookup: []string{"company"},
	Fields: []string{"name", "email"},
}

const (
	company = 0
	stage   = 1
)

var words = []string{"ivanov", "ivanova", "petrov", "sidorov", "smith", "smythe", "orlov", "kuznetsov", "popov", "volkov"}

// now is the time the scopes' shares are judged at.
const now = 1_000_000

// shares are the shares of the tests: of records to user 5 and to teams 7
// and 8, for reading or writing, expired or not; one of a record no index
// holds (9999 in the small one), one replaced by a later one.
var shares = []Share{
	{ID: 1, Record: 3, User: 5},
	{ID: 2, Record: 17, User: 5, Write: true},
	{ID: 3, Record: 44, User: 5, Expires: now - 1}, // expired
	{ID: 4, Record: 250, User: 5, Expires: now + 1},
	{ID: 5, Record: 999, Team: 7, Write: true},
	{ID: 6, Record: 9999, Team: 7},
	{ID: 7, Record: 3, Team: 8, Write: true},
	{ID: 8, Record: 60, Team: 8},
	{ID: 9, Record: 61, User: 6}, // another user's
}

// fill puts n random records and the shares into a fresh index and
// returns the records; the shares go in before and after the records.
func fill(t testing.TB, rnd *rand.Rand, n int) (*Index, map[int64]Rec) {
	t.Helper()
	x := New(schema)
	for _, sh := range shares[:4] {
		x.PutShare(sh)
	}
	model := map[int64]Rec{}
	for id := int64(1); id <= int64(n); id++ {
		r := random(rnd, id)
		x.Put(r)
		model[id] = r
	}
	for _, sh := range shares[4:] {
		x.PutShare(sh)
	}
	return x, model
}

// shareModel are the shares the index holds, as the tests expect.
var shareModel = shares

// sharedWith is the model of shares: whether one lets s see the record id.
func sharedWith(s Scope, id int64) bool {
	for _, sh := range shareModel {
		if sh.Record == id && (sh.User != 0 && sh.User == s.Owner || sh.Team != 0 && slices.Contains(s.ShareTeams, sh.Team)) &&
			(sh.Expires == 0 || sh.Expires > s.Now) && (!s.ShareWrite || sh.Write) {
			return true
		}
	}
	return false
}

func random(rnd *rand.Rand, id int64) Rec {
	last := words[rnd.IntN(len(words))]
	email := fmt.Sprintf("%s%d@example.com", words[rnd.IntN(len(words))], rnd.IntN(50))
	r := Rec{
		ID: id, Owner: 1 + rnd.Int64N(6), Attrs: []int64{rnd.Int64N(8), rnd.Int64N(3)},
		Keys:  []string{last, email, fmt.Sprintf("%08d", rnd.IntN(1000))},
		Terms: []Term{{0, last}, {1, email}},
	}
	if rnd.IntN(3) > 0 {
		r.Team = 1 + rnd.Int64N(3)
	}
	if rnd.IntN(4) == 0 {
		r.Assignee = 1 + rnd.Int64N(6)
	}
	if rnd.IntN(5) == 0 {
		r.Tags = []string{"vip"}
	}
	r.Deleted = rnd.IntN(10) == 0
	return r
}

// expect computes, apart from the index, every record of s and q in order.
func expect(model map[int64]Rec, s Scope, q Query) []int64 {
	i := slices.Index(schema.Sorts, q.Sort)
	var out []Rec
	for _, r := range model {
		in := s.All || (s.Owner != 0 && (r.Owner == s.Owner || s.Assignee && r.Assignee == s.Owner ||
			s.Shared && sharedWith(s, r.ID) || r.Team != 0 && slices.Contains(s.Teams, r.Team)))
		match := true
		for _, w := range q.Words {
			m := slices.ContainsFunc(r.Terms, func(t Term) bool {
				return strings.HasPrefix(t.Text, w.Text) && !slices.Contains(q.Skip, t.Field)
			})
			if !m && w.Attr >= 0 && slices.Contains(w.In, r.Attrs[w.Attr]) {
				m = true
			}
			match = match && m
		}
		for _, t := range q.Exact {
			match = match && slices.Contains(r.Terms, t)
		}
		for _, e := range q.Eq {
			match = match && r.Attrs[e.Attr] == e.Value
		}
		if q.IDs != nil && !slices.Contains(q.IDs, r.ID) {
			match = false
		}
		if !in || !match || r.Deleted != q.Deleted || q.Owner != 0 && r.Owner != q.Owner ||
			q.Tag != "" && !slices.Contains(r.Tags, q.Tag) {
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Rec) int {
		c := strings.Compare(a.Keys[i], b.Keys[i])
		if c == 0 {
			c = int(a.ID - b.ID)
		}
		if q.Desc {
			c = -c
		}
		return c
	})
	ids := make([]int64, len(out))
	for j, r := range out {
		ids[j] = r.ID
	}
	return ids
}

// pages reads every page of s and q, and checks that no page but the last
// says it is the last and that the last says so.
func pages(t *testing.T, x *Index, s Scope, q Query) []int64 {
	t.Helper()
	var ids []int64
	for n := 0; ; n++ {
		if n > 10000 {
			t.Fatal("paging does not end")
		}
		hits, more, err := x.Page(s, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			ids = append(ids, h.ID)
		}
		if !more {
			return ids
		}
		if len(hits) == 0 {
			t.Fatalf("an empty page says more follow: %+v %+v", s, q)
		}
		last := hits[len(hits)-1]
		q.After = &Cursor{Key: last.Key, ID: last.ID}
	}
}

func scopes() map[string]Scope {
	return map[string]Scope{
		"all":          {All: true},
		"owner":        {Owner: 2},
		"manager":      {Owner: 3, Teams: []int64{1, 2}},
		"assignee":     {Owner: 4, Assignee: true},
		"shared":       {Owner: 5, Shared: true, Now: now},
		"shared-write": {Owner: 5, Shared: true, ShareWrite: true, Now: now},
		"shared-teams": {Owner: 5, Shared: true, ShareTeams: []int64{7, 8}, Teams: []int64{2}, Now: now},
		"shares-off":   {Owner: 5, ShareTeams: []int64{7, 8}, Now: now},
		"shared-later": {Owner: 5, Shared: true, Now: now + 10}, // share 4 has expired too
		"team-shares":  {Owner: 77, Shared: true, ShareTeams: []int64{8}, Now: now},
		"nobody":       {},
		"owner-nobody": {Owner: 99},
	}
}

func word(text string) []Word { return []Word{{Text: text, Attr: -1}} }

func queries() map[string]Query {
	return map[string]Query{
		"name":           {Sort: "last_name", Limit: 7},
		"name-desc":      {Sort: "last_name", Desc: true, Limit: 7},
		"email":          {Sort: "email", Limit: 50},
		"no-tree":        {Sort: "created_at", Limit: 9},
		"no-tree-desc":   {Sort: "created_at", Desc: true, Limit: 9},
		"prefix":         {Sort: "last_name", Words: word("smi"), Limit: 5},
		"prefix-many":    {Sort: "email", Words: word("iv"), Limit: 11},
		"prefix-none":    {Sort: "email", Words: word("zz"), Limit: 11},
		"prefix-desc":    {Sort: "last_name", Desc: true, Words: word("ivanov"), Limit: 4},
		"prefix-no-tree": {Sort: "created_at", Words: word("p"), Limit: 13},
		"two-words":      {Sort: "last_name", Words: []Word{{Text: "ivanov", Attr: -1}, {Text: "petrov", Attr: -1}}, Limit: 6},
		// A caller who may not read emails finds nobody by an email's start.
		"skip-email": {Sort: "last_name", Words: word("smythe1"), Skip: []uint8{1}, Limit: 6},
		"skip-name":  {Sort: "email", Words: word("orl"), Skip: []uint8{0}, Limit: 6},
		// A word matches a record's name, or its company's (In).
		"word-or-company": {Sort: "last_name", Words: []Word{{Text: "volk", Attr: company, In: []int64{2, 5}}}, Limit: 8},
		"exact":           {Sort: "last_name", Exact: []Term{{1, "popov7@example.com"}}, Limit: 3},
		"exact-short":     {Sort: "email", Exact: []Term{{0, "popov"}}, Limit: 30},
		// Longer than the eight bytes the terms index orders by first.
		"prefix-long":     {Sort: "last_name", Words: word("kuznetsov1"), Limit: 5},
		"prefix-8":        {Sort: "email", Words: word("kuznetso"), Limit: 5},
		"exact-long-none": {Sort: "email", Exact: []Term{{1, "kuznetsov1@example.co"}}, Limit: 5},
		"exact-field":     {Sort: "last_name", Exact: []Term{{0, "popov7@example.com"}}, Limit: 3},
		"ids":             {Sort: "email", IDs: []int64{5, 6, 7, 100, 101, 2000, 9999}, Limit: 2},
		"bin":             {Sort: "last_name", Deleted: true, Limit: 6},
		"owner-filter":    {Sort: "last_name", Owner: 2, Limit: 8},
		"company":         {Sort: "email", Eq: []Eq{{company, 3}}, Limit: 3},
		"stage":           {Sort: "last_name", Eq: []Eq{{stage, 1}}, Limit: 30},
		"company-stage":   {Sort: "last_name", Eq: []Eq{{company, 3}, {stage, 2}}, Limit: 30},
		"tag":             {Sort: "last_name", Tag: "vip", Limit: 10},
		"tag-prefix":      {Sort: "email", Tag: "vip", Words: word("p"), Limit: 10},
		"company-prefix":  {Sort: "last_name", Eq: []Eq{{company, 5}}, Words: word("s"), Limit: 2},
		// Matches too many to list and too rare to find by walking: the
		// walk gives up at its budget and the candidates are ordered.
		"rare": {Sort: "last_name", Tag: "vip", Words: word("smy"), Limit: 40},
	}
}

// Every page of every query in every scope is what the records computed
// apart from the index say: nothing out of scope, nothing missed, nothing
// twice, in order — on a small set and on one past the walk's thresholds.
func TestPageMatchesModel(t *testing.T) {
	for _, n := range []int{300, 3 * walkBudget} {
		rnd := rand.New(rand.NewPCG(uint64(n), 7))
		x, model := fill(t, rnd, n)
		for sn, s := range scopes() {
			for qn, q := range queries() {
				if n > 1000 {
					q.Limit *= 10 // fewer pages of the same walk
				}
				t.Run(fmt.Sprintf("%d/%s/%s", n, sn, qn), func(t *testing.T) {
					got, want := pages(t, x, s, q), expect(model, s, q)
					if !slices.Equal(got, want) {
						t.Fatalf("got %d ids %v…, want %d %v…", len(got), head(got), len(want), head(want))
					}
				})
			}
		}
	}
}

func head(ids []int64) []int64 { return ids[:min(len(ids), 12)] }

// Updates and deletions leave no trace of the record as it was: a record
// moved to another owner leaves the old owner's pages, a renamed one is no
// longer found by its old name, a deleted one leaves its owner's list for
// the bin, a removed one is gone everywhere.
func TestPutReplacesAndDeleteRemoves(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	x, model := fill(t, rnd, 500)
	for id := int64(1); id <= 500; id += 3 {
		r := random(rnd, id)
		x.Put(r)
		model[id] = r
	}
	for id := int64(2); id <= 500; id += 7 {
		x.Delete(id)
		delete(model, id)
	}
	if x.Len() != len(model) {
		t.Fatalf("Len %d, want %d", x.Len(), len(model))
	}
	// Shares revoked, replaced (its access narrowed, its end moved into
	// the past), and one replaced by a new share of the same grantee
	// applied before the old one's removal.
	defer func() { shareModel = shares }()
	shareModel = slices.Clone(shares)
	live := Rec{ID: 60, Owner: 1, Attrs: []int64{0, 0}, Keys: []string{"sixty", "sixty@example.com", "0"}}
	x.Put(live)
	model[60] = live
	x.DeleteShare(1)
	x.PutShare(Share{ID: 10, Record: 3, User: 5}) // shares[0] again, under a new id
	shareModel[0].ID = 10
	x.PutShare(Share{ID: 11, Record: 60, Team: 8, Expires: now + 5})
	x.DeleteShare(8)
	shareModel[7] = Share{ID: 11, Record: 60, Team: 8, Expires: now + 5}
	x.PutShare(Share{ID: 2, Record: 17, User: 5}) // read only now
	shareModel[1].Write = false
	x.DeleteShare(5)
	shareModel = slices.Delete(shareModel, 4, 5)
	if x.Shares() != len(shareModel) {
		t.Fatalf("Shares %d, want %d", x.Shares(), len(shareModel))
	}
	for sn, s := range scopes() {
		for qn, q := range queries() {
			got, want := pages(t, x, s, q), expect(model, s, q)
			if !slices.Equal(got, want) {
				t.Fatalf("%s/%s: got %v…, want %v…", sn, qn, head(got), head(want))
			}
		}
	}
	// The old terms of a renamed record no longer find it.
	x.Put(Rec{ID: 1, Owner: 1, Attrs: []int64{0, 0}, Keys: []string{"zeta", "zeta@example.com", "0"}, Terms: []Term{{0, "zeta"}}})
	hits, _, _ := x.Page(Scope{All: true}, Query{Sort: "last_name", Words: word("zeta"), Limit: 5})
	if len(hits) != 1 || hits[0].ID != 1 {
		t.Fatalf("renamed record: %v", hits)
	}
	x.Put(Rec{ID: 1, Owner: 1, Attrs: []int64{0, 0}, Keys: []string{"omega", "o@example.com", "0"}, Terms: []Term{{0, "omega"}}})
	if hits, _, _ := x.Page(Scope{All: true}, Query{Sort: "last_name", Words: word("zeta"), Limit: 5}); len(hits) != 0 {
		t.Fatalf("a record is found by the name it had: %v", hits)
	}
	if got, ok := x.Get(1); !ok || got.Keys[0] != "omega" {
		t.Fatalf("Get after Put: %+v %v", got, ok)
	}
}

// Terms of every length the encoding and the eight-byte heads treat
// apart — under, at and over eight bytes, over 127 (a two-byte length),
// Cyrillic — are found by each of their prefixes and exactly, and by
// nothing else.
func TestTermsOfEveryLength(t *testing.T) {
	names := []string{"a", "ab", "abcdefg", "abcdefgh", "abcdefghi", "abcdefgh@x.com", "abcdefgz",
		strings.Repeat("я", 70), strings.Repeat("я", 70) + "z", strings.Repeat("b", 200), "юля", "юлия", "ю"}
	x := New(schema)
	model := map[int64]Rec{}
	for i, n := range names {
		r := Rec{ID: int64(i + 1), Owner: 1, Attrs: []int64{0, 0}, Keys: []string{n, n, "0"}, Terms: []Term{{0, n}}}
		x.Put(r)
		model[r.ID] = r
	}
	for _, n := range names {
		for end := 1; end <= len(n); end++ {
			p := n[:end]
			for _, q := range []Query{
				{Sort: "last_name", Words: word(p), Limit: 4},
				{Sort: "email", Exact: []Term{{0, p}}, Limit: 4},
			} {
				if got, want := pages(t, x, Scope{Owner: 1}, q), expect(model, Scope{Owner: 1}, q); !slices.Equal(got, want) {
					t.Fatalf("%q (words %v, exact %v): got %v, want %v", p, q.Words, q.Exact, got, want)
				}
			}
		}
	}
	if _, _, err := x.Page(Scope{All: true}, Query{Sort: "email", Limit: 1, Words: word("")}); err == nil {
		t.Error("an empty search word was accepted")
	}
	if _, _, err := x.Page(Scope{All: true}, Query{Sort: "email", Limit: 1, Exact: []Term{{0, ""}}}); err == nil {
		t.Error("an empty exact term was accepted")
	}
}

// A caller who sees few records searches by a prefix half the
// organisation's records start with: the terms index gives up at its
// budget rather than pass every match, and their own trees answer.
func TestSearchOfAFewRecordsInMany(t *testing.T) {
	x := New(schema)
	model := map[int64]Rec{}
	for id := int64(1); id <= 3*walkBudget; id++ {
		last := fmt.Sprintf("smith%05d", id)
		r := Rec{ID: id, Owner: 1 + id%500, Attrs: []int64{0, 0}, Keys: []string{last, last, "0"}, Terms: []Term{{0, last}}}
		x.Put(r)
		model[id] = r
	}
	q := Query{Sort: "last_name", Words: word("smith"), Limit: 7}
	for _, s := range []Scope{{Owner: 7}, {All: true}, {Owner: 999}} {
		if got, want := pages(t, x, s, q), expect(model, s, q); !slices.Equal(got, want) {
			t.Fatalf("%+v: got %d ids, want %d", s, len(got), len(want))
		}
	}
}

// A request the index cannot answer is refused, not answered wrongly.
func TestPageRefusesBadQueries(t *testing.T) {
	x := New(schema)
	if _, _, err := x.Page(Scope{All: true}, Query{Sort: "phone", Limit: 5}); err == nil {
		t.Fatal("an unknown sort was accepted")
	}
	if _, _, err := x.Page(Scope{All: true}, Query{Sort: "email"}); err == nil {
		t.Fatal("a page without a limit was accepted")
	}
	if _, _, err := x.Page(Scope{All: true}, Query{Sort: "email", Limit: 1, Eq: []Eq{{7, 1}}}); err == nil {
		t.Fatal("an unknown attribute was accepted")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a record of the wrong shape was accepted")
		}
	}()
	x.Put(Rec{ID: 1, Keys: []string{"a"}, Attrs: []int64{0, 0}})
}

// With every pivot taken, a page runs with the spare one under the write
// lock rather than wait for one (it would wait with no end in sight).
func TestPageWithEveryPivotTaken(t *testing.T) {
	rnd := rand.New(rand.NewPCG(8, 9))
	x, model := fill(t, rnd, 300)
	var taken []slot
	for range pivotSlots {
		taken = append(taken, <-x.pivots)
	}
	defer func() {
		for _, p := range taken {
			x.pivots <- p
		}
	}()
	q := Query{Sort: "last_name", Words: word("smi"), Limit: 3}
	type page struct {
		hits []Hit
		err  error
	}
	done := make(chan page, 1)
	go func() {
		hits, _, err := x.Page(Scope{All: true}, q)
		done <- page{hits, err}
	}()
	select {
	case p := <-done:
		want := expect(model, Scope{All: true}, q)
		if p.err != nil || len(p.hits) != 3 || p.hits[0].ID != want[0] || p.hits[2].ID != want[2] {
			t.Fatalf("page = %v %v, want the first of %v", p.hits, p.err, head(want))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a page waited for a pivot")
	}
}

// Concurrent readers and writers (run with -race), more readers than the
// index has pivots: puts, deletes (slots reused), shares, and pages by
// cursor and by search.
func TestConcurrentUse(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	x, _ := fill(t, rnd, 1000)
	const workers = pivotSlots + 36
	done := make(chan bool)
	for w := range workers {
		go func() {
			r := rand.New(rand.NewPCG(uint64(w), 9))
			for range 60 {
				switch w % 4 {
				case 0:
					x.Put(random(r, 1+r.Int64N(1200)))
				case 1:
					x.Delete(1 + r.Int64N(1200))
					x.PutShare(Share{ID: 100 + r.Int64N(50), Record: 1 + r.Int64N(1200), User: 5})
				case 2:
					_, _, _ = x.Page(Scope{Owner: 2, Teams: []int64{1}}, Query{Sort: "last_name", Words: word("s"), Limit: 20})
				default:
					hits, _, _ := x.Page(Scope{Owner: 5, Shared: true, Now: now}, Query{Sort: "email", Limit: 5})
					if len(hits) > 0 {
						last := hits[len(hits)-1]
						_, _, _ = x.Page(Scope{Owner: 5, Shared: true, Now: now}, Query{Sort: "email", Limit: 5, After: &Cursor{last.Key, last.ID}})
					}
				}
			}
			done <- true
		}()
	}
	for range workers {
		<-done
	}
}
