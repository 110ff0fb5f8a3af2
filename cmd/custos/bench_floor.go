package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/custos-crm/custos/internal/bench"
	"github.com/custos-crm/custos/internal/config"
	"github.com/custos-crm/custos/internal/postgres"
	"github.com/custos-crm/custos/internal/sqlite"
	"github.com/custos-crm/custos/internal/tlsconf"
)

// floorTables are the tables the floor reads and writes, and the teams
// and shares its lists read; it gets its own copy of them, so that its
// writes never touch the data Custos serves.
var floorTables = []string{"contacts", "activities", "teams", "shares"}

// startFloor copies the seeded data for the floor (the SQLite file with
// VACUUM INTO, or the floor's tables into a schema of their own on
// PostgreSQL), puts the contacts' sealed names, email and phone back in
// plain text with their indexes (bench.PlainContacts), starts the floor on it with the server's certificate and TLS
// settings, and returns its URL and a function that stops it and drops the
// copy.
func startFloor(ctx context.Context, c *config.Config, d *bench.Dataset) (string, func(), error) {
	var read, write *sql.DB
	var drop func()
	if c.DB == "" {
		src := filepath.Join(c.DataDir, sqlite.FileName)
		dst := filepath.Join(c.DataDir, "floor.db")
		r, w, err := sqlite.OpenPools(ctx, src)
		if err != nil {
			return "", nil, err
		}
		_, err = w.ExecContext(ctx, "VACUUM INTO ?", dst)
		r.Close()
		w.Close()
		if err != nil {
			return "", nil, fmt.Errorf("bench: copying the database for the floor: %w", err)
		}
		if read, write, err = sqlite.OpenPools(ctx, dst); err != nil {
			return "", nil, err
		}
		drop = func() {}
	} else {
		var err error
		if read, drop, err = floorSchema(ctx, c.DB); err != nil {
			return "", nil, err
		}
		write = read
	}
	closeAll := func() {
		read.Close()
		if write != read {
			write.Close()
		}
		drop()
	}
	if err := bench.PlainContacts(ctx, write, c.DB != "", d); err != nil {
		closeAll()
		return "", nil, err
	}
	if c.DB == "" {
		// Without the samples its ANALYZE left, as the store keeps its
		// statistics: with them SQLite planned the floor's prefix search
		// along the whole last-name index (121 req/s where the same query
		// on the store of before encryption, without samples, answered
		// 2,194).
		if _, err := sqlite.DropSamples(ctx, write); err != nil {
			closeAll()
			return "", nil, fmt.Errorf("bench: floor: %w", err)
		}
	}
	callers := map[string]bench.FloorCaller{}
	for _, o := range d.Actors() {
		callers[o.Token] = bench.FloorCaller{UserID: o.UserID, TeamID: o.TeamID, Teams: o.Teams,
			ShareTeams: o.ShareTeams(), Shared: d.Shares > 0}
	}
	f, err := bench.NewFloor(ctx, read, write, c.DB != "", callers)
	if err != nil {
		closeAll()
		return "", nil, err
	}
	cert, _, err := tlsconf.Load(tlsconf.Files(c.DataDir))
	if err != nil {
		f.Close()
		closeAll()
		return "", nil, fmt.Errorf("bench: floor: %w", err)
	}
	url, stop, err := bench.ServeFloor(f.Handler(), tlsconf.Server(cert))
	if err != nil {
		f.Close()
		closeAll()
		return "", nil, err
	}
	return url, func() { stop(); f.Close(); closeAll() }, nil
}

// floorSchema copies the floor's tables of the database at dsn into a new
// schema and returns a pool whose search path is that schema, and a
// function that drops it.
func floorSchema(ctx context.Context, dsn string) (*sql.DB, func(), error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("bench: floor: %w", err)
	}
	admin := stdlib.OpenDB(*cfg)
	defer admin.Close()
	var from string
	if err := admin.QueryRowContext(ctx, "SELECT current_schema()").Scan(&from); err != nil {
		return nil, nil, fmt.Errorf("bench: floor: %w", err)
	}
	schema := "custos_floor_" + strings.ToLower(rand.Text()[:8])
	stmts := []string{"CREATE SCHEMA " + schema}
	for _, t := range floorTables {
		src, dst := pgx.Identifier{from, t}.Sanitize(), schema+"."+t
		stmts = append(stmts,
			"CREATE TABLE "+dst+" (LIKE "+src+" INCLUDING ALL)",
			"INSERT INTO "+dst+" OVERRIDING SYSTEM VALUE SELECT * FROM "+src,
			"SELECT setval(pg_get_serial_sequence('"+dst+"', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM "+dst+"), false)",
			"ANALYZE "+dst)
	}
	dropIt := func() {
		db := stdlib.OpenDB(*cfg)
		db.ExecContext(context.WithoutCancel(ctx), "DROP SCHEMA "+schema+" CASCADE")
		db.Close()
	}
	for _, s := range stmts {
		if _, err := admin.ExecContext(ctx, s); err != nil {
			dropIt()
			return nil, nil, fmt.Errorf("bench: copying the data for the floor: %w", err)
		}
	}
	fc := cfg.Copy()
	fc.RuntimeParams["search_path"] = schema
	db := stdlib.OpenDB(*fc)
	// database/sql keeps only two idle connections by default, so that 32
	// clients would open a PostgreSQL connection for most requests; keep
	// a pool of the store's size.
	n := postgres.MaxConns
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	return db, dropIt, nil
}

// benchSchema creates a fresh schema for one shape in the PostgreSQL
// database at dsn and returns the DSN that makes it the search path, and a
// function that drops it.
func benchSchema(ctx context.Context, dsn, shape string) (string, func(), error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "", nil, fmt.Errorf("bench: %w", err)
	}
	schema := "custos_bench_" + strings.ReplaceAll(shape, "-", "_") + "_" + strings.ToLower(rand.Text()[:8])
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("bench: creating a schema for the %s shape: %w", shape, err)
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "", nil, fmt.Errorf("bench: --db must be a postgres:// URL")
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() {
		db := stdlib.OpenDB(*cfg)
		db.ExecContext(context.WithoutCancel(ctx), "DROP SCHEMA "+schema+" CASCADE")
		db.Close()
	}
	return u.String(), drop, nil
}
