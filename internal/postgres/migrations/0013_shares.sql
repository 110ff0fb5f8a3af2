-- 0013_shares: sharing of client records (ACL-2), as the sqlite package's
-- migration of the same number (which explains it).
CREATE TABLE shares (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	entity     TEXT   COLLATE "C" NOT NULL CHECK (entity IN ('contact', 'company', 'deal', 'activity', 'task')),
	record_id  BIGINT NOT NULL,
	user_id    BIGINT REFERENCES users (id) ON DELETE CASCADE,
	team_id    BIGINT REFERENCES teams (id) ON DELETE CASCADE,
	access     TEXT   COLLATE "C" NOT NULL CHECK (access IN ('read', 'write')),
	expires_at BIGINT,
	created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
	created_at BIGINT NOT NULL,
	CHECK ((user_id IS NULL) <> (team_id IS NULL))
);
CREATE UNIQUE INDEX shares_user ON shares (user_id, entity, record_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX shares_team ON shares (team_id, entity, record_id) WHERE team_id IS NOT NULL;
CREATE INDEX shares_record ON shares (entity, record_id);
CREATE INDEX shares_expires ON shares (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX shares_created_by ON shares (created_by);
