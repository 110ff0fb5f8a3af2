package bench

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// DefaultContacts is the size of the default data set (issue 3).
const DefaultContacts = 100_000

// Sizes are the record counts of a data set. Owners are the sales users
// who own the records; Teams, Users and Shares are only seeded in the org
// shape (OrgSizes): zero otherwise.
type Sizes struct {
	Contacts   int `json:"contacts"`
	Companies  int `json:"companies"`
	Deals      int `json:"deals"`
	Activities int `json:"activities"`
	Owners     int `json:"owners"`
	Teams      int `json:"teams"`
	// Users are the staff of the org shape: the sales users (Owners) and
	// one manager per team, the administrator aside.
	Users  int `json:"users,omitempty"`
	Shares int `json:"shares,omitempty"`
}

// SizesFor scales the default data set (100,000 contacts, 10,000 companies,
// 50,000 deals and 300,000 activities over 20 owners) to the given number
// of contacts and owners.
func SizesFor(contacts, owners int) Sizes {
	return Sizes{
		Contacts:   contacts,
		Companies:  max(1, contacts/10),
		Deals:      contacts / 2,
		Activities: contacts * 3,
		Owners:     owners,
	}
}

// Rows is the number of client records and shares.
func (s Sizes) Rows() int { return s.Companies + s.Contacts + s.Deals + s.Activities + s.Shares }

// Owner is a user of the data set the clients act as, with its token: a
// sales user who owns records (Seqs), or in the org shape a manager, who
// owns none and sees the records of their teams.
type Owner struct {
	UserID int64
	Email  string
	Token  string  // a write-scope API token
	TeamID int64   // the team the user is a member of (0: none)
	Teams  []int64 // the teams the user manages and every team below them
	Seqs   []int32 // sequence numbers of the contacts it owns
	// Reads and Writes are the contacts the read and the write scenarios
	// pick from, when the user may see or change more than its own: a
	// rep's own and those shared with it (for writing, by a write share),
	// a manager's those of their teams. Nil: Seqs.
	Reads, Writes []int32
}

// reads returns the contacts the read scenarios pick from.
func (o *Owner) reads() []int32 {
	if o.Reads != nil {
		return o.Reads
	}
	return o.Seqs
}

// writes returns the contacts the write scenarios pick from.
func (o *Owner) writes() []int32 {
	if o.Writes != nil {
		return o.Writes
	}
	return o.Seqs
}

// ShareTeams are the teams whose shares reach the user: the ones they
// manage and their own.
func (o *Owner) ShareTeams() []int64 {
	if o.TeamID == 0 || slices.Contains(o.Teams, o.TeamID) {
		return o.Teams
	}
	return append(slices.Clip(o.Teams), o.TeamID)
}

// Dataset is what the clients know of the data: the owners, their tokens
// and their contacts' ids. Names and addresses are recomputed from the
// sequence number (see personOf) rather than kept.
type Dataset struct {
	Sizes
	Seed     uint64
	Password string   // every seeded user's password, for the login scenario
	Owners   []*Owner // the sales users who own the records
	// Reps are the callers of the rep scenarios (the ids without a
	// prefix); nil: Owners. In the org shape, the sales users of the leaf
	// teams, each holding shares.
	Reps []*Owner
	// Managers are the callers of the manager scenarios (manager:…); none:
	// they are not run. In the org shape, the manager of the top team.
	Managers   []*Owner
	ContactIDs []int64 // by sequence number
	// ContactTags are the contacts' tags as the tags column holds them in
	// plain text (a JSON array), by sequence number: the floor's copy
	// puts them back where the store holds them sealed.
	ContactTags []string

	// emails and lastNames are set instead of Seed for a data set found on
	// a running server (Discover).
	emails, lastNames []string
}

// reps returns the callers of the rep scenarios.
func (d *Dataset) reps() []*Owner {
	if d.Reps != nil {
		return d.Reps
	}
	return d.Owners
}

// callers returns the users the clients of a scenario act as.
func (d *Dataset) callers(c caller) []*Owner {
	if c == manager {
		return d.Managers
	}
	return d.reps()
}

// Actors returns every user a client may act as, each once: the owners,
// the reps and the managers.
func (d *Dataset) Actors() []*Owner {
	var out []*Owner
	for _, list := range [][]*Owner{d.Owners, d.Reps, d.Managers} {
		for _, o := range list {
			if !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out
}

// email returns the address of contact seq.
func (d *Dataset) email(seq int32) string {
	if d.emails != nil {
		return d.emails[seq]
	}
	return personOf(d.Seed, int(seq)).email
}

// lastName returns the last name of contact seq.
func (d *Dataset) lastName(seq int32) string {
	if d.lastNames != nil {
		return d.lastNames[seq]
	}
	return personOf(d.Seed, int(seq)).last
}

// SeedStats tells how long seeding took.
type SeedStats struct {
	Users   time.Duration // users, tokens and teams, through the service (password hashing)
	Records time.Duration // client records and shares, through the store
}

// Accounts is what seeding needs of the service layer: users, tokens and
// teams are made exactly as in production.
type Accounts interface {
	CreateUser(ctx context.Context, p *crm.Principal, in crm.UserInput) (*crm.User, error)
	CreateToken(ctx context.Context, p *crm.Principal, userID int64, name string, scope crm.TokenScope, ttl time.Duration) (*crm.NewToken, error)
	CreateTeam(ctx context.Context, p *crm.Principal, in crm.TeamInput) (*crm.Team, error)
	AddTeamMember(ctx context.Context, p *crm.Principal, teamID, userID int64) (*crm.Team, error)
}

// batchSize is the number of records per seeding transaction.
const batchSize = 5000

// tokenTTL outlives any reasonable run.
const tokenTTL = 7 * 24 * time.Hour

// seeder holds the state of one Seed call.
type seeder struct {
	ctx   context.Context
	store crm.Store
	rng   *mrand.Rand
	sizes Sizes
	now   time.Time
	bar   *progress
	d     *Dataset

	stages         []*crm.Stage
	ownerCompanies [][]int64 // company ids by owner index
	contactOwner   []int32   // owner index by contact sequence number
	contactCompany []int64   // company id (0: none) by contact sequence number

	org *org // the teams and shares of the org shape; nil in the others

	sealer Sealer // seals each record as the server's service would; nil: none
}

// Sealer seals a record's personal fields before the store writes it, as
// the record service's Seal hook does (internal/seal), so that the server
// reads the data as it would have written it.
type Sealer interface {
	Seal(ctx context.Context, tx crm.RecordTx, entity string, rec any) error
}

// seal passes rec to the sealer, if any.
func (s *seeder) seal(tx crm.Tx, entity string, rec any) error {
	if s.sealer == nil {
		return nil
	}
	return s.sealer.Seal(s.ctx, tx, entity, rec)
}

// Seed fills an empty store with a data set of the given sizes, made
// reproducibly from seed, and reports progress on w. Users and tokens go
// through acc; client records through store.Write in batches (see the
// package documentation for why).
func Seed(ctx context.Context, store crm.Store, acc Accounts, sealer Sealer, sizes Sizes, seed uint64, w io.Writer) (*Dataset, *SeedStats, error) {
	if sizes.Owners < 1 || sizes.Contacts < sizes.Owners {
		return nil, nil, fmt.Errorf("bench: need at least one owner and one contact per owner (got %d owners, %d contacts)", sizes.Owners, sizes.Contacts)
	}
	var users int
	if err := store.Read(ctx, func(tx crm.Tx) (err error) { users, err = tx.CountUsers(ctx); return err }); err != nil {
		return nil, nil, err
	}
	if users > 0 {
		return nil, nil, errors.New("bench: the store already has users; the bench seeds only an empty store")
	}
	s := &seeder{ctx: ctx, store: store, sealer: sealer, rng: mrand.New(mrand.NewPCG(seed, 0xC057_05BE)), sizes: sizes,
		now: time.Now().UTC().Truncate(time.Microsecond), bar: newProgress(w),
		d: &Dataset{Sizes: sizes, Seed: seed, Password: rand.Text()}}
	var st SeedStats
	start := time.Now()
	if err := s.users(acc); err != nil {
		return nil, nil, err
	}
	if sizes.Teams > 0 {
		if err := s.teams(acc); err != nil {
			return nil, nil, err
		}
	}
	st.Users = time.Since(start)

	start = time.Now()
	if err := s.loadStages(); err != nil {
		return nil, nil, err
	}
	s.bar.start(sizes.Rows())
	for _, step := range []struct {
		what string
		n    int
		fn   func(tx crm.Tx, i int) error
	}{
		{"companies", sizes.Companies, s.company},
		{"contacts", sizes.Contacts, s.contact},
		{"deals", sizes.Deals, s.deal},
		{"activities", sizes.Activities, s.activity},
		{"shares", sizes.Shares, s.share},
	} {
		if step.n == 0 {
			continue
		}
		if err := s.batches(step.what, step.n, step.fn); err != nil {
			return nil, nil, err
		}
	}
	s.bar.done()
	if s.org != nil {
		s.visibility()
	}
	// A bulk load leaves the planner without statistics until autovacuum
	// gets round to it (PostgreSQL), so refresh them, as an operator
	// would after an import. Without it, PostgreSQL planned a contact's
	// timeline as a scan of every activity.
	if o, ok := store.(interface{ Optimize(context.Context) error }); ok {
		if err := o.Optimize(ctx); err != nil {
			return nil, nil, err
		}
	}
	st.Records = time.Since(start)
	return s.d, &st, nil
}

// users creates the owners (sales users), each with a write-scope token,
// in the org shape one manager per team, each with a token too, and one
// admin, through the service. Password hashing dominates, so they are
// created concurrently; the service's hash pool bounds the work.
func (s *seeder) users(acc Accounts) error {
	sys := crm.SystemPrincipal()
	sales, managers := s.sizes.Owners, s.sizes.Teams
	s.d.Owners = make([]*Owner, sales)
	mgrs := make([]*Owner, managers)
	errs := make([]error, sales+managers+1)
	var wg sync.WaitGroup
	for i := range sales + managers + 1 {
		wg.Go(func() {
			role, email := crm.RoleSales, fmt.Sprintf("sales%02d@bench.example", i+1)
			switch {
			case i == sales+managers:
				role, email = crm.RoleAdmin, "admin@bench.example"
			case i >= sales:
				role, email = crm.RoleManager, fmt.Sprintf("manager%02d@bench.example", i-sales+1)
			}
			p := personOf(s.d.Seed^0x57AFF, i)
			name, lang := p.first+" "+p.last, "en"
			if p.ru {
				lang = "ru"
			}
			u, err := acc.CreateUser(s.ctx, sys, crm.UserInput{Email: &email, Name: &name, Role: &role, Language: &lang, Password: &s.d.Password})
			if err != nil {
				errs[i] = fmt.Errorf("bench: create user %s: %w", email, err)
				return
			}
			if i == sales+managers {
				return // the admin is there as in any organisation; no client acts as it
			}
			t, err := acc.CreateToken(s.ctx, sys, u.ID, "bench", crm.ScopeWrite, tokenTTL)
			if err != nil {
				errs[i] = fmt.Errorf("bench: create token for %s: %w", email, err)
				return
			}
			o := &Owner{UserID: u.ID, Email: email, Token: t.Secret}
			if i < sales {
				s.d.Owners[i] = o
			} else {
				mgrs[i-sales] = o
			}
		})
	}
	s.bar.note(fmt.Sprintf("creating %d users and API tokens through the service (argon2id)", sales+managers+1))
	wg.Wait()
	if managers > 0 {
		s.org = &org{managers: mgrs}
	}
	return errors.Join(errs...)
}

// loadStages reads the stages of the default pipeline, which the first
// migration creates.
func (s *seeder) loadStages() error {
	return s.store.Read(s.ctx, func(tx crm.Tx) error {
		ps, err := tx.Pipelines(s.ctx)
		if err != nil {
			return err
		}
		if len(ps) == 0 || len(ps[0].Stages) == 0 {
			return errors.New("bench: the store has no pipeline with stages")
		}
		s.stages = ps[0].Stages
		return nil
	})
}

// batches writes n records, batchSize per transaction.
func (s *seeder) batches(what string, n int, fn func(tx crm.Tx, i int) error) error {
	s.bar.phase(what)
	for start := 0; start < n; start += batchSize {
		end := min(start+batchSize, n)
		err := s.store.Write(s.ctx, func(tx crm.Tx) error {
			for i := start; i < end; i++ {
				if err := fn(tx, i); err != nil {
					return fmt.Errorf("bench: seed %s #%d: %w", what, i, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		s.bar.add(end - start)
	}
	return nil
}

func (s *seeder) pick(list []string) string { return list[s.rng.IntN(len(list))] }

// past returns a time up to d before now.
func (s *seeder) past(d time.Duration) time.Time {
	return s.now.Add(-time.Duration(s.rng.Int64N(int64(d)))).Truncate(time.Microsecond)
}

// history is how far back the data set goes.
const history = 3 * 365 * 24 * time.Hour

// at returns the time of record i of n: records are made in chronological
// order over the history, as a CRM fills up, so ids grow with creation
// time as they do in real use (and inserts append to the time indexes,
// which makes seeding faster).
func (s *seeder) at(i, n int) time.Time {
	step := float64(history) / float64(n)
	return s.now.Add(-history + time.Duration((float64(i)+s.rng.Float64())*step)).Truncate(time.Microsecond)
}

// stamps returns the creation time of record i of n and an update time
// after it.
func (s *seeder) stamps(i, n int) (created, updated time.Time) {
	created = s.at(i, n)
	return created, created.Add(time.Duration(s.rng.Int64N(int64(s.now.Sub(created)) + 1))).Truncate(time.Microsecond)
}

func (s *seeder) tags() []string {
	var tags []string
	for range s.rng.IntN(3) {
		t := s.pick(tagSet)
		if len(tags) == 0 || tags[0] != t {
			tags = append(tags, t)
		}
	}
	return tags
}

func (s *seeder) company(tx crm.Tx, i int) error {
	if i == 0 {
		s.ownerCompanies = make([][]int64, s.sizes.Owners)
	}
	owner := s.rng.IntN(s.sizes.Owners)
	c := &crm.Company{Tags: s.tags(), OwnerID: s.d.Owners[owner].UserID, TeamID: s.teamOf(owner), Version: 1}
	kind := s.rng.IntN(len(industries))
	if s.rng.IntN(100) < 60 {
		root := s.pick(ruCompanyRoots)
		c.Name = root + "-" + ruCompanyKinds[kind]
		c.Domain = translit(root) + "-" + strconv.Itoa(i) + ".example"
	} else {
		root := s.pick(enCompanyRoots)
		c.Name = root + " " + enCompanyKinds[kind] + " Ltd"
		c.Domain = translit(root) + "-" + strconv.Itoa(i) + ".example"
	}
	c.Industry = industries[kind]
	c.Phone = phoneOf(s.rng.IntN(1000))
	c.CreatedAt, c.UpdatedAt = s.stamps(i, s.sizes.Companies)
	if err := s.seal(tx, "company", c); err != nil {
		return err
	}
	if err := tx.InsertCompany(s.ctx, c); err != nil {
		return err
	}
	s.ownerCompanies[owner] = append(s.ownerCompanies[owner], c.ID)
	return nil
}

func (s *seeder) contact(tx crm.Tx, seq int) error {
	if seq == 0 {
		s.contactOwner = make([]int32, s.sizes.Contacts)
		s.contactCompany = make([]int64, s.sizes.Contacts)
		s.d.ContactIDs = make([]int64, s.sizes.Contacts)
		s.d.ContactTags = make([]string, s.sizes.Contacts)
	}
	// Every owner gets at least one contact; the rest are spread at random.
	owner := seq
	if seq >= s.sizes.Owners {
		owner = s.rng.IntN(s.sizes.Owners)
	}
	p := personOf(s.d.Seed, seq)
	c := &crm.Contact{FirstName: p.first, LastName: p.last, Email: p.email, Tags: s.tags(),
		OwnerID: s.d.Owners[owner].UserID, TeamID: s.teamOf(owner), Version: 1}
	if own := s.ownerCompanies[owner]; len(own) > 0 && s.rng.IntN(100) < 75 {
		id := own[s.rng.IntN(len(own))]
		c.CompanyID = &id
		s.contactCompany[seq] = id
	}
	if s.rng.IntN(100) < 80 {
		c.Phone = phoneOf(seq)
	}
	if s.rng.IntN(100) < 70 {
		c.Title = s.pick(titles)
	}
	if s.rng.IntN(100) < 20 {
		c.Birthday = s.past(60*365*24*time.Hour).AddDate(-20, 0, 0).Format(time.DateOnly)
	}
	c.Preferences.Language = "en"
	if p.ru {
		c.Preferences.Language = "ru"
	}
	c.Preferences.Channel = []string{"", "email", "phone", "messenger"}[s.rng.IntN(4)]
	c.Preferences.DoNotContact = s.rng.IntN(100) < 3
	c.CreatedAt, c.UpdatedAt = s.stamps(seq, s.sizes.Contacts)
	plainTags, _ := json.Marshal(c.Tags)
	if c.Tags == nil {
		plainTags = []byte("[]")
	}
	s.d.ContactTags[seq] = string(plainTags)
	if err := s.seal(tx, "contact", c); err != nil {
		return err
	}
	if err := tx.InsertContact(s.ctx, c); err != nil {
		return err
	}
	s.contactOwner[seq], s.d.ContactIDs[seq] = int32(owner), c.ID
	o := s.d.Owners[owner]
	o.Seqs = append(o.Seqs, int32(seq))
	return nil
}

func (s *seeder) deal(tx crm.Tx, i int) error {
	seq := s.rng.IntN(s.sizes.Contacts)
	owner := s.contactOwner[seq]
	st := s.stages[s.rng.IntN(len(s.stages))]
	contact := s.d.ContactIDs[seq]
	d := &crm.Deal{Title: s.pick(products) + " " + strconv.Itoa(2024+s.rng.IntN(3)), PipelineID: st.PipelineID, StageID: st.ID,
		AmountMinor: (1 + s.rng.Int64N(50_000)) * 10_000, Currency: []string{"RUB", "RUB", "RUB", "EUR", "USD"}[s.rng.IntN(5)],
		ContactID: &contact, OwnerID: s.d.Owners[owner].UserID, TeamID: s.teamOf(int(owner)), Version: 1, Tags: []string{}}
	if c := s.contactCompany[seq]; c != 0 {
		d.CompanyID = &c
	}
	if s.rng.IntN(100) < 70 {
		d.ExpectedClose = s.now.AddDate(0, s.rng.IntN(12)-3, s.rng.IntN(28)).Format(time.DateOnly)
	}
	d.CreatedAt, d.UpdatedAt = s.stamps(i, s.sizes.Deals)
	if err := s.seal(tx, "deal", d); err != nil {
		return err
	}
	return tx.InsertDeal(s.ctx, d)
}

func (s *seeder) activity(tx crm.Tx, i int) error {
	seq := s.rng.IntN(s.sizes.Contacts)
	typ := s.pick(activityTypes)
	contact := s.d.ContactIDs[seq]
	a := &crm.Activity{Type: typ, Subject: s.pick(subjects[typ]), OccurredAt: s.at(i, s.sizes.Activities),
		ContactID: &contact, OwnerID: s.d.Owners[s.contactOwner[seq]].UserID, TeamID: s.teamOf(int(s.contactOwner[seq])), Version: 1}
	if c := s.contactCompany[seq]; c != 0 && s.rng.IntN(2) == 0 {
		a.CompanyID = &c
	}
	if typ == "call" || typ == "meeting" {
		a.DurationMin = 5 + s.rng.IntN(85)
	}
	if s.rng.IntN(100) < 30 {
		a.Body = "Discussed next steps; обсудили сроки и бюджет."
	}
	a.CreatedAt, a.UpdatedAt = a.OccurredAt, a.OccurredAt
	if err := s.seal(tx, "activity", a); err != nil {
		return err
	}
	return tx.InsertActivity(s.ctx, a)
}
