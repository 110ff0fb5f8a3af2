package service

import (
	"context"
	"strconv"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/validate"
)

// Sharing of client records (ACL-2): a record's controller (its owner, the
// managers of its team, anyone with modify_all) gives a user or a team
// read or write access to it, optionally until a time. Sharing and
// revoking need the entity's share verb and a recent step-up, and are
// security events written in the change's transaction.

var _ crm.ShareService = (*Service)(nil)

// maxSharesPerRecord bounds the shares of one record: a record shared
// with more people than this wants a team, or a default.
const maxSharesPerRecord = 200

// checkEntity refuses an entity that is not a client-record entity.
func checkEntity(entity string) error {
	if _, ok := policy.Entities[entity]; !ok {
		return crm.Errorf(crm.EINTERNAL, "unknown entity %q", entity)
	}
	return nil
}

// FindShares implements crm.ShareService.
func (s *Service) FindShares(ctx context.Context, p *crm.Principal, entity string, recordID int64) ([]*crm.Share, error) {
	if err := checkEntity(entity); err != nil {
		return nil, err
	}
	if err := s.require(p, policy.On(entity, policy.Read)); err != nil {
		return nil, err
	}
	var out []*crm.Share
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		// Who else has access to a record is for whoever controls it: a
		// sharee does not learn the others (403), and one who cannot see
		// the record does not learn it exists (404).
		if _, err = s.controlled(ctx, tx, p, entity, policy.Read, recordID); err != nil {
			return err
		}
		out, err = tx.SharesOf(ctx, entity, recordID)
		return err
	})
	return out, err
}

// ShareRecord implements crm.ShareService.
func (s *Service) ShareRecord(ctx context.Context, p *crm.Principal, entity string, recordID int64, in crm.ShareInput) (*crm.Share, bool, error) {
	if err := checkEntity(entity); err != nil {
		return nil, false, err
	}
	if err := s.require(p, policy.On(entity, policy.Share)); err != nil {
		return nil, false, err
	}
	if err := s.requireStepUp(p); err != nil {
		return nil, false, err
	}
	v := validate.New()
	sh := &crm.Share{Entity: entity, RecordID: recordID, Access: crm.ShareRead, CreatedBy: p.UserID}
	switch {
	case in.UserID == nil && in.TeamID == nil:
		v.Add("user_id", "give user_id or team_id")
	case in.UserID != nil && in.TeamID != nil:
		v.Add("team_id", "give user_id or team_id, not both")
	case in.UserID != nil:
		v.PositiveID("user_id", *in.UserID)
		sh.UserID = in.UserID
	default:
		v.PositiveID("team_id", *in.TeamID)
		sh.TeamID = in.TeamID
	}
	if in.Access != nil {
		sh.Access = crm.ShareAccess(v.OneOf("access", *in.Access, []string{string(crm.ShareRead), string(crm.ShareWrite)}, true))
	}
	if in.ExpiresAt.Valid {
		t := in.ExpiresAt.V.UTC().Truncate(time.Microsecond)
		if !t.After(s.now()) {
			v.Add("expires_at", "must be in the future")
		} else if t.Year() > 2200 {
			v.Add("expires_at", "must be before 2200")
		}
		sh.ExpiresAt = &t
	}
	if err := v.Err(); err != nil {
		return nil, false, err
	}
	var created bool
	err := s.writeEvents(ctx, func(tx crm.Tx, emit func(crm.Event) error) (err error) {
		owner, err := s.controlled(ctx, tx, p, entity, policy.Share, recordID)
		if err != nil {
			return err
		}
		if sh.UserID != nil {
			if *sh.UserID == owner {
				return crm.Invalid("user_id", "owns the record already")
			}
			if u, err := tx.UserByID(ctx, *sh.UserID); err != nil || u.Disabled {
				if err != nil && crm.ErrorCode(err) != crm.ENOTFOUND {
					return err
				}
				return crm.Invalid("user_id", "unknown user")
			}
		} else if ok, err := tx.TeamExists(ctx, *sh.TeamID); err != nil {
			return err
		} else if !ok {
			return crm.Invalid("team_id", "unknown team")
		}
		shares, err := tx.SharesOf(ctx, entity, recordID)
		if err != nil {
			return err
		}
		live, replaces := 0, false
		for _, x := range shares {
			if !x.Expired {
				live++
			}
			replaces = replaces || (sh.UserID != nil && x.UserID != nil && *x.UserID == *sh.UserID) ||
				(sh.TeamID != nil && x.TeamID != nil && *x.TeamID == *sh.TeamID)
		}
		if live >= maxSharesPerRecord && !replaces {
			return crm.Errorf(crm.ECONFLICT, "the record has %d shares, the most it may have: share it with a team instead", live)
		}
		sh.CreatedAt = tx.Now()
		if created, err = tx.PutShare(ctx, sh); err != nil {
			return err
		}
		e := event(p, "share.create", entity, recordID)
		if !created {
			e.Type = "share.update"
		}
		e.UserID, e.Detail = shareGrantee(sh)
		return emit(e)
	})
	if err != nil {
		return nil, false, err
	}
	return sh, created, nil
}

// shareGrantee returns the user a share names (0 for a team) and the
// event's detail: the grantee, the access and the expiry.
func shareGrantee(sh *crm.Share) (int64, string) {
	var user int64
	d := "team " + idText(sh.TeamID)
	if sh.UserID != nil {
		user, d = *sh.UserID, "user "+idText(sh.UserID)
	}
	d += ", " + string(sh.Access)
	if sh.ExpiresAt != nil {
		d += ", until " + sh.ExpiresAt.Format(time.RFC3339)
	}
	return user, "share " + strconv.FormatInt(sh.ID, 10) + " to " + d
}

func idText(id *int64) string {
	if id == nil {
		return "-"
	}
	return strconv.FormatInt(*id, 10)
}

// RevokeShare implements crm.ShareService.
func (s *Service) RevokeShare(ctx context.Context, p *crm.Principal, entity string, recordID, shareID int64) error {
	if err := checkEntity(entity); err != nil {
		return err
	}
	if err := s.require(p, policy.On(entity, policy.Share)); err != nil {
		return err
	}
	if err := s.requireStepUp(p); err != nil {
		return err
	}
	return s.writeEvents(ctx, func(tx crm.Tx, emit func(crm.Event) error) error {
		if _, err := s.controlled(ctx, tx, p, entity, policy.Share, recordID); err != nil {
			return err
		}
		shares, err := tx.SharesOf(ctx, entity, recordID)
		if err != nil {
			return err
		}
		var sh *crm.Share
		for _, x := range shares {
			if x.ID == shareID {
				sh = x
			}
		}
		if sh == nil {
			return crm.NotFound("share")
		}
		if err := tx.DeleteShare(ctx, entity, recordID, shareID); err != nil {
			return err
		}
		e := event(p, "share.revoke", entity, recordID)
		e.UserID, e.Detail = shareGrantee(sh)
		return emit(e)
	})
}
