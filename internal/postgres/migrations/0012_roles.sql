-- 0012_roles: custom roles (ACL-1), as the sqlite package's migration of
-- the same number: a table of custom roles, and the CHECK constraints that
-- listed the built-in roles go from users and one_time_tokens.
CREATE TABLE roles (
	id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name        TEXT    COLLATE "C" NOT NULL UNIQUE CHECK (name <> ''),
	label       TEXT    COLLATE "C" NOT NULL DEFAULT '',
	permissions TEXT    COLLATE "C" NOT NULL DEFAULT '[]',
	fields      TEXT    COLLATE "C" NOT NULL DEFAULT '{}',
	mfa         BOOLEAN NOT NULL DEFAULT false,
	version     BIGINT  NOT NULL CHECK (version > 0),
	created_at  BIGINT  NOT NULL,
	updated_at  BIGINT  NOT NULL
);

ALTER TABLE users DROP CONSTRAINT users_role_check;
CREATE INDEX users_role ON users (role);
ALTER TABLE one_time_tokens DROP CONSTRAINT one_time_tokens_role_check;
CREATE INDEX one_time_tokens_role ON one_time_tokens (role) WHERE purpose = 'invite';
