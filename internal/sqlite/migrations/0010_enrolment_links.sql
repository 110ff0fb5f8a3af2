-- 0010_enrolment_links: first-use enrolment (AUTH-2), as the postgres
-- package's migration of the same number. A user whose role requires a
-- second factor and who has none enrols only through a one-time enrolment
-- link (purpose 'enrol', with user_id), not with the password alone; the
-- session signed in through such a link is marked may_enrol.
ALTER TABLE sessions ADD COLUMN may_enrol INTEGER NOT NULL DEFAULT 0 CHECK (may_enrol IN (0, 1));

-- SQLite cannot change a CHECK constraint in place: the table is rebuilt.
CREATE TABLE one_time_tokens_new (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	purpose     TEXT    NOT NULL CHECK (purpose IN ('invite', 'reset', 'email', 'enrol')),
	user_id     INTEGER REFERENCES users (id) ON DELETE CASCADE,
	email       TEXT    NOT NULL DEFAULT '' CHECK (email = lower(email)),
	role        TEXT    NOT NULL DEFAULT ''
		CHECK (role IN ('', 'admin', 'manager', 'sales', 'support', 'auditor', 'readonly')),
	name        TEXT    NOT NULL DEFAULT '',
	new_email   TEXT    NOT NULL DEFAULT '' CHECK (new_email = lower(new_email)),
	created_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
	secret_hash BLOB    NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	used_at     INTEGER,
	CHECK ((purpose = 'invite') = (user_id IS NULL)),
	CHECK (purpose <> 'invite' OR (email <> '' AND role <> '')),
	CHECK (purpose <> 'email' OR new_email <> '')
);
INSERT INTO one_time_tokens_new (id, purpose, user_id, email, role, name, new_email, created_by,
	secret_hash, created_at, expires_at, used_at)
SELECT id, purpose, user_id, email, role, name, new_email, created_by,
	secret_hash, created_at, expires_at, used_at FROM one_time_tokens;
DROP TABLE one_time_tokens;
ALTER TABLE one_time_tokens_new RENAME TO one_time_tokens;
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, purpose, created_at);
CREATE INDEX one_time_tokens_email ON one_time_tokens (email, purpose);
CREATE INDEX one_time_tokens_expires ON one_time_tokens (expires_at);
CREATE INDEX one_time_tokens_created_by ON one_time_tokens (created_by);
