-- 0005_webauthn: passkeys and security keys (AUTH-3), as the sqlite
-- package's migration of the same number.
--
-- A user has any number of named credentials. user_handle is the random
-- WebAuthn user handle the credential was created for (never the user id:
-- WebAuthn §14.6.1); public_key is the COSE key; flags holds the backup
-- eligibility and state and the user-verified bit of the registration.
-- sign_count only grows; an assertion whose counter does not sets
-- flagged_at (a possibly cloned authenticator), and a flagged credential
-- signs in no more.
CREATE TABLE webauthn_credentials (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	credential_id BYTEA  NOT NULL UNIQUE CHECK (length(credential_id) BETWEEN 1 AND 1023),
	user_handle   BYTEA  NOT NULL CHECK (length(user_handle) BETWEEN 1 AND 64),
	public_key    BYTEA  NOT NULL,
	sign_count    BIGINT NOT NULL DEFAULT 0 CHECK (sign_count >= 0),
	aaguid        BYTEA,
	transports    TEXT   COLLATE "C" NOT NULL DEFAULT '',
	flags         BIGINT NOT NULL DEFAULT 0,
	name          TEXT   COLLATE "C" NOT NULL CHECK (name <> ''),
	created_at    BIGINT NOT NULL,
	last_used_at  BIGINT,
	flagged_at    BIGINT
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id, id);

-- Pending ceremonies: the challenge and what the relying party expects,
-- kept on the server between the two steps, short-lived and taken (deleted)
-- by the step that finishes them, so a challenge is answered at most once.
-- A ceremony of a signed-in or half-signed-in user is bound to its session
-- (id 'register:'/'verify:' and the session id); a passwordless login, which
-- has no session yet, to the SHA-256 of a random id in a cookie.
CREATE TABLE webauthn_ceremonies (
	id         TEXT   COLLATE "C" PRIMARY KEY,
	kind       TEXT   COLLATE "C" NOT NULL CHECK (kind IN ('register', 'verify', 'login')),
	user_id    BIGINT REFERENCES users (id) ON DELETE CASCADE,
	session_id TEXT   COLLATE "C" NOT NULL DEFAULT '',
	state      BYTEA  NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires ON webauthn_ceremonies (expires_at);
CREATE INDEX webauthn_ceremonies_user ON webauthn_ceremonies (user_id);
