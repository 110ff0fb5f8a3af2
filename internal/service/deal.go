package service

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/validate"
)

var dealOps = ops[*crm.Deal]{
	entity: "deal",
	list:   "deals",
	id:     func(v *crm.Deal) int64 { return v.ID },
	// The amount's decimal form is made wherever a deal leaves the store.
	insert: func(ctx context.Context, tx crm.RecordTx, d *crm.Deal) error {
		d.Amount = validate.FormatAmount(d.AmountMinor)
		return tx.InsertDeal(ctx, d)
	},
	byID: func(ctx context.Context, tx crm.RecordTx, s crm.Scope, id int64, deleted bool) (*crm.Deal, error) {
		d, err := tx.DealByID(ctx, s, id, deleted)
		if err == nil {
			d.Amount = validate.FormatAmount(d.AmountMinor)
		}
		return d, err
	},
	update: func(ctx context.Context, tx crm.RecordTx, d *crm.Deal) error {
		d.Amount = validate.FormatAmount(d.AmountMinor)
		return tx.UpdateDeal(ctx, d)
	},
	stamp: func(d *crm.Deal) (*int64, *time.Time, **time.Time) { return &d.Version, &d.UpdatedAt, &d.DeletedAt },
}

// FindDealByID implements crm.DealService.
func (s *Service) FindDealByID(ctx context.Context, p *crm.Principal, id int64) (*crm.Deal, error) {
	return findRecord(ctx, s, p, dealOps, id)
}

// FindDeals implements crm.DealService.
// Its lists are answered by the in-memory index (index.go): the store
// holds titles sealed.
func (s *Service) FindDeals(ctx context.Context, p *crm.Principal, f crm.DealFilter, o crm.ListOptions) (*crm.Page[*crm.Deal], error) {
	began := time.Now()
	var err error
	f.Tag = strings.ToLower(strings.TrimSpace(f.Tag))
	if f.Q, err = searchText(f.Q); err != nil {
		return nil, err
	}
	if err := checkIDs(f.IDs); err != nil {
		return nil, err
	}
	if err := s.syncIndex(ctx, s.deals, began); err != nil {
		return nil, err
	}
	return listRecords(ctx, s, p, dealOps, "-created_at", f.Deleted, o, func(tx crm.RecordTx, sc crm.Scope, q crm.ListQuery) ([]*crm.Deal, string, error) {
		return s.dealPage(ctx, tx, sc, f, q)
	})
}

// dealPage is one page of deals in scope sc matching f: the ids from the
// index, then their rows, in scope, from the store.
func (s *Service) dealPage(ctx context.Context, tx crm.RecordTx, sc crm.Scope, f crm.DealFilter, q crm.ListQuery) ([]*crm.Deal, string, error) {
	iq, err := indexQuery(q)
	if err != nil {
		return nil, "", err
	}
	iq.Deleted, iq.Owner, iq.Tag, iq.IDs, iq.Words = f.Deleted, f.OwnerID, f.Tag, f.IDs, searchWords(f.Q)
	iq.Eq = eqs(map[int]int64{dealPipeline: f.PipelineID, dealStage: f.StageID, dealContact: f.ContactID, dealCompany: f.CompanyID})
	return indexPage(s.deals, sc, tx.Now(), iq, func(ids []int64) ([]*crm.Deal, error) {
		rows, _, err := tx.Deals(ctx, sc, crm.DealFilter{IDs: ids, Deleted: f.Deleted}, crm.ListQuery{Sort: "created_at", Limit: len(ids)})
		for _, d := range rows {
			d.Amount = validate.FormatAmount(d.AmountMinor)
		}
		return rows, err
	}, func(d *crm.Deal) int64 { return d.ID })
}

func (s *Service) applyDeal(d *crm.Deal, in crm.DealInput, create bool) error {
	v := validate.New()
	if in.Title != nil || create {
		d.Title = v.Text("title", str(in.Title), validate.MaxShort, true, false)
	}
	if in.StageID != nil {
		d.StageID = v.PositiveID("stage_id", *in.StageID)
	} else if create && in.PipelineID == nil {
		v.Add("stage_id", "required")
	}
	if in.PipelineID != nil {
		d.PipelineID = v.PositiveID("pipeline_id", *in.PipelineID)
	}
	if in.Amount != nil {
		d.AmountMinor = v.Amount("amount", *in.Amount)
	}
	if in.Currency != nil || create {
		if in.Currency == nil {
			d.Currency = "RUB"
		} else {
			d.Currency = v.Currency("currency", *in.Currency)
		}
	}
	if in.ExpectedClose != nil {
		d.ExpectedClose = v.Date("expected_close", *in.ExpectedClose)
	}
	if in.ContactID.Set {
		if d.ContactID = in.ContactID.Ptr(); d.ContactID != nil {
			v.PositiveID("contact_id", *d.ContactID)
		}
	}
	if in.CompanyID.Set {
		if d.CompanyID = in.CompanyID.Ptr(); d.CompanyID != nil {
			v.PositiveID("company_id", *d.CompanyID)
		}
	}
	if in.Notes != nil {
		d.Notes = v.Text("notes", *in.Notes, validate.MaxText, false, true)
	}
	if in.Tags != nil {
		d.Tags = v.Tags("tags", *in.Tags)
	}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	return v.Err()
}

// resolveStage checks the stage and pipeline of a deal. A pipeline without
// a stage puts the deal on the pipeline's first stage.
func (s *Service) resolveStage(ctx context.Context, tx crm.RecordTx, d *crm.Deal, stageGiven bool) error {
	bad := func(field, reason string) error {
		return crm.Invalid(field, reason)
	}
	if !stageGiven {
		pls, err := tx.Pipelines(ctx)
		if err != nil {
			return err
		}
		for _, pl := range pls {
			if pl.ID == d.PipelineID && len(pl.Stages) > 0 {
				d.StageID = pl.Stages[0].ID
				return nil
			}
		}
		return bad("pipeline_id", "unknown pipeline")
	}
	st, err := tx.StageByID(ctx, d.StageID)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return bad("stage_id", "unknown stage")
	} else if err != nil {
		return err
	}
	if d.PipelineID != 0 && d.PipelineID != st.PipelineID {
		return bad("stage_id", "stage belongs to another pipeline")
	}
	d.PipelineID = st.PipelineID
	return nil
}

// checkDealRefs checks the contact and company a deal links to.
func (s *Service) checkDealRefs(ctx context.Context, tx crm.RecordTx, p *crm.Principal, contactID, companyID *int64) error {
	if contactID != nil {
		if _, err := tx.ContactByID(ctx, s.pol.ReadScope(p, "contact"), *contactID, false); err != nil {
			return unknownRef("contact_id", "contact", err)
		}
	}
	return s.checkCompany(ctx, tx, p, "company_id", companyID)
}

// CreateDeal implements crm.DealService.
func (s *Service) CreateDeal(ctx context.Context, p *crm.Principal, in crm.DealInput) (*crm.Deal, error) {
	d := &crm.Deal{}
	if err := s.require(p, policy.On("deal", policy.Create)); err != nil {
		return nil, err
	} else if err := s.applyDeal(d, in, true); err != nil {
		return nil, err
	}
	return createRecord(ctx, s, p, dealOps, d, in, func(tx crm.RecordTx, now time.Time) (err error) {
		if d.OwnerID, d.TeamID, err = s.ownerFor(ctx, tx, p, "deal", 0, in.OwnerID, 0, nil); err != nil {
			return err
		}
		if err := s.resolveStage(ctx, tx, d, in.StageID != nil); err != nil {
			return err
		}
		if err := s.checkDealRefs(ctx, tx, p, d.ContactID, d.CompanyID); err != nil {
			return err
		}
		d.CreatedAt, d.UpdatedAt, d.Version = now, now, 1
		return nil
	})
}

// UpdateDeal implements crm.DealService.
func (s *Service) UpdateDeal(ctx context.Context, p *crm.Principal, id int64, in crm.DealInput, ifVersion int64) (*crm.Deal, error) {
	return updateRecord(ctx, s, p, dealOps, id, ifVersion, in, func(tx crm.RecordTx, d *crm.Deal) (err error) {
		oldLinks := links{contact: d.ContactID, company: d.CompanyID}
		if err := s.applyDeal(d, in, false); err != nil {
			return err
		}
		if in.StageID != nil || in.PipelineID != nil {
			if err := s.resolveStage(ctx, tx, d, in.StageID != nil); err != nil {
				return err
			}
		}
		if d.OwnerID, d.TeamID, err = s.ownerFor(ctx, tx, p, "deal", d.ID, in.OwnerID, d.OwnerID, d.TeamID); err != nil {
			return err
		}
		var contactID, companyID *int64
		if in.ContactID.Valid {
			contactID = d.ContactID
		}
		if in.CompanyID.Valid {
			companyID = d.CompanyID
		}
		if err := s.checkDealRefs(ctx, tx, p, contactID, companyID); err != nil {
			return err
		}
		return s.keepHiddenLinks(ctx, tx, p, oldLinks, in.ContactID, in.CompanyID, crm.Nullable[int64]{})
	})
}

// DeleteDeal implements crm.DealService.
func (s *Service) DeleteDeal(ctx context.Context, p *crm.Principal, id int64) error {
	return deleteRecord(ctx, s, p, dealOps, id)
}

// RestoreDeal implements crm.DealService.
func (s *Service) RestoreDeal(ctx context.Context, p *crm.Principal, id int64) (*crm.Deal, error) {
	return restoreRecord(ctx, s, p, dealOps, id)
}

// FindPipelines implements crm.DealService.
func (s *Service) FindPipelines(ctx context.Context, p *crm.Principal) ([]*crm.Pipeline, error) {
	if err := s.require(p, policy.On("deal", policy.Read)); err != nil {
		return nil, err
	}
	var out []*crm.Pipeline
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		out, err = tx.Pipelines(ctx)
		return err
	})
	return out, err
}

// CreatePipeline implements crm.DealService.
func (s *Service) CreatePipeline(ctx context.Context, p *crm.Principal, in crm.PipelineInput) (*crm.Pipeline, error) {
	if err := s.require(p, policy.ManagePipeline); err != nil {
		return nil, err
	}
	v := validate.New()
	pl := &crm.Pipeline{Name: v.Text("name", str(in.Name), validate.MaxName, true, false)}
	if len(in.Stages) == 0 || len(in.Stages) > 20 {
		v.Add("stages", "between 1 and 20 stages required")
	}
	for i, st := range in.Stages {
		field := "stages[" + strconv.Itoa(i) + "]"
		stage := &crm.Stage{Position: i, Kind: crm.StageOpen}
		stage.Name = v.Text(field+".name", str(st.Name), validate.MaxName, true, false)
		if st.Kind != nil {
			stage.Kind = v.OneOf(field+".kind", *st.Kind, []string{crm.StageOpen, crm.StageWon, crm.StageLost}, true)
		}
		if st.Probability != nil {
			if *st.Probability < 0 || *st.Probability > 100 {
				v.Add(field+".probability", "must be between 0 and 100")
			}
			stage.Probability = *st.Probability
		}
		pl.Stages = append(pl.Stages, stage)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.store.Write(ctx, func(tx crm.Tx) error { return tx.InsertPipeline(ctx, pl) })
	if err != nil {
		return nil, err
	}
	return pl, nil
}
