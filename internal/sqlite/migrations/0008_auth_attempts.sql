-- 0008_auth_attempts: failed sign-in attempts one row each (AUTH-6), as
-- the postgres package's migration of the same number. A counter with one
-- "last failure" time let every admitted attempt move that time to now, so
-- old typos never expired while anyone kept signing in; a row per attempt
-- expires by its own time, whatever successes come between.
CREATE TABLE auth_attempts (
	id   INTEGER PRIMARY KEY AUTOINCREMENT,
	kind TEXT    NOT NULL CHECK (kind IN ('account', 'ip')),
	name TEXT    NOT NULL,
	at   INTEGER NOT NULL
);
CREATE INDEX auth_attempts_key ON auth_attempts (kind, name, at);
CREATE INDEX auth_attempts_at ON auth_attempts (at);

-- A run counted before this migration becomes that many attempts at the
-- time of its last failure.
INSERT INTO auth_attempts (kind, name, at)
WITH RECURSIVE n(i) AS (
	SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < (SELECT max(failures) FROM auth_failures)
)
SELECT f.kind, f.name, f.last_at FROM auth_failures f JOIN n ON n.i <= f.failures;

-- auth_failures keeps one row per key: the row an admission locks, so that
-- concurrent attempts on one key are decided one after the other.
DROP INDEX auth_failures_last;
ALTER TABLE auth_failures DROP COLUMN failures;
ALTER TABLE auth_failures DROP COLUMN last_at;
