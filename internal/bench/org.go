package bench

import (
	"fmt"
	"slices"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// The org shape: an organisation with a hierarchy of teams and shared
// records (issue 11), where the access predicate of a list is no longer
// one owner's index range. At the default size, 200 users in 20 teams
// three levels deep: one top team, whose manager is the top-level
// manager; four middle teams below it; fifteen leaf teams below those.
// Every team has a manager (of the role manager, a member of the team
// above, the top-level manager of none); the 180 sales users are members
// spread over the teams, but one in 25 is in no team yet. The records are
// the sales users', so each has its owner's team; 5,000 shares give
// contacts to users (the reps below) and to teams, to read or to write,
// three in ten until a time, a third of those already past.
//
// The clients act as two kinds of caller: the reps, sales users of the
// leaf teams, who see their own contacts and those shared with them or
// with their team; and the top-level manager, who sees every record of
// every team through the hierarchy (nearly all of them).

// Shares per contact, and the proportions of the shares.
const (
	contactsPerShare = 20 // 5,000 shares at 100,000 contacts
	usersPerTeam     = 10 // 200 users in 20 teams
	teamlessEvery    = 25 // one sales user in 25 is in no team
)

// OrgSizes are the sizes of the org shape for the given contacts and
// teams: usersPerTeam users a team (one of them its manager, the others
// sales users who own the records), at least three teams (one level each),
// and a share for every contactsPerShare contacts.
func OrgSizes(contacts, teams int) Sizes {
	teams = max(3, teams)
	s := SizesFor(contacts, teams*(usersPerTeam-1))
	s.Teams, s.Users, s.Shares = teams, teams*usersPerTeam, contacts/contactsPerShare
	return s
}

// org is what the seeder knows of the org shape's teams and shares.
type org struct {
	managers  []*Owner // the manager of team i, made by users
	teamIDs   []int64  // by team index: 0 the top, then the middle teams, then the leaves
	parent    []int    // the index of each team's parent (-1: the top)
	leaf      []bool
	ownerTeam []int64 // team id by owner index (0: none)
	reps      []*Owner
	repIndex  map[*Owner]int32 // owner index of each rep
	shares    []seededShare
	taken     map[[2]int64]int // grantee (user id, or minus team id) and contact: 1 + the index of its share
}

// seededShare is what the visibility of a share depends on.
type seededShare struct {
	seq    int32
	userID int64 // the grantee: a user, or
	teamID int64 // a team
	write  bool
	live   bool // not expired at the end of seeding (expiring ones outlive any run)
}

// teamOf returns the team of the owner with index i, for its records;
// nil in the shapes without teams and for an owner in no team.
func (s *seeder) teamOf(i int) *int64 {
	if s.org == nil || s.org.ownerTeam[i] == 0 {
		return nil
	}
	return &s.org.ownerTeam[i]
}

// teams creates the teams of the org shape through the service, each with
// its manager, and makes the managers and the sales users members, before
// any record exists (so that no record has to move).
func (s *seeder) teams(acc Accounts) error {
	o, sys := s.org, crm.SystemPrincipal()
	n := s.sizes.Teams
	middles := max(1, min((n+1)/5, n-2))
	o.teamIDs, o.parent, o.leaf = make([]int64, n), make([]int, n), make([]bool, n)
	s.bar.note(fmt.Sprintf("creating %d teams three levels deep, their managers and members through the service", n))
	for i := range n {
		var name string
		in := crm.TeamInput{Name: &name, ManagerID: crm.Value(o.managers[i].UserID)}
		switch {
		case i == 0:
			name, o.parent[i] = "Sales", -1
		case i <= middles:
			name, o.parent[i] = fmt.Sprintf("Region %d", i), 0
		default:
			leaf := i - middles - 1
			name, o.parent[i], o.leaf[i] = fmt.Sprintf("Desk %d.%d", 1+leaf%middles, 1+leaf/middles), 1+leaf%middles, true
		}
		if i > 0 {
			in.ParentID = crm.Value(o.teamIDs[o.parent[i]])
		}
		tm, err := acc.CreateTeam(s.ctx, sys, in)
		if err != nil {
			return fmt.Errorf("bench: create team %s: %w", name, err)
		}
		o.teamIDs[i] = tm.ID
	}
	join := func(u *Owner, team int) error {
		if _, err := acc.AddTeamMember(s.ctx, sys, o.teamIDs[team], u.UserID); err != nil {
			return fmt.Errorf("bench: add %s to a team: %w", u.Email, err)
		}
		u.TeamID = o.teamIDs[team]
		return nil
	}
	// A manager is a member of the team above the one they manage, and
	// sees their team and every team below it.
	for i, m := range o.managers {
		if i > 0 {
			if err := join(m, o.parent[i]); err != nil {
				return err
			}
		}
		for j := range n {
			for k := j; k >= 0; k = o.parent[k] {
				if k == i {
					m.Teams = append(m.Teams, o.teamIDs[j])
					break
				}
			}
		}
		slices.Sort(m.Teams)
	}
	o.ownerTeam = make([]int64, len(s.d.Owners))
	o.repIndex = map[*Owner]int32{}
	for k, u := range s.d.Owners {
		if k%teamlessEvery == teamlessEvery-1 {
			continue
		}
		team := k % n
		if err := join(u, team); err != nil {
			return err
		}
		o.ownerTeam[k] = u.TeamID
		if o.leaf[team] {
			o.reps = append(o.reps, u)
			o.repIndex[u] = int32(k)
		}
	}
	if len(o.reps) == 0 {
		return fmt.Errorf("bench: no sales user in a leaf team (%d sales users, %d teams)", len(s.d.Owners), n)
	}
	s.d.Reps, s.d.Managers = o.reps, o.managers[:1]
	return nil
}

// share stores share i through the store's fast path (crm.Tx.PutShare),
// as the other records: the even ones with a rep, in turn, so that every
// rep holds some; the odd ones with a team, in turn. The contact is one
// the grantee does not see otherwise, shared by its owner; three in ten
// allow writing, three in ten end at a time, a third of those already
// past.
func (s *seeder) share(tx crm.Tx, i int) error {
	o := s.org
	if o.taken == nil {
		o.taken = map[[2]int64]int{}
	}
	var sh crm.Share
	var grantee int64
	var seq int
	for try := 0; ; try++ {
		seq = s.rng.IntN(s.sizes.Contacts)
		owner := s.contactOwner[seq]
		var own bool
		if i%2 == 0 {
			rep := o.reps[(i/2)%len(o.reps)]
			grantee, sh.UserID, own = rep.UserID, &rep.UserID, o.repIndex[rep] == owner
		} else {
			team := (i / 2) % len(o.teamIDs)
			grantee, sh.TeamID, own = -o.teamIDs[team], &o.teamIDs[team], o.ownerTeam[owner] == o.teamIDs[team]
		}
		// A small data set may run out of fresh pairs: then a share
		// replaces another, which PutShare allows.
		if try >= 1000 || (!own && o.taken[[2]int64{grantee, int64(seq)}] == 0) {
			break
		}
	}
	sh.Entity, sh.RecordID = "contact", s.d.ContactIDs[seq]
	sh.CreatedBy = s.d.Owners[s.contactOwner[seq]].UserID
	sh.CreatedAt = s.past(history / 3)
	sh.Access = crm.ShareRead
	if s.rng.IntN(10) < 3 {
		sh.Access = crm.ShareWrite
	}
	live := true
	if s.rng.IntN(10) < 3 {
		end := s.now.Add(7*24*time.Hour + time.Duration(s.rng.Int64N(int64(83*24*time.Hour)))).Truncate(time.Microsecond)
		if s.rng.IntN(3) == 0 {
			end, live = s.past(30*24*time.Hour), false
			if end.Before(sh.CreatedAt) {
				sh.CreatedAt = end.Add(-time.Hour)
			}
		}
		sh.ExpiresAt = &end
	}
	if _, err := tx.PutShare(s.ctx, &sh); err != nil {
		return err
	}
	var user, team int64
	if sh.UserID != nil {
		user = *sh.UserID
	} else {
		team = *sh.TeamID
	}
	seeded := seededShare{seq: int32(seq), userID: user, teamID: team, write: sh.Access == crm.ShareWrite, live: live}
	key := [2]int64{grantee, int64(seq)}
	if j := o.taken[key]; j > 0 {
		o.shares[j-1] = seeded // PutShare replaced that one
		return nil
	}
	o.shares = append(o.shares, seeded)
	o.taken[key] = len(o.shares)
	return nil
}

// visibility computes what the callers of the org shape may read and
// change, as the store's scope does: a rep reads their own contacts and
// those of their unexpired shares (with the user, or with their team) and
// changes their own and those of their unexpired write shares; the
// top-level manager reads every contact of the teams they see and those
// shared with one of them. The clients pick their ids there, so that
// every answer of both servers is a 200 with that record.
func (s *seeder) visibility() {
	o := s.org
	reaches := func(u *Owner, sh seededShare) bool {
		return sh.live && (sh.userID == u.UserID || (sh.teamID != 0 && slices.Contains(u.ShareTeams(), sh.teamID)))
	}
	for _, r := range o.reps {
		reads, writes := map[int32]bool{}, map[int32]bool{}
		for _, sh := range o.shares {
			if reaches(r, sh) {
				reads[sh.seq] = true
				if sh.write {
					writes[sh.seq] = true
				}
			}
		}
		r.Reads = append(slices.Clip(r.Seqs), sortedKeys(reads)...)
		r.Writes = append(slices.Clip(r.Seqs), sortedKeys(writes)...)
	}
	for _, m := range s.d.Managers {
		seen := map[int32]bool{}
		for _, sh := range o.shares {
			if reaches(m, sh) {
				seen[sh.seq] = true
			}
		}
		m.Reads = []int32{}
		for seq, owner := range s.contactOwner {
			if t := o.ownerTeam[owner]; seen[int32(seq)] || (t != 0 && slices.Contains(m.Teams, t)) {
				m.Reads = append(m.Reads, int32(seq))
			}
		}
		m.Writes = m.Reads
	}
}

func sortedKeys(m map[int32]bool) []int32 {
	out := make([]int32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Callers summarises whom the clients act as and what those users see,
// for the report: the reps (the rep scenarios' callers), the contacts each
// owns and those shared with them, and the managers and the contacts they
// see (manager scenarios).
type Callers struct {
	Reps          int     `json:"reps"`
	RepOwnMean    float64 `json:"rep_own_contacts_mean"`
	RepSharedMean float64 `json:"rep_shared_contacts_mean,omitempty"` // readable through an unexpired share
	RepSharedMin  int     `json:"rep_shared_contacts_min,omitempty"`
	Managers      int     `json:"managers,omitempty"`
	ManagerTeams  int     `json:"manager_teams,omitempty"`
	ManagerSees   int     `json:"manager_sees_contacts,omitempty"`
}

// Callers returns the summary of d's callers.
func (d *Dataset) Callers() *Callers {
	reps := d.reps()
	c := &Callers{Reps: len(reps), Managers: len(d.Managers)}
	if len(reps) > 0 {
		own, shared := 0, 0
		c.RepSharedMin = -1
		for _, r := range reps {
			n := len(r.reads()) - len(r.Seqs)
			own, shared = own+len(r.Seqs), shared+n
			if c.RepSharedMin < 0 || n < c.RepSharedMin {
				c.RepSharedMin = n
			}
		}
		c.RepOwnMean, c.RepSharedMean = float64(own)/float64(len(reps)), float64(shared)/float64(len(reps))
	}
	if len(d.Managers) > 0 {
		c.ManagerTeams, c.ManagerSees = len(d.Managers[0].Teams), len(d.Managers[0].reads())
	}
	return c
}
