// Package postgrestest gives tests a private, migrated PostgreSQL store.
// It is for tests only; production code never imports it.
//
// The server is named by the environment variable CUSTOS_TEST_POSTGRES, a
// DSN such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable; tests
// that need it skip when it is unset. Each call creates a schema of its own
// with a random name, points the store's search_path at it and drops it
// when the test ends, so tests that run at once, in one process or in
// several, never see each other's rows.
package postgrestest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/postgres"

	"github.com/jackc/pgx/v5"
)

// EnvDSN is the environment variable that names the test server.
const EnvDSN = "CUSTOS_TEST_POSTGRES"

// New returns a store on a fresh schema, migrated, closed and dropped when
// the test ends. It skips the test when EnvDSN is unset.
func New(t testing.TB) *postgres.DB {
	t.Helper()
	dsn, _ := Schema(t)
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

// Schema creates an empty schema with a random name, dropped (with all in
// it) when the test ends, and returns a DSN whose connections use it (as
// their search_path, and as their application_name, by which a test can
// find its own connections in pg_stat_activity) and its name. It skips the
// test when EnvDSN is unset.
func Schema(t testing.TB) (dsn, schema string) {
	t.Helper()
	base := BaseDSN(t)
	b := make([]byte, 8)
	rand.Read(b)
	schema = "custos_test_" + hex.EncodeToString(b)

	admin(t, base, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	t.Cleanup(func() { admin(t, base, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE") })
	return withParams(base, map[string]string{"search_path": schema, "application_name": schema}), schema
}

// BaseDSN returns the DSN in EnvDSN, skipping the test when it is unset.
func BaseDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		t.Skip(EnvDSN + " is not set; set it to a PostgreSQL DSN to run the PostgreSQL tests, " +
			"e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return dsn
}

// admin runs one statement on its own connection. It does not use the
// test's context, which is cancelled before the cleanups run.
func admin(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("postgrestest: connect to %s: %v", EnvDSN, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("postgrestest: %s: %v", sql, err)
	}
}

// withParams adds run-time parameters to a DSN in either of its forms; pgx
// sends the parameters it does not know itself to the server as settings.
func withParams(dsn string, params map[string]string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			q := u.Query()
			for k, v := range params {
				q.Set(k, v)
			}
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	for k, v := range params {
		dsn += " " + k + "=" + v // the values are plain identifiers
	}
	return dsn
}
