-- Multi-factor authentication, step-up and throttling (AUTH-2, AUTH-4,
-- AUTH-5, AUTH-6). The same schema as the postgres package's 0002_mfa.sql.

-- A session reaches AAL2 with a second factor; until then, when the user
-- needs one, it is half-authenticated (mfa_pending). stepped_up_at is its
-- last re-authentication, for actions that need a recent one.
ALTER TABLE sessions ADD COLUMN aal INTEGER NOT NULL DEFAULT 1 CHECK (aal IN (1, 2));
ALTER TABLE sessions ADD COLUMN mfa_pending INTEGER NOT NULL DEFAULT 0 CHECK (mfa_pending IN (0, 1));
ALTER TABLE sessions ADD COLUMN stepped_up_at INTEGER;

-- When the throttle locked the account, for administrators to see and lift.
ALTER TABLE users ADD COLUMN locked_until INTEGER;

-- One TOTP authenticator per user, pending until confirmed_at. last_step is
-- the last accepted RFC 6238 time step: a code of a step at or before it is
-- a replay. The secret is stored as it is until field encryption (ENC-2)
-- wraps it.
CREATE TABLE totp (
	user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	secret       TEXT    NOT NULL CHECK (secret <> ''),
	created_at   INTEGER NOT NULL,
	confirmed_at INTEGER,
	last_step    INTEGER NOT NULL DEFAULT 0
);

-- Recovery codes, as SHA-256 hashes bound to their user; used once.
CREATE TABLE recovery_codes (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	code_hash  BLOB    NOT NULL UNIQUE,
	created_at INTEGER NOT NULL,
	used_at    INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id, id);

-- The current run of failed attempts per account ("user:<id>", or
-- "email:<address>" for unknown ones) and per client address.
CREATE TABLE auth_failures (
	kind     TEXT    NOT NULL CHECK (kind IN ('account', 'ip')),
	name     TEXT    NOT NULL,
	failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
	last_at  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (kind, name)
) WITHOUT ROWID;
CREATE INDEX auth_failures_last ON auth_failures (last_at);
