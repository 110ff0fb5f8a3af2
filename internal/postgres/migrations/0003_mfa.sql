-- Multi-factor authentication, step-up and throttling (AUTH-2, AUTH-4,
-- AUTH-5, AUTH-6). The same schema as the sqlite package's 0002_mfa.sql.

-- A session reaches AAL2 with a second factor; until then, when the user
-- needs one, it is half-authenticated (mfa_pending). stepped_up_at is its
-- last re-authentication, for actions that need a recent one.
ALTER TABLE sessions ADD COLUMN aal BIGINT NOT NULL DEFAULT 1 CHECK (aal IN (1, 2));
ALTER TABLE sessions ADD COLUMN mfa_pending BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE sessions ADD COLUMN stepped_up_at BIGINT;

-- When the throttle locked the account, for administrators to see and lift.
ALTER TABLE users ADD COLUMN locked_until BIGINT;

-- One TOTP authenticator per user, pending until confirmed_at. last_step is
-- the last accepted RFC 6238 time step: a code of a step at or before it is
-- a replay. The secret is stored as it is until field encryption (ENC-2)
-- wraps it.
CREATE TABLE totp (
	user_id      BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	secret       TEXT   COLLATE "C" NOT NULL CHECK (secret <> ''),
	created_at   BIGINT NOT NULL,
	confirmed_at BIGINT,
	last_step    BIGINT NOT NULL DEFAULT 0
);

-- Recovery codes, as SHA-256 hashes bound to their user; used once.
CREATE TABLE recovery_codes (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	code_hash  BYTEA  NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	used_at    BIGINT
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id, id);

-- The current run of failed attempts per account ("user:<id>", or
-- "email:<address>" for unknown ones) and per client address.
CREATE TABLE auth_failures (
	kind     TEXT   COLLATE "C" NOT NULL CHECK (kind IN ('account', 'ip')),
	name     TEXT   COLLATE "C" NOT NULL,
	failures BIGINT NOT NULL DEFAULT 0 CHECK (failures >= 0),
	last_at  BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (kind, name)
);
CREATE INDEX auth_failures_last ON auth_failures (last_at);
