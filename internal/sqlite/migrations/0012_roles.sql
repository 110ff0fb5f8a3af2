-- 0012_roles: custom roles (ACL-1), as the postgres package's migration of
-- the same number.
--
-- A custom role is a named permission set: its actions (a JSON array of
-- "contacts.read", "users.manage", …) and its field policies (a JSON object
-- of "contact.phone": "masked", …). The built-in roles are defined in code
-- and are not stored. A user's role is a built-in role or a custom role's
-- name, so the CHECK constraints that listed the built-in roles go: SQLite
-- drops a column with its own CHECK, so the column is copied, dropped and
-- renamed; one_time_tokens (an invitation carries its role) is rebuilt, as
-- nothing refers to it.
CREATE TABLE roles (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	name        TEXT    NOT NULL UNIQUE CHECK (name <> ''),
	label       TEXT    NOT NULL DEFAULT '',
	permissions TEXT    NOT NULL DEFAULT '[]',
	fields      TEXT    NOT NULL DEFAULT '{}',
	mfa         INTEGER NOT NULL DEFAULT 0 CHECK (mfa IN (0, 1)),
	version     INTEGER NOT NULL CHECK (version > 0),
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);

ALTER TABLE users ADD COLUMN role_name TEXT NOT NULL DEFAULT '';
UPDATE users SET role_name = role;
ALTER TABLE users DROP COLUMN role;
ALTER TABLE users RENAME COLUMN role_name TO role;
CREATE INDEX users_role ON users (role);

CREATE TABLE one_time_tokens_new (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	purpose     TEXT    NOT NULL CHECK (purpose IN ('invite', 'reset', 'email', 'enrol')),
	user_id     INTEGER REFERENCES users (id) ON DELETE CASCADE,
	email       TEXT    NOT NULL DEFAULT '' CHECK (email = lower(email)),
	role        TEXT    NOT NULL DEFAULT '',
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
CREATE INDEX one_time_tokens_role ON one_time_tokens (role) WHERE purpose = 'invite';
