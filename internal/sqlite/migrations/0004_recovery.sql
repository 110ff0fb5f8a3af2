-- 0004_recovery: one-time tokens for invitations, password resets and
-- email-change confirmations (AUTH-8). Only the SHA-256 of a token's secret
-- is stored. A token is used by one conditional UPDATE that sets used_at,
-- so it works once; expired and used rows are deleted by housekeeping.
--   invite: email, role and name of the invited person; no user yet.
--   reset:  user_id of the account.
--   email:  user_id and the requested new_email.

CREATE TABLE one_time_tokens (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	purpose     TEXT    NOT NULL CHECK (purpose IN ('invite', 'reset', 'email')),
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
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, purpose, created_at);
CREATE INDEX one_time_tokens_email ON one_time_tokens (email, purpose);
CREATE INDEX one_time_tokens_expires ON one_time_tokens (expires_at);
CREATE INDEX one_time_tokens_created_by ON one_time_tokens (created_by);
