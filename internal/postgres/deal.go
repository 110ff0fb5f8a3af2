package postgres

import (
	"context"
	"github.com/custos-crm/custos/internal/sqlstore"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
)

const dealCols = `id, title, pipeline_id, stage_id, amount_minor, currency, expected_close,
	contact_id, company_id, notes, tags, owner_id, version, created_at, updated_at, deleted_at`

const (
	sqlDealByID = `SELECT ` + dealCols + ` FROM deals
		WHERE id = $1 AND deleted_at IS NULL AND ($2 OR owner_id = $3)`
	sqlDeletedDealByID = `SELECT ` + dealCols + ` FROM deals
		WHERE id = $1 AND deleted_at IS NOT NULL AND ($2 OR owner_id = $3)`
	sqlInsertDeal = `INSERT INTO deals (title, title_lc, pipeline_id, stage_id, amount_minor,
		currency, expected_close, contact_id, company_id, notes, tags, owner_id, version,
		created_at, updated_at, deleted_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`
	sqlUpdateDeal = `UPDATE deals SET title = $1, title_lc = $2, pipeline_id = $3, stage_id = $4,
		amount_minor = $5, currency = $6, expected_close = $7, contact_id = $8, company_id = $9,
		notes = $10, tags = $11, owner_id = $12, version = $13, updated_at = $14, deleted_at = $15
		WHERE id = $16 AND version = $17`
)

// scanDeal scans the columns of dealCols, then extra. It fills AmountMinor;
// the service derives Amount from it and the currency.
func scanDeal(sc scanner, extra ...any) (*crm.Deal, error) {
	var (
		d                               crm.Deal
		expectedClose                   *string
		contactID, companyID, deletedAt *int64
		tags                            string
		created, updated                int64
	)
	dest := []any{&d.ID, &d.Title, &d.PipelineID, &d.StageID, &d.AmountMinor, &d.Currency,
		&expectedClose, &contactID, &companyID, &d.Notes, &tags, &d.OwnerID, &d.Version,
		&created, &updated, &deletedAt}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	var err error
	if d.Tags, err = sqlstore.DecodeTags(tags); err != nil {
		return nil, err
	}
	if expectedClose != nil {
		d.ExpectedClose = *expectedClose
	}
	d.ContactID, d.CompanyID = contactID, companyID
	d.CreatedAt, d.UpdatedAt = sqlstore.FromMicros(created), sqlstore.FromMicros(updated)
	d.DeletedAt = sqlstore.TimePtr(deletedAt)
	return &d, nil
}

// DealByID returns the deal visible in s; with deleted, only if it is
// soft-deleted. ENOTFOUND otherwise.
func (t *tx) DealByID(ctx context.Context, s crm.Scope, id int64, deleted bool) (*crm.Deal, error) {
	if !s.All && s.OwnerID == 0 {
		return nil, crm.NotFound("deal")
	}
	query := sqlDealByID
	if deleted {
		query = sqlDeletedDealByID
	}
	d, err := scanDeal(t.q.QueryRow(ctx, query, id, s.All, s.OwnerID))
	if err != nil {
		return nil, rowError(err, "deal by id", "deal")
	}
	return d, nil
}

// Deals lists the deals visible in s that match f; Q is a prefix of the
// title.
func (t *tx) Deals(ctx context.Context, s crm.Scope, f crm.DealFilter, q crm.ListQuery) ([]*crm.Deal, string, error) {
	var w where
	if !w.scope(s, "owner_id = %s") {
		return []*crm.Deal{}, "", nil
	}
	w.deleted(f.Deleted)
	eqInt(&w, "pipeline_id", f.PipelineID)
	eqInt(&w, "stage_id", f.StageID)
	eqInt(&w, "contact_id", f.ContactID)
	eqInt(&w, "company_id", f.CompanyID)
	eqInt(&w, "owner_id", f.OwnerID)
	tagFilter(&w, sqlstore.TagDeal, f.Tag)
	if q := searchText(f.Q); q != "" {
		w.and(prefix(&w, "title_lc", q))
	}
	l, err := buildList("deals", "deals", dealCols, &w, q)
	if err != nil {
		return nil, "", err
	}
	return runList(ctx, t, l, "deal", scanDeal, func(d *crm.Deal) int64 { return d.ID })
}

func dealArgs(d *crm.Deal) []any {
	return []any{d.Title, strings.ToLower(d.Title), d.PipelineID, d.StageID, d.AmountMinor,
		d.Currency, sqlstore.NullText(d.ExpectedClose), sqlstore.NullID(d.ContactID), sqlstore.NullID(d.CompanyID),
		d.Notes, sqlstore.EncodeTags(d.Tags), d.OwnerID, d.Version}
}

// InsertDeal stores a new deal and sets d.ID. It stores AmountMinor, which
// the service fills; Amount is not read. A stage of another pipeline is
// EINVALID.
func (t *tx) InsertDeal(ctx context.Context, d *crm.Deal) error {
	args := append(dealArgs(d), sqlstore.Micros(d.CreatedAt), sqlstore.Micros(d.UpdatedAt), sqlstore.NullMicros(d.DeletedAt))
	id, err := t.insert(ctx, sqlInsertDeal, args...)
	if err != nil {
		return dbError(err, "insert deal", "deal", "")
	}
	if err := t.setTags(ctx, sqlstore.TagDeal, id, d.Tags, false); err != nil {
		return err
	}
	d.ID = id
	return nil
}

// UpdateDeal stores d if the stored version is d.Version-1; EPRECONDITION
// otherwise.
func (t *tx) UpdateDeal(ctx context.Context, d *crm.Deal) error {
	args := append(dealArgs(d), sqlstore.Micros(d.UpdatedAt), sqlstore.NullMicros(d.DeletedAt), d.ID, d.Version-1)
	ok, err := t.update(ctx, sqlUpdateDeal, args...)
	if err != nil {
		return dbError(err, "update deal", "deal", "")
	}
	if !ok {
		return sqlstore.Stale("deal")
	}
	return t.setTags(ctx, sqlstore.TagDeal, d.ID, d.Tags, true)
}

const (
	// One statement, so that a Read sees pipelines and stages consistently.
	sqlPipelines = `SELECT p.id, p.name, s.id, s.name, s.position, s.probability, s.kind
		FROM pipelines p LEFT JOIN stages s ON s.pipeline_id = p.id
		ORDER BY p.id, s.position, s.id`
	sqlStageByID = `SELECT id, pipeline_id, name, position, probability, kind
		FROM stages WHERE id = $1`
	sqlInsertPipeline = `INSERT INTO pipelines (name) VALUES ($1) RETURNING id`
	sqlInsertStage    = `INSERT INTO stages (pipeline_id, name, position, probability, kind)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`
)

// Pipelines returns every pipeline with its stages ordered by position.
func (t *tx) Pipelines(ctx context.Context) ([]*crm.Pipeline, error) {
	rows, err := t.q.Query(ctx, sqlPipelines)
	if err != nil {
		return nil, dbError(err, "pipelines", "pipeline", "")
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
			return nil, rowError(err, "scan pipeline", "pipeline")
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
		return nil, rowError(err, "pipelines", "pipeline")
	}
	return list, nil
}

// StageByID returns a stage. ENOTFOUND if there is none.
func (t *tx) StageByID(ctx context.Context, id int64) (*crm.Stage, error) {
	var s crm.Stage
	err := t.q.QueryRow(ctx, sqlStageByID, id).Scan(&s.ID, &s.PipelineID, &s.Name, &s.Position, &s.Probability, &s.Kind)
	if err != nil {
		return nil, rowError(err, "stage by id", "stage")
	}
	return &s, nil
}

// InsertPipeline stores a pipeline and its stages, in the order given and
// at the positions given, and sets the IDs (and the stages' PipelineID). A
// taken name is ECONFLICT on "name".
func (t *tx) InsertPipeline(ctx context.Context, p *crm.Pipeline) error {
	id, err := t.insert(ctx, sqlInsertPipeline, p.Name)
	if err != nil {
		return dbError(err, "insert pipeline", "pipeline", "name")
	}
	for _, s := range p.Stages {
		sid, err := t.insert(ctx, sqlInsertStage, id, s.Name, s.Position, s.Probability, s.Kind)
		if err != nil {
			return dbError(err, "insert stage", "stage", "")
		}
		s.ID, s.PipelineID = sid, id
	}
	p.ID = id
	return nil
}
