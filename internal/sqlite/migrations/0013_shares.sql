-- 0013_shares: sharing of client records (ACL-2), as the postgres
-- package's migration of the same number.
--
-- A share gives one user (user_id) or the members and managers of one team
-- (team_id) read or write access to one record of one entity, until
-- expires_at if set. A record has at most one share per grantee. The
-- grantee indexes carry the scope predicate of a read or list ("shared
-- with me or one of my teams"); shares_record lists a record's shares and
-- checks one record's; the purge job drops the shares of purged records
-- and those long expired.
CREATE TABLE shares (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	entity     TEXT    NOT NULL CHECK (entity IN ('contact', 'company', 'deal', 'activity', 'task')),
	record_id  INTEGER NOT NULL,
	user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
	team_id    INTEGER REFERENCES teams (id) ON DELETE CASCADE,
	access     TEXT    NOT NULL CHECK (access IN ('read', 'write')),
	expires_at INTEGER,
	created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
	created_at INTEGER NOT NULL,
	CHECK ((user_id IS NULL) <> (team_id IS NULL))
);
CREATE UNIQUE INDEX shares_user ON shares (user_id, entity, record_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX shares_team ON shares (team_id, entity, record_id) WHERE team_id IS NOT NULL;
CREATE INDEX shares_record ON shares (entity, record_id);
CREATE INDEX shares_expires ON shares (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX shares_created_by ON shares (created_by);
