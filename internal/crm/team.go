package crm

import (
	"context"
	"time"
)

// Team is a group of users (ACL-2). Teams nest to any depth under a
// parent; a team's manager sees and edits the records of the team and of
// every team below it. A user is a member of at most one team.
type Team struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	ParentID  *int64 `json:"parent_id,omitempty"`
	ManagerID *int64 `json:"manager_id,omitempty"`
	// Members are the ids of the team's users, in id order.
	Members   []int64   `json:"members"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TeamInput creates or changes a team. A null parent makes it a top-level
// team; a null manager leaves it without one.
type TeamInput struct {
	Name      *string         `json:"name"`
	ParentID  Nullable[int64] `json:"parent_id"`
	ManagerID Nullable[int64] `json:"manager_id"`
}

// TeamService manages teams and their members. Everyone on the staff may
// read the teams (the structure, like the staff directory); changes need
// the users.write permission and a recent step-up (AUTH-4), and each is a
// security event.
type TeamService interface {
	FindTeams(ctx context.Context, p *Principal) ([]*Team, error)
	FindTeam(ctx context.Context, p *Principal, id int64) (*Team, error)
	CreateTeam(ctx context.Context, p *Principal, in TeamInput) (*Team, error)
	UpdateTeam(ctx context.Context, p *Principal, id int64, in TeamInput, ifVersion int64) (*Team, error)
	// DeleteTeam removes a team that has no members and no sub-teams; its
	// records keep their owners and lose the team.
	DeleteTeam(ctx context.Context, p *Principal, id int64) error
	// AddTeamMember makes the user a member of the team, leaving any team
	// they were in. The records the user owns move with them: records of
	// their old team (or of none) become the new team's.
	AddTeamMember(ctx context.Context, p *Principal, teamID, userID int64) (*Team, error)
	// RemoveTeamMember takes the user out of the team; the records they
	// own there lose the team.
	RemoveTeamMember(ctx context.Context, p *Principal, teamID, userID int64) (*Team, error)
}
