package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/postgres"
	"github.com/custos-crm/custos/internal/postgres/postgrestest"
	"github.com/custos-crm/custos/internal/sqlite"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The two stores share their Go code's assumptions about the schema (which
// columns exist, which may be NULL, what is unique, what a purge takes
// along), so their migrations must describe the same schema. This test
// migrates both and compares what each database reports about itself.
//
// Each schema is reduced to a description both engines can give:
//   - tables, but not SQLite's own (sqlite_sequence, sqlite_stat1), which
//     the engine makes for AUTOINCREMENT and ANALYZE; schema_migrations is
//     compared like any other table, as both runners make the same one;
//   - per column, its name, a type class (integer, text, boolean, blob)
//     and whether it is NOT NULL. SQLite has no boolean type: an INTEGER
//     column with CHECK (c IN (0, 1)) is the class boolean. A primary key
//     column counts as NOT NULL on both (SQLite's rowid aliases cannot be
//     NULL, though table_info says notnull 0);
//   - the primary key's columns;
//   - every other index and unique constraint as its uniqueness, its key
//     columns or expressions and its partial predicate, in a normal form
//     (lower case, no casts or quotes, no spaces); names may differ;
//   - foreign keys as their columns, the referenced table and columns, and
//     the ON DELETE action.
//
// Beyond SQLite's schema, every PostgreSQL text column must be COLLATE "C",
// SQLite's BINARY, which the sort order and the prefix search rely on.

// schemaDesc is the comparable description of one database's schema.
type schemaDesc map[string]*tableDesc

type tableDesc struct {
	columns map[string]string // name → "class" or "class NOT NULL"
	pk      string
	pkCols  []string
	indexes []string // normal forms, sorted
	fks     []string // normal forms, sorted
}

func TestMigrationsEquivalent(t *testing.T) {
	pg := postgrestest.New(t)
	lite, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	if err := lite.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", filepath.Join(filepath.Dir(lite.Path()), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	liteDesc, err := describeSQLite(t.Context(), raw)
	if err != nil {
		t.Fatalf("describe SQLite: %v", err)
	}
	pgDesc, collations, err := describePostgres(t.Context(), postgres.Writer(pg))
	if err != nil {
		t.Fatalf("describe PostgreSQL: %v", err)
	}
	if len(liteDesc) < 10 {
		t.Fatalf("SQLite has %d tables; the description is broken", len(liteDesc))
	}
	for _, d := range diffSchemas(liteDesc, pgDesc) {
		t.Error(d)
	}
	for _, col := range slices.Sorted(maps.Keys(collations)) {
		if c := collations[col]; c != "C" {
			t.Errorf("PostgreSQL column %s is COLLATE %q, want \"C\" (SQLite's BINARY)", col, c)
		}
	}
}

// diffSchemas returns one message per difference, SQLite's side first.
func diffSchemas(lite, pg schemaDesc) []string {
	var diffs []string
	for _, name := range slices.Sorted(maps.Keys(lite)) {
		if pg[name] == nil {
			diffs = append(diffs, fmt.Sprintf("table %s: only in SQLite", name))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(pg)) {
		l, p := lite[name], pg[name]
		if l == nil {
			diffs = append(diffs, fmt.Sprintf("table %s: only in PostgreSQL", name))
			continue
		}
		cols := slices.Sorted(maps.Keys(l.columns))
		for _, c := range slices.Sorted(maps.Keys(p.columns)) {
			if _, ok := l.columns[c]; !ok {
				cols = append(cols, c)
			}
		}
		for _, c := range cols {
			lc, inLite := l.columns[c]
			pc, inPG := p.columns[c]
			switch {
			case !inPG:
				diffs = append(diffs, fmt.Sprintf("table %s: column %s (%s) only in SQLite", name, c, lc))
			case !inLite:
				diffs = append(diffs, fmt.Sprintf("table %s: column %s (%s) only in PostgreSQL", name, c, pc))
			case lc != pc:
				diffs = append(diffs, fmt.Sprintf("table %s: column %s is %s in SQLite, %s in PostgreSQL", name, c, lc, pc))
			}
		}
		if l.pk != p.pk {
			diffs = append(diffs, fmt.Sprintf("table %s: primary key (%s) in SQLite, (%s) in PostgreSQL", name, l.pk, p.pk))
		}
		diffs = append(diffs, diffLists(name, "index", l.indexes, p.indexes)...)
		diffs = append(diffs, diffLists(name, "foreign key", l.fks, p.fks)...)
	}
	return diffs
}

// diffLists reports the members of two sorted lists that the other lacks
// (counting duplicates).
func diffLists(table, what string, lite, pg []string) []string {
	var diffs []string
	count := map[string]int{}
	for _, s := range lite {
		count[s]++
	}
	for _, s := range pg {
		count[s]--
	}
	for _, s := range slices.Sorted(maps.Keys(count)) {
		for n := count[s]; n > 0; n-- {
			diffs = append(diffs, fmt.Sprintf("table %s: %s %s only in SQLite", table, what, s))
		}
		for n := count[s]; n < 0; n++ {
			diffs = append(diffs, fmt.Sprintf("table %s: %s %s only in PostgreSQL", table, what, s))
		}
	}
	return diffs
}

var (
	castRe       = regexp.MustCompile(`::[a-z][a-z ]*`)
	quotedIntRe  = regexp.MustCompile(`'(-?[0-9]+)'`)
	spaceRe      = regexp.MustCompile(`\s+`)
	punctSpaceRe = regexp.MustCompile(` ?([(),]) ?`)
	outerParenRe = regexp.MustCompile(`^\((.*)\)$`)
)

// normExpr is the normal form of an index column or predicate: lower case,
// without casts, quotes around identifiers and integers, outer parentheses
// or spaces but single ones between words. PostgreSQL writes COALESCE(due_at, '9223372036854775807'::bigint)
// where SQLite keeps coalesce(due_at, 9223372036854775807).
func normExpr(s string) string {
	s = strings.ToLower(strings.TrimSpace(spaceRe.ReplaceAllString(s, " ")))
	s = castRe.ReplaceAllString(s, "")
	s = quotedIntRe.ReplaceAllString(s, "$1")
	s = strings.ReplaceAll(s, `"`, "")
	for {
		m := outerParenRe.FindStringSubmatch(s)
		if m == nil || !balanced(m[1]) {
			break
		}
		s = m[1]
	}
	return punctSpaceRe.ReplaceAllString(spaceRe.ReplaceAllString(s, " "), "$1")
}

// balanced reports whether the parentheses of s pair up, so that stripping
// the outer pair of "(a) OR (b)" is refused.
func balanced(s string) bool {
	depth := 0
	for _, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			if depth--; depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

// indexForm is the normal form of an index.
func indexForm(unique bool, keys []string, pred string) string {
	var b strings.Builder
	if unique {
		b.WriteString("UNIQUE ")
	}
	b.WriteString("(" + strings.Join(keys, ", ") + ")")
	if pred != "" {
		b.WriteString(" WHERE " + normExpr(pred))
	}
	return b.String()
}

// fkForm is the normal form of a foreign key.
func fkForm(from []string, table string, to []string, onDelete string) string {
	return fmt.Sprintf("(%s) REFERENCES %s (%s) ON DELETE %s",
		strings.Join(from, ", "), table, strings.Join(to, ", "), onDelete)
}

// describeSQLite reads the schema through SQLite's pragmas.
func describeSQLite(ctx context.Context, db *sql.DB) (schemaDesc, error) {
	desc := schemaDesc{}
	tables, err := queryPairs(ctx, db, `SELECT name, sql FROM sqlite_schema
		WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return nil, err
	}
	fks := map[string][]*sqliteFK{}
	for name, tableSQL := range tables {
		td := &tableDesc{columns: map[string]string{}}
		desc[name] = td

		rows, err := db.QueryContext(ctx, `SELECT name, upper(type), "notnull", pk FROM pragma_table_info(?) ORDER BY cid`, name)
		if err != nil {
			return nil, err
		}
		pk := map[int]string{}
		for rows.Next() {
			var col, typ string
			var notNull bool
			var pkPos int
			if err := rows.Scan(&col, &typ, &notNull, &pkPos); err != nil {
				rows.Close()
				return nil, err
			}
			class := map[string]string{"INTEGER": "integer", "TEXT": "text", "BLOB": "blob"}[typ]
			if class == "" {
				class = "sqlite " + typ
			}
			boolCheck := regexp.MustCompile(`(?i)CHECK\s*\(\s*` + regexp.QuoteMeta(col) + `\s+IN\s*\(\s*0\s*,\s*1\s*\)\s*\)`)
			if class == "integer" && boolCheck.MatchString(tableSQL) {
				class = "boolean"
			}
			if pkPos > 0 {
				pk[pkPos], notNull = col, true
			}
			if notNull {
				class += " NOT NULL"
			}
			td.columns[col] = class
		}
		if err := closeRows(rows); err != nil {
			return nil, err
		}
		for _, pos := range slices.Sorted(maps.Keys(pk)) {
			td.pkCols = append(td.pkCols, pk[pos])
		}
		td.pk = strings.Join(td.pkCols, ", ")

		indexes, err := sqliteIndexes(ctx, db, name)
		if err != nil {
			return nil, err
		}
		td.indexes = indexes
		if fks[name], err = sqliteForeignKeys(ctx, db, name); err != nil {
			return nil, err
		}
	}
	for name, list := range fks {
		for _, f := range list {
			if len(f.to) == 0 && desc[f.table] != nil {
				f.to = desc[f.table].pkCols // no columns named: the primary key
			}
			desc[name].fks = append(desc[name].fks, fkForm(f.from, f.table, f.to, f.onDelete))
		}
		slices.Sort(desc[name].fks)
	}
	return desc, nil
}

// sqliteFK is a foreign key as SQLite reports it.
type sqliteFK struct {
	table, onDelete string
	from, to        []string
}

func sqliteIndexes(ctx context.Context, db *sql.DB, table string) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name, "unique", origin FROM pragma_index_list(?)`, table)
	if err != nil {
		return nil, err
	}
	type index struct {
		name, origin string
		unique       bool
	}
	var list []index
	for rows.Next() {
		var ix index
		if err := rows.Scan(&ix.name, &ix.unique, &ix.origin); err != nil {
			rows.Close()
			return nil, err
		}
		list = append(list, ix)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	var forms []string
	for _, ix := range list {
		if ix.origin == "pk" {
			continue // compared as the primary key
		}
		var keys []string
		var pred string
		if ix.origin == "c" {
			// CREATE INDEX: its text holds expressions and the predicate.
			var text string
			if err := db.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?`, ix.name).Scan(&text); err != nil {
				return nil, err
			}
			if keys, pred, err = parseCreateIndex(text); err != nil {
				return nil, fmt.Errorf("index %s: %w", ix.name, err)
			}
		} else {
			// A UNIQUE constraint: plain columns.
			cols, err := db.QueryContext(ctx, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, ix.name)
			if err != nil {
				return nil, err
			}
			for cols.Next() {
				var c string
				if err := cols.Scan(&c); err != nil {
					cols.Close()
					return nil, err
				}
				keys = append(keys, normExpr(c))
			}
			if err := closeRows(cols); err != nil {
				return nil, err
			}
		}
		forms = append(forms, indexForm(ix.unique, keys, pred))
	}
	slices.Sort(forms)
	return forms, nil
}

// parseCreateIndex splits "CREATE [UNIQUE] INDEX n ON t (k1, k2) [WHERE p]"
// into the normal forms of its keys and its predicate.
func parseCreateIndex(text string) (keys []string, pred string, err error) {
	open := strings.IndexByte(text, '(')
	if open < 0 {
		return nil, "", fmt.Errorf("no key list in %q", text)
	}
	depth, start := 0, open+1
	for i := open; i < len(text); i++ {
		switch text[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				keys = append(keys, normExpr(text[start:i]))
				rest := strings.TrimSpace(text[i+1:])
				if len(rest) >= 5 && strings.EqualFold(rest[:5], "WHERE") {
					pred = rest[5:]
				} else if rest != "" {
					return nil, "", fmt.Errorf("unexpected %q after the keys", rest)
				}
				return keys, pred, nil
			}
		case ',':
			if depth == 1 {
				keys = append(keys, normExpr(text[start:i]))
				start = i + 1
			}
		case '\'':
			// Skip a string literal, which may hold parentheses or commas.
			end := strings.IndexByte(text[i+1:], '\'')
			if end < 0 {
				return nil, "", fmt.Errorf("unterminated string in %q", text)
			}
			i += end + 1
		}
	}
	return nil, "", fmt.Errorf("unbalanced key list in %q", text)
}

func sqliteForeignKeys(ctx context.Context, db *sql.DB, table string) ([]*sqliteFK, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, "table", "from", coalesce("to", ''), on_delete
		FROM pragma_foreign_key_list(?) ORDER BY id, seq`, table)
	if err != nil {
		return nil, err
	}
	byID := map[int]*sqliteFK{}
	var ids []int
	for rows.Next() {
		var id int
		var ref, from, to, onDelete string
		if err := rows.Scan(&id, &ref, &from, &to, &onDelete); err != nil {
			rows.Close()
			return nil, err
		}
		f := byID[id]
		if f == nil {
			f = &sqliteFK{table: ref, onDelete: strings.ToUpper(onDelete)}
			byID[id] = f
			ids = append(ids, id)
		}
		f.from = append(f.from, from)
		if to != "" {
			f.to = append(f.to, to)
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	var list []*sqliteFK
	for _, id := range ids {
		list = append(list, byID[id])
	}
	return list, nil
}

// describePostgres reads the schema of the connection's current schema
// from pg_catalog, and returns the collation of every text column too.
func describePostgres(ctx context.Context, pool *pgxpool.Pool) (schemaDesc, map[string]string, error) {
	desc := schemaDesc{}
	collations := map[string]string{}
	rows, err := pool.Query(ctx, `SELECT c.oid::bigint, c.relname::text FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')`)
	if err != nil {
		return nil, nil, err
	}
	tables := map[int64]string{}
	for rows.Next() {
		var oid int64
		var name string
		if err := rows.Scan(&oid, &name); err != nil {
			rows.Close()
			return nil, nil, err
		}
		tables[oid] = name
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}

	for oid, name := range tables {
		td := &tableDesc{columns: map[string]string{}}
		desc[name] = td

		rows, err := pool.Query(ctx, `SELECT a.attname::text, format_type(a.atttypid, a.atttypmod),
				a.attnotnull, coalesce(co.collname::text, '')
			FROM pg_attribute a LEFT JOIN pg_collation co ON co.oid = a.attcollation
			WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped`, oid)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var col, typ, coll string
			var notNull bool
			if err := rows.Scan(&col, &typ, &notNull, &coll); err != nil {
				rows.Close()
				return nil, nil, err
			}
			class := map[string]string{"bigint": "integer", "integer": "integer", "smallint": "integer",
				"text": "text", "boolean": "boolean", "bytea": "blob"}[typ]
			if class == "" {
				class = "postgres " + typ
			}
			if class == "text" {
				collations[name+"."+col] = coll
			}
			if notNull {
				class += " NOT NULL"
			}
			td.columns[col] = class
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}

		err = pool.QueryRow(ctx, `SELECT coalesce(string_agg(a.attname::text, ', ' ORDER BY k.i), '')
			FROM pg_constraint c, unnest(c.conkey) WITH ORDINALITY AS k (n, i), pg_attribute a
			WHERE c.conrelid = $1 AND c.contype = 'p' AND a.attrelid = c.conrelid AND a.attnum = k.n`, oid).Scan(&td.pk)
		if err != nil {
			return nil, nil, err
		}

		rows, err = pool.Query(ctx, `SELECT i.indisunique,
				array(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k),
				coalesce(pg_get_expr(i.indpred, i.indrelid, true), '')
			FROM pg_index i WHERE i.indrelid = $1 AND NOT i.indisprimary`, oid)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var unique bool
			var keys []string
			var pred string
			if err := rows.Scan(&unique, &keys, &pred); err != nil {
				rows.Close()
				return nil, nil, err
			}
			for i, k := range keys {
				keys[i] = normExpr(k)
			}
			td.indexes = append(td.indexes, indexForm(unique, keys, pred))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
		slices.Sort(td.indexes)

		rows, err = pool.Query(ctx, `SELECT rc.relname::text,
				array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k (n, i)
					JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
				array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k (n, i)
					JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i),
				c.confdeltype::text
			FROM pg_constraint c JOIN pg_class rc ON rc.oid = c.confrelid
			WHERE c.conrelid = $1 AND c.contype = 'f'`, oid)
		if err != nil {
			return nil, nil, err
		}
		actions := map[string]string{"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
		for rows.Next() {
			var ref, action string
			var from, to []string
			if err := rows.Scan(&ref, &from, &to, &action); err != nil {
				rows.Close()
				return nil, nil, err
			}
			td.fks = append(td.fks, fkForm(from, ref, to, actions[action]))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
		slices.Sort(td.fks)
	}
	return desc, collations, nil
}

// queryPairs returns the two-column rows of query as a map.
func queryPairs(ctx context.Context, db *sql.DB, query string) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return nil, err
		}
		m[k] = v
	}
	return m, closeRows(rows)
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	rows.Close()
	return err
}

// TestNormExpr pins the normal forms the comparison relies on.
func TestNormExpr(t *testing.T) {
	for in, want := range map[string]string{
		`COALESCE(due_at, '9223372036854775807'::bigint)`: `coalesce(due_at,9223372036854775807)`,
		`coalesce(due_at, 9223372036854775807)`:           `coalesce(due_at,9223372036854775807)`,
		`COALESCE(expected_close, '9999-12-31'::text)`:    `coalesce(expected_close,'9999-12-31')`,
		`(deleted_at IS NULL)`:                            `deleted_at is null`,
		"deleted_at  IS\n\tNULL":                          `deleted_at is null`,
		`"position"`:                                      `position`,
		`(a = 1) OR (b = 2)`:                              `(a = 1)or(b = 2)`,
	} {
		if got := normExpr(in); got != want {
			t.Errorf("normExpr(%q) = %q, want %q", in, got, want)
		}
	}
	keys, pred, err := parseCreateIndex(`CREATE INDEX x ON t (coalesce(a, '(,)'), id) WHERE deleted_at IS NULL`)
	if err != nil || !slices.Equal(keys, []string{`coalesce(a,'(,)')`, "id"}) || normExpr(pred) != "deleted_at is null" {
		t.Errorf("parseCreateIndex = %q, %q, %v", keys, pred, err)
	}
}

// TestSchemaDiffFindsDifferences checks the comparison itself: it changes
// a migrated PostgreSQL schema in each of the ways the comparison covers
// and expects each change reported.
func TestSchemaDiffFindsDifferences(t *testing.T) {
	pg := postgrestest.New(t)
	pool := postgres.Writer(pg)
	for _, stmt := range []string{
		`DROP INDEX tasks_due`,
		`CREATE UNIQUE INDEX sessions_ip ON sessions (ip)`,
		`ALTER TABLE contacts ALTER COLUMN notes DROP NOT NULL`,
		`ALTER TABLE consents ALTER COLUMN granted TYPE BIGINT USING granted::int`,
		`ALTER TABLE users ADD COLUMN extra TEXT COLLATE "POSIX"`,
		`ALTER TABLE deals DROP CONSTRAINT deals_contact_id_fkey,
			ADD FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE`,
		`ALTER TABLE settings DROP CONSTRAINT settings_pkey`,
		`CREATE TABLE extra (id BIGINT)`,
	} {
		if _, err := pool.Exec(t.Context(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	lite, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	if err := lite.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", filepath.Join(filepath.Dir(lite.Path()), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	liteDesc, err := describeSQLite(t.Context(), raw)
	if err != nil {
		t.Fatal(err)
	}
	pgDesc, collations, err := describePostgres(t.Context(), pool)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(diffSchemas(liteDesc, pgDesc), "\n")
	for _, want := range []string{
		"table tasks: index (coalesce(due_at,9223372036854775807), id) WHERE deleted_at is null only in SQLite",
		"table sessions: index UNIQUE (ip) only in PostgreSQL",
		"table contacts: column notes is text NOT NULL in SQLite, text in PostgreSQL",
		"table consents: column granted is boolean NOT NULL in SQLite, integer NOT NULL in PostgreSQL",
		"table users: column extra (text) only in PostgreSQL",
		"table deals: foreign key (contact_id) REFERENCES contacts (id) ON DELETE SET NULL only in SQLite",
		"table deals: foreign key (contact_id) REFERENCES contacts (id) ON DELETE CASCADE only in PostgreSQL",
		"table settings: primary key (key) in SQLite, () in PostgreSQL",
		"table extra: only in PostgreSQL",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("differences lack %q; they are:\n%s", want, got)
		}
	}
	if c := collations["users.extra"]; c != "POSIX" {
		t.Errorf("collation of users.extra = %q, want POSIX", c)
	}
}
