package postgres_test

import (
	"context"
	"testing"

	"github.com/custos-crm/custos/internal/postgres"
	"github.com/custos-crm/custos/internal/postgres/postgrestest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// BenchmarkDriver measures the choice issue 10 item 1 asked to make by
// measurement: the store's statements run over pgx's own interface (the
// small query interface sqlstore.Conn, which pgx satisfies as it is), or
// over database/sql through pgx's adapter (stdlib), as the SQLite driver
// must. The same pool, the same statements: a contact by id under its
// owner (the get scenario's read) and an owner's page of 50 (the list's),
// in parallel, as the server issues them. The store runs lists as unnamed
// statements, planned for their values (conn.go); list/pgx-unnamed is that,
// list/pgx-prepared the same driver with a cached statement, which is what
// database/sql does. docs/performance.md has the numbers.
func BenchmarkDriver(b *testing.B) {
	ctx := context.Background()
	dsn, _ := postgrestest.Schema(b) // skips without a server
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	for _, q := range []string{
		`INSERT INTO users (email, role, created_at, updated_at) VALUES ('owner@example.com', 'sales', 0, 0)`,
		`INSERT INTO contacts (first_name, last_name, first_name_lc, last_name_lc, email, phone, title, tags, owner_id, version, created_at, updated_at)
		 SELECT 'Наталья', 'Соловьёва' || i, 'наталья', 'соловьёва' || i, 'n' || i || '@mail.example', '+442079460123',
		        'Главный бухгалтер', '["customer","vip"]', (SELECT id FROM users LIMIT 1), 1, i, i
		 FROM generate_series(1, 2000) AS i`,
		`ANALYZE contacts`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	var owner int64
	if err := pool.QueryRow(ctx, `SELECT id FROM users LIMIT 1`).Scan(&owner); err != nil {
		b.Fatal(err)
	}
	std := stdlib.OpenDBFromPool(pool)
	b.Cleanup(func() { std.Close() })

	const byID = `SELECT id, first_name, last_name, email, phone, company_id, title, tags, owner_id, version, created_at, updated_at
		FROM contacts WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL`
	const page = `SELECT id, first_name, last_name, email, phone, company_id, title, tags, owner_id, version, created_at, updated_at
		FROM contacts WHERE owner_id = $1 AND deleted_at IS NULL AND (last_name_lc, id) > ($2, $3) ORDER BY last_name_lc, id LIMIT 50`
	type row struct {
		id, owner, version, created, updated int64
		company                              *int64
		first, last, email, phone, title, tg string
	}
	scan := func(s interface{ Scan(...any) error }, r *row) error {
		return s.Scan(&r.id, &r.first, &r.last, &r.email, &r.phone, &r.company, &r.title, &r.tg, &r.owner, &r.version, &r.created, &r.updated)
	}
	get := func(queryRow func(id int64) interface{ Scan(...any) error }) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var r row
				id := int64(1)
				for pb.Next() {
					if err := scan(queryRow(id%2000+1), &r); err != nil {
						b.Error(err)
						return
					}
					id += 7
				}
			})
		}
	}
	b.Run("get/pgx", get(func(id int64) interface{ Scan(...any) error } { return pool.QueryRow(ctx, byID, id, owner) }))
	b.Run("get/database-sql", get(func(id int64) interface{ Scan(...any) error } { return std.QueryRowContext(ctx, byID, id, owner) }))
	pgxList := func(args ...any) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var r row
				for pb.Next() {
					rows, err := pool.Query(ctx, page, args...)
					if err != nil {
						b.Error(err)
						return
					}
					n := 0
					for rows.Next() {
						if err := scan(rows, &r); err != nil {
							b.Error(err)
						}
						n++
					}
					if rows.Close(); rows.Err() != nil || n != 50 {
						b.Errorf("%d rows, %v", n, rows.Err())
						return
					}
				}
			})
		}
	}
	b.Run("list/pgx-unnamed", pgxList(pgx.QueryExecModeCacheDescribe, owner, "соловьёва1", 0))
	b.Run("list/pgx-prepared", pgxList(owner, "соловьёва1", 0))
	b.Run("list/database-sql", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var r row
			for pb.Next() {
				rows, err := std.QueryContext(ctx, page, owner, "соловьёва1", 0)
				if err != nil {
					b.Error(err)
					return
				}
				n := 0
				for rows.Next() {
					if err := scan(rows, &r); err != nil {
						b.Error(err)
					}
					n++
				}
				if err := rows.Close(); err != nil || rows.Err() != nil || n != 50 {
					b.Errorf("%d rows, %v", n, rows.Err())
					return
				}
			}
		})
	})
}
