package sqlstore

import (
	"context"

	"github.com/custos-crm/custos/internal/crm"
)

const dealCols = `id, title, pipeline_id, stage_id, amount_minor, currency, expected_close,
	contact_id, company_id, notes, tags, owner_id, team_id, version, created_at, updated_at, deleted_at`

var (
	sqlInsertDeal = Statement(`INSERT INTO deals (title, pipeline_id, stage_id, amount_minor,
		currency, expected_close, contact_id, company_id, notes, tags, owner_id, team_id, version,
		created_at, updated_at, deleted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlInsertDealID = withID(sqlInsertDeal)
	sqlUpdateDeal   = Statement(`UPDATE deals SET title = ?, pipeline_id = ?, stage_id = ?,
		amount_minor = ?, currency = ?, expected_close = ?, contact_id = ?, company_id = ?,
		notes = ?, tags = ?, owner_id = ?, team_id = ?, version = ?, updated_at = ?, deleted_at = ?
		WHERE id = ? AND version = ?`)
)

// scanDeal scans the columns of dealCols, then extra. It fills AmountMinor;
// the service derives Amount from it and the currency.
func scanDeal(sc Row, extra ...any) (*crm.Deal, error) {
	var (
		d                               crm.Deal
		expectedClose                   *string
		contactID, companyID, deletedAt *int64
		tags                            string
		created, updated                int64
	)
	dest := []any{&d.ID, &d.Title, &d.PipelineID, &d.StageID, &d.AmountMinor, &d.Currency,
		&expectedClose, &contactID, &companyID, &d.Notes, &tags, &d.OwnerID, &d.TeamID, &d.Version,
		&created, &updated, &deletedAt}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	var err error
	if d.Tags, err = DecodeTags(tags); err != nil {
		return nil, err
	}
	if expectedClose != nil {
		d.ExpectedClose = *expectedClose
	}
	d.ContactID, d.CompanyID = contactID, companyID
	d.CreatedAt, d.UpdatedAt = FromMicros(created), FromMicros(updated)
	d.DeletedAt = TimePtr(deletedAt)
	return &d, nil
}

// DealByID returns the deal visible in s; with deleted, only if it is
// soft-deleted. ENOTFOUND otherwise.
func (t Tx) DealByID(ctx context.Context, s crm.Scope, id int64, deleted bool) (*crm.Deal, error) {
	if !s.All && s.OwnerID == 0 {
		return nil, crm.NotFound("deal")
	}
	query, args := byIDSQL(t.C, "deal", dealCols, deleted), byIDArgs(t.C, "deal", s, id, Micros(t.C.Now()))
	d, err := scanDeal(t.C.QueryRow(ctx, query, args...))
	if err != nil {
		return nil, t.C.RowError(err, "deal by id", "deal")
	}
	return d, nil
}

// Deals lists the deals visible in s that match f; Q is a prefix of the
// title.
func (t Tx) Deals(ctx context.Context, s crm.Scope, f crm.DealFilter, q crm.ListQuery) ([]*crm.Deal, string, error) {
	if f.Q != "" {
		// A sealed value: a caller that asks must not get every deal.
		return nil, "", crm.Errorf(crm.EINVALID, "the store cannot search deals by title: it is sealed (the service's index does)")
	}
	var w where
	if !t.scoped(ctx, &w, "deal", s, f.IDs) {
		return []*crm.Deal{}, "", nil
	}
	if f.IDs != nil {
		w.and(t.C.InIDs("id", f.IDs))
	}
	if !f.AnyState {
		w.deleted(f.Deleted)
	}
	eqInt(&w, "pipeline_id", f.PipelineID)
	eqInt(&w, "stage_id", f.StageID)
	eqInt(&w, "contact_id", f.ContactID)
	eqInt(&w, "company_id", f.CompanyID)
	eqInt(&w, "owner_id", f.OwnerID)
	tagFilter(&w, TagDeal, f.Tag)
	if f.IDs != nil {
		rows, err := byIDs(ctx, t.C, "deals", dealCols, &w, "deal", scanDeal)
		return rows, "", err
	}
	l, err := buildList(t.C, "deals", "deals", dealCols, &w, q)
	if err != nil {
		return nil, "", err
	}
	return runList(ctx, t.C, l, "deal", scanDeal, func(d *crm.Deal) int64 { return d.ID })
}

func dealArgs(d *crm.Deal) []any {
	return []any{d.Title, d.PipelineID, d.StageID, d.AmountMinor,
		d.Currency, NullText(d.ExpectedClose), NullID(d.ContactID), NullID(d.CompanyID),
		d.Notes, EncodeTags(d.Tags), d.OwnerID, NullID(d.TeamID), d.Version}
}

// InsertDeal stores a new deal and sets d.ID. It stores AmountMinor, which
// the service fills; Amount is not read. A stage of another pipeline is
// EINVALID.
func (t Tx) InsertDeal(ctx context.Context, d *crm.Deal) error {
	args := append(dealArgs(d), Micros(d.CreatedAt), Micros(d.UpdatedAt), NullMicros(d.DeletedAt))
	id, err := t.insertRecord(ctx, sqlInsertDeal, sqlInsertDealID, d.ID, args...)
	if err != nil {
		return t.C.DBError(err, "insert deal", "deal", "")
	}
	if err := t.setTags(ctx, TagDeal, id, d.Tags, false); err != nil {
		return err
	}
	d.ID = id
	return nil
}

// UpdateDeal stores d if the stored version is d.Version-1; EPRECONDITION
// otherwise.
func (t Tx) UpdateDeal(ctx context.Context, d *crm.Deal) error {
	args := append(dealArgs(d), Micros(d.UpdatedAt), NullMicros(d.DeletedAt), d.ID, d.Version-1)
	ok, err := t.changed(ctx, sqlUpdateDeal, args...)
	if err != nil {
		return t.C.DBError(err, "update deal", "deal", "")
	}
	if !ok {
		return Stale("deal")
	}
	return t.setTags(ctx, TagDeal, d.ID, d.Tags, true)
}

var (
	// One statement, so that a Read sees pipelines and stages consistently.
	sqlPipelines = Statement(`SELECT p.id, p.name, s.id, s.name, s.position, s.probability, s.kind
		FROM pipelines p LEFT JOIN stages s ON s.pipeline_id = p.id
		ORDER BY p.id, s.position, s.id`)
	sqlStageByID = Statement(`SELECT id, pipeline_id, name, position, probability, kind
		FROM stages WHERE id = ?`)
	sqlInsertPipeline = Statement(`INSERT INTO pipelines (name) VALUES (?)`)
	sqlInsertStage    = Statement(`INSERT INTO stages (pipeline_id, name, position, probability, kind)
		VALUES (?, ?, ?, ?, ?)`)
)

// Pipelines returns every pipeline with its stages ordered by position.
func (t Tx) Pipelines(ctx context.Context) ([]*crm.Pipeline, error) {
	rows, err := t.C.Query(ctx, sqlPipelines)
	if err != nil {
		return nil, t.C.DBError(err, "pipelines", "pipeline", "")
	}
	defer rows.Close()
	list := []*crm.Pipeline{}
	var p *crm.Pipeline
	for rows.Next() {
		var (
			pid       int64
			pname     string
			sid       *int64
			sname     *string
			pos, prob *int
			kind      *string
		)
		if err := rows.Scan(&pid, &pname, &sid, &sname, &pos, &prob, &kind); err != nil {
			return nil, t.C.RowError(err, "scan pipeline", "pipeline")
		}
		if p == nil || p.ID != pid {
			p = &crm.Pipeline{ID: pid, Name: pname, Stages: []*crm.Stage{}}
			list = append(list, p)
		}
		if sid != nil {
			p.Stages = append(p.Stages, &crm.Stage{ID: *sid, PipelineID: pid, Name: *sname,
				Position: *pos, Probability: *prob, Kind: *kind})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, t.C.RowError(err, "pipelines", "pipeline")
	}
	return list, nil
}

// StageByID returns a stage. ENOTFOUND if there is none.
func (t Tx) StageByID(ctx context.Context, id int64) (*crm.Stage, error) {
	var s crm.Stage
	err := t.C.QueryRow(ctx, sqlStageByID, id).Scan(&s.ID, &s.PipelineID, &s.Name, &s.Position, &s.Probability, &s.Kind)
	if err != nil {
		return nil, t.C.RowError(err, "stage by id", "stage")
	}
	return &s, nil
}

// InsertPipeline stores a pipeline and its stages, in the order given and
// at the positions given, and sets the IDs (and the stages' PipelineID). A
// taken name is ECONFLICT on "name".
func (t Tx) InsertPipeline(ctx context.Context, p *crm.Pipeline) error {
	id, err := t.C.Insert(ctx, sqlInsertPipeline, p.Name)
	if err != nil {
		return t.C.DBError(err, "insert pipeline", "pipeline", "name")
	}
	for _, s := range p.Stages {
		sid, err := t.C.Insert(ctx, sqlInsertStage, id, s.Name, s.Position, s.Probability, s.Kind)
		if err != nil {
			return t.C.DBError(err, "insert stage", "stage", "")
		}
		s.ID, s.PipelineID = sid, id
	}
	p.ID = id
	return nil
}
