package identity

import (
	"context"
	"slices"
	"strconv"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/validate"
)

// Teams and their hierarchy (ACL-2). Every staff member may read the
// teams, as they read the staff directory; every change needs the
// users.manage permission with every client record in reach (view_all and
// modify_all on every entity: requireTeamAdmin) and a recent step-up
// (AUTH-4), is refused whole when any field is wrong, and is a security
// event in its transaction.
//
// What a manager sees is kept on the user rows (users.sees_teams): after
// every change, in the same transaction, recomputeSees walks the tree and
// writes each user's set of teams (the teams they manage and every team
// below them) where it changed. The principal of the next request carries
// it from the user row that authentication reads anyway, so no request
// walks the tree, and a change takes effect on the next request.

// maxTeams bounds the number of teams: the tree is read whole on every
// change.
const maxTeams = 10000

// FindTeams implements crm.TeamService.
func (s *Service) FindTeams(ctx context.Context, p *crm.Principal) ([]*crm.Team, error) {
	if err := s.require(p, policy.ReadUsers); err != nil {
		return nil, err
	}
	var teams []*crm.Team
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) { teams, err = tx.Teams(ctx); return err })
	return teams, err
}

// FindTeam implements crm.TeamService.
func (s *Service) FindTeam(ctx context.Context, p *crm.Principal, id int64) (*crm.Team, error) {
	if err := s.require(p, policy.ReadUsers); err != nil {
		return nil, err
	}
	var tm *crm.Team
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) { tm, err = tx.TeamByID(ctx, id); return err })
	return tm, err
}

// CreateTeam implements crm.TeamService.
func (s *Service) CreateTeam(ctx context.Context, p *crm.Principal, in crm.TeamInput) (*crm.Team, error) {
	if err := s.requireTeamAdmin(p); err != nil {
		return nil, err
	}
	v := validate.New()
	if in.Name == nil {
		v.Add("name", "required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	tm := &crm.Team{Members: []int64{}}
	err := s.write(ctx, func(tx *wtx) error {
		if err := tx.LockTeams(ctx); err != nil {
			return err
		}
		teams, err := tx.Teams(ctx)
		if err != nil {
			return err
		}
		if len(teams) >= maxTeams {
			return crm.Errorf(crm.ECONFLICT, "there are %d teams, the most Custos keeps", maxTeams)
		}
		if err := s.applyTeam(ctx, tx, v, tm, in, teams); err != nil {
			return err
		}
		now := tx.Now()
		tm.Version, tm.CreatedAt, tm.UpdatedAt = 1, now, now
		if err := tx.InsertTeam(ctx, tm); err != nil {
			return err
		}
		if err := s.recomputeSees(ctx, tx, append(teams, tm)); err != nil {
			return err
		}
		return tx.emit(s.teamEvent(p, "team.create", tm, 0))
	})
	if err != nil {
		return nil, err
	}
	return tm, nil
}

// UpdateTeam implements crm.TeamService.
func (s *Service) UpdateTeam(ctx context.Context, p *crm.Principal, id int64, in crm.TeamInput, ifVersion int64) (*crm.Team, error) {
	if err := s.requireTeamAdmin(p); err != nil {
		return nil, err
	}
	v := validate.New()
	var tm *crm.Team
	err := s.write(ctx, func(tx *wtx) (err error) {
		if err := tx.LockTeams(ctx); err != nil {
			return err
		}
		if tm, err = tx.TeamByID(ctx, id); err != nil {
			return err
		}
		if ifVersion != 0 && tm.Version != ifVersion {
			return crm.Errorf(crm.EPRECONDITION, "the team was changed meanwhile; reload it")
		}
		teams, err := tx.Teams(ctx)
		if err != nil {
			return err
		}
		if err := s.applyTeam(ctx, tx, v, tm, in, teams); err != nil {
			return err
		}
		tm.Version++
		tm.UpdatedAt = tx.Now()
		if err := tx.UpdateTeam(ctx, tm); err != nil {
			return err
		}
		for i, x := range teams {
			if x.ID == tm.ID {
				teams[i] = tm
			}
		}
		if err := s.recomputeSees(ctx, tx, teams); err != nil {
			return err
		}
		return tx.emit(s.teamEvent(p, "team.update", tm, 0))
	})
	if err != nil {
		return nil, err
	}
	return tm, nil
}

// applyTeam checks in against the tree and applies it to tm: a unique name,
// a parent that exists and is not tm or below it, an active manager. Every
// bad field is named in one EINVALID.
func (s *Service) applyTeam(ctx context.Context, tx *wtx, v *validate.Fields, tm *crm.Team, in crm.TeamInput, teams []*crm.Team) error {
	if in.Name != nil {
		tm.Name = v.Name("name", *in.Name, validate.MaxName, true)
	}
	if in.ParentID.Set {
		tm.ParentID = nil
		if in.ParentID.Valid {
			parent := in.ParentID.V
			tm.ParentID = &parent
			switch {
			case !slices.ContainsFunc(teams, func(x *crm.Team) bool { return x.ID == parent }):
				v.Add("parent_id", "unknown team")
			case tm.ID != 0 && below(teams, parent, tm.ID):
				v.Add("parent_id", "is this team or a team below it: teams cannot form a cycle")
			}
		}
	}
	if in.ManagerID.Set {
		tm.ManagerID = nil
		if in.ManagerID.Valid {
			m := in.ManagerID.V
			tm.ManagerID = &m
			if u, err := tx.UserByID(ctx, m); crm.ErrorCode(err) == crm.ENOTFOUND || (err == nil && u.Disabled) {
				v.Add("manager_id", "unknown user")
			} else if err != nil {
				return err
			}
		}
	}
	return v.Err()
}

// below reports whether team id is root or lies below it in teams.
func below(teams []*crm.Team, id, root int64) bool {
	parent := map[int64]int64{}
	for _, t := range teams {
		if t.ParentID != nil {
			parent[t.ID] = *t.ParentID
		}
	}
	for steps := 0; steps <= len(teams); steps++ {
		if id == root {
			return true
		}
		p, ok := parent[id]
		if !ok {
			return false
		}
		id = p
	}
	return true // a cycle already: refuse rather than loop
}

// DeleteTeam implements crm.TeamService.
func (s *Service) DeleteTeam(ctx context.Context, p *crm.Principal, id int64) error {
	if err := s.requireTeamAdmin(p); err != nil {
		return err
	}
	return s.write(ctx, func(tx *wtx) error {
		if err := tx.LockTeams(ctx); err != nil {
			return err
		}
		tm, err := tx.TeamByID(ctx, id)
		if err != nil {
			return err
		}
		if len(tm.Members) > 0 {
			return crm.Errorf(crm.ECONFLICT, "the team has %d members; move or remove them first", len(tm.Members))
		}
		teams, err := tx.Teams(ctx)
		if err != nil {
			return err
		}
		rest := teams[:0]
		for _, x := range teams {
			if x.ParentID != nil && *x.ParentID == id {
				return crm.Errorf(crm.ECONFLICT, "the team has sub-teams; move or delete them first")
			}
			if x.ID != id {
				rest = append(rest, x)
			}
		}
		if err := tx.DeleteTeam(ctx, id); err != nil {
			return err
		}
		if err := s.recomputeSees(ctx, tx, rest); err != nil {
			return err
		}
		return tx.emit(s.teamEvent(p, "team.delete", tm, 0))
	})
}

// AddTeamMember implements crm.TeamService.
func (s *Service) AddTeamMember(ctx context.Context, p *crm.Principal, teamID, userID int64) (*crm.Team, error) {
	return s.changeMember(ctx, p, teamID, userID, true)
}

// RemoveTeamMember implements crm.TeamService.
func (s *Service) RemoveTeamMember(ctx context.Context, p *crm.Principal, teamID, userID int64) (*crm.Team, error) {
	return s.changeMember(ctx, p, teamID, userID, false)
}

func (s *Service) changeMember(ctx context.Context, p *crm.Principal, teamID, userID int64, add bool) (*crm.Team, error) {
	if err := s.requireTeamAdmin(p); err != nil {
		return nil, err
	}
	var tm *crm.Team
	err := s.write(ctx, func(tx *wtx) (err error) {
		if err := tx.LockTeams(ctx); err != nil {
			return err
		}
		if tm, err = tx.TeamByID(ctx, teamID); err != nil {
			return err
		}
		u, err := tx.UserByID(ctx, userID)
		if crm.ErrorCode(err) == crm.ENOTFOUND {
			return crm.Invalid("user_id", "unknown user")
		} else if err != nil {
			return err
		}
		in := u.TeamID != nil && *u.TeamID == teamID
		switch {
		case add && in:
			return nil // already a member: nothing changes, nothing to record
		case add:
			if err := tx.SetUserTeam(ctx, userID, u.TeamID, &teamID); err != nil {
				return err
			}
			tm.Members = append(tm.Members, userID)
			slices.Sort(tm.Members)
		case !in:
			return crm.NotFound("team member")
		default:
			if err := tx.SetUserTeam(ctx, userID, &teamID, nil); err != nil {
				return err
			}
			tm.Members = slices.DeleteFunc(tm.Members, func(id int64) bool { return id == userID })
		}
		typ := "team.member.remove"
		if add {
			typ = "team.member.add"
		}
		return tx.emit(s.teamEvent(p, typ, tm, userID))
	})
	if err != nil {
		return nil, err
	}
	return tm, nil
}

// recomputeSees writes, for every user whose set changed, the teams whose
// records they see as a manager: each team they manage and every team
// below it, in id order.
func (s *Service) recomputeSees(ctx context.Context, tx *wtx, teams []*crm.Team) error {
	children := map[int64][]int64{}
	for _, t := range teams {
		if t.ParentID != nil {
			children[*t.ParentID] = append(children[*t.ParentID], t.ID)
		}
	}
	sees := map[int64][]int64{}
	for _, t := range teams {
		if t.ManagerID == nil {
			continue
		}
		// The subtree of t, breadth first; seen guards against a cycle the
		// checks above never let in.
		seen := map[int64]bool{}
		queue := []int64{t.ID}
		for len(queue) > 0 {
			id := queue[0]
			queue = queue[1:]
			if seen[id] {
				continue
			}
			seen[id] = true
			sees[*t.ManagerID] = append(sees[*t.ManagerID], id)
			queue = append(queue, children[id]...)
		}
	}
	users, err := tx.Users(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		want := sees[u.ID]
		slices.Sort(want)
		want = slices.Compact(want)
		if !slices.Equal(want, u.SeesTeams) {
			if err := tx.SetSeesTeams(ctx, u.ID, want); err != nil {
				return err
			}
		}
	}
	return nil
}

// teamEvent is the security event of a team change; member is the user
// added or removed, if any. The detail names the team by id and name (no
// client data).
func (s *Service) teamEvent(p *crm.Principal, typ string, tm *crm.Team, member int64) Event {
	return Event{Type: typ, UserID: member, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID,
		Detail: "team " + strconv.FormatInt(tm.ID, 10) + " " + truncate(tm.Name, 80)}
}
