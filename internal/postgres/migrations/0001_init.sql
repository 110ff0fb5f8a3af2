-- 0001_init: the first schema of Custos, in PostgreSQL.
--
-- It is the sqlite package's 0001_init.sql table for table: the same
-- columns, keys, constraints and indexes (equivalence_test.go compares the
-- two), so that the Go code converts values the same way and a cursor key
-- means the same on both. Conventions, beyond SQLite's:
--   * timestamps are BIGINT unix microseconds (UTC), as SQLite stores them;
--     every integer is BIGINT, SQLite's 64-bit INTEGER;
--   * ids are identities GENERATED ALWAYS: a sequence never hands out a
--     number twice, so the id of a purged record never names a new one, and
--     nobody sets an id by hand;
--   * flags are BOOLEAN where SQLite has INTEGER CHECK (x IN (0, 1));
--   * every text column is COLLATE "C", SQLite's BINARY: text compares and
--     sorts by code point (UTF-8 byte order) whatever the database's locale,
--     which the sort order of lists and the prefix searches (ranges on the
--     *_lc columns) rely on; lower() then folds ASCII only, as SQLite's.
-- Functions pin their search_path to the schema they were created in.

CREATE TABLE users (
	id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email         TEXT    COLLATE "C" NOT NULL UNIQUE CHECK (email <> '' AND email = lower(email)),
	name          TEXT    COLLATE "C" NOT NULL DEFAULT '',
	role          TEXT    COLLATE "C" NOT NULL
		CHECK (role IN ('admin', 'manager', 'sales', 'support', 'auditor', 'readonly')),
	language      TEXT    COLLATE "C" NOT NULL DEFAULT '',
	disabled      BOOLEAN NOT NULL DEFAULT false,
	password_hash TEXT    COLLATE "C" NOT NULL DEFAULT '',
	created_at    BIGINT  NOT NULL,
	updated_at    BIGINT  NOT NULL,
	last_login_at BIGINT
);

CREATE TABLE sessions (
	id           TEXT   COLLATE "C" PRIMARY KEY,
	secret_hash  BYTEA  NOT NULL UNIQUE,
	csrf_token   TEXT   COLLATE "C" NOT NULL,
	user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	ip           TEXT   COLLATE "C" NOT NULL DEFAULT '',
	user_agent   TEXT   COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id, last_seen_at);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE tokens (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         TEXT   COLLATE "C" NOT NULL DEFAULT '',
	scope        TEXT   COLLATE "C" NOT NULL CHECK (scope IN ('read', 'write')),
	prefix       TEXT   COLLATE "C" NOT NULL DEFAULT '',
	secret_hash  BYTEA  NOT NULL UNIQUE,
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	last_used_at BIGINT,
	revoked_at   BIGINT
);
CREATE INDEX tokens_user ON tokens (user_id, id);

CREATE TABLE settings (
	key   TEXT COLLATE "C" PRIMARY KEY,
	value TEXT COLLATE "C" NOT NULL
);

-- tags mirrors the JSON tags column of contacts, companies and deals, one
-- row per tag, for the tag filter. Triggers below drop the rows of purged
-- records.
CREATE TABLE tags (
	entity    TEXT   COLLATE "C" NOT NULL CHECK (entity IN ('contact', 'company', 'deal')),
	record_id BIGINT NOT NULL,
	tag       TEXT   COLLATE "C" NOT NULL,
	PRIMARY KEY (entity, record_id, tag)
);
CREATE INDEX tags_tag ON tags (entity, tag, record_id);

CREATE TABLE companies (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       TEXT   COLLATE "C" NOT NULL,
	name_lc    TEXT   COLLATE "C" NOT NULL,
	domain     TEXT   COLLATE "C" NOT NULL DEFAULT '',
	domain_lc  TEXT   COLLATE "C" NOT NULL DEFAULT '',
	industry   TEXT   COLLATE "C" NOT NULL DEFAULT '',
	phone      TEXT   COLLATE "C" NOT NULL DEFAULT '',
	address    TEXT   COLLATE "C" NOT NULL DEFAULT '',
	notes      TEXT   COLLATE "C" NOT NULL DEFAULT '',
	tags       TEXT   COLLATE "C" NOT NULL DEFAULT '[]',
	owner_id   BIGINT NOT NULL REFERENCES users (id),
	version    BIGINT NOT NULL CHECK (version > 0),
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	deleted_at BIGINT
);
CREATE INDEX companies_name ON companies (name_lc, id);
CREATE INDEX companies_created ON companies (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX companies_updated ON companies (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX companies_owner ON companies (owner_id, name_lc, id);
CREATE INDEX companies_domain ON companies (domain_lc);
CREATE INDEX companies_deleted ON companies (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE contacts (
	id             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	first_name     TEXT    COLLATE "C" NOT NULL DEFAULT '',
	last_name      TEXT    COLLATE "C" NOT NULL DEFAULT '',
	first_name_lc  TEXT    COLLATE "C" NOT NULL DEFAULT '',
	last_name_lc   TEXT    COLLATE "C" NOT NULL DEFAULT '',
	email          TEXT    COLLATE "C" NOT NULL DEFAULT '',
	phone          TEXT    COLLATE "C" NOT NULL DEFAULT '',
	company_id     BIGINT  REFERENCES companies (id) ON DELETE SET NULL,
	title          TEXT    COLLATE "C" NOT NULL DEFAULT '',
	address        TEXT    COLLATE "C" NOT NULL DEFAULT '',
	birthday       TEXT    COLLATE "C" NOT NULL DEFAULT '',
	notes          TEXT    COLLATE "C" NOT NULL DEFAULT '',
	tags           TEXT    COLLATE "C" NOT NULL DEFAULT '[]',
	pref_channel   TEXT    COLLATE "C" NOT NULL DEFAULT ''
		CHECK (pref_channel IN ('', 'email', 'phone', 'sms', 'messenger', 'mail', 'none')),
	pref_language  TEXT    COLLATE "C" NOT NULL DEFAULT '',
	do_not_contact BOOLEAN NOT NULL DEFAULT false,
	owner_id       BIGINT  NOT NULL REFERENCES users (id),
	version        BIGINT  NOT NULL CHECK (version > 0),
	created_at     BIGINT  NOT NULL,
	updated_at     BIGINT  NOT NULL,
	deleted_at     BIGINT
);
CREATE INDEX contacts_last_name ON contacts (last_name_lc, id);
CREATE INDEX contacts_first_name ON contacts (first_name_lc, id);
CREATE INDEX contacts_email ON contacts (email, id);
CREATE INDEX contacts_created ON contacts (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_updated ON contacts (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_owner ON contacts (owner_id, last_name_lc, id);
CREATE INDEX contacts_phone ON contacts (phone);
CREATE INDEX contacts_company ON contacts (company_id);
CREATE INDEX contacts_deleted ON contacts (deleted_at) WHERE deleted_at IS NOT NULL;

-- consents are append-only: no update ever, and a delete only through the
-- purge of their contact (ON DELETE CASCADE runs after the contact is gone).
-- TRUNCATE, which fires no row triggers, is refused too. Table owners and
-- superusers can still drop the triggers: this guards against the
-- application's mistakes, not against its database administrator.
CREATE TABLE consents (
	id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	contact_id  BIGINT  NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
	purpose     TEXT    COLLATE "C" NOT NULL CHECK (purpose <> ''),
	granted     BOOLEAN NOT NULL,
	source      TEXT    COLLATE "C" NOT NULL DEFAULT '',
	recorded_by BIGINT  NOT NULL REFERENCES users (id),
	recorded_at BIGINT  NOT NULL
);
CREATE INDEX consents_contact ON consents (contact_id, recorded_at, id);

CREATE FUNCTION consents_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM contacts WHERE id = OLD.contact_id) THEN
		RETURN OLD;
	END IF;
	RAISE EXCEPTION 'consents are append-only' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER consents_no_update BEFORE UPDATE ON consents
	FOR EACH ROW EXECUTE FUNCTION consents_append_only();
CREATE TRIGGER consents_no_delete BEFORE DELETE ON consents
	FOR EACH ROW EXECUTE FUNCTION consents_append_only();
CREATE TRIGGER consents_no_truncate BEFORE TRUNCATE ON consents
	FOR EACH STATEMENT EXECUTE FUNCTION consents_append_only();

CREATE TABLE pipelines (
	id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name TEXT   COLLATE "C" NOT NULL UNIQUE CHECK (name <> '')
);

CREATE TABLE stages (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	pipeline_id BIGINT NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
	name        TEXT   COLLATE "C" NOT NULL CHECK (name <> ''),
	position    BIGINT NOT NULL,
	probability BIGINT NOT NULL CHECK (probability BETWEEN 0 AND 100),
	kind        TEXT   COLLATE "C" NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
	UNIQUE (pipeline_id, id)
);
CREATE INDEX stages_position ON stages (pipeline_id, position, id);

-- A deal's stage must belong to the deal's pipeline: the foreign key on
-- (pipeline_id, stage_id) says so.
CREATE TABLE deals (
	id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	title          TEXT   COLLATE "C" NOT NULL,
	title_lc       TEXT   COLLATE "C" NOT NULL,
	pipeline_id    BIGINT NOT NULL REFERENCES pipelines (id),
	stage_id       BIGINT NOT NULL,
	amount_minor   BIGINT NOT NULL DEFAULT 0,
	currency       TEXT   COLLATE "C" NOT NULL CHECK (length(currency) = 3),
	expected_close TEXT   COLLATE "C",
	contact_id     BIGINT REFERENCES contacts (id) ON DELETE SET NULL,
	company_id     BIGINT REFERENCES companies (id) ON DELETE SET NULL,
	notes          TEXT   COLLATE "C" NOT NULL DEFAULT '',
	tags           TEXT   COLLATE "C" NOT NULL DEFAULT '[]',
	owner_id       BIGINT NOT NULL REFERENCES users (id),
	version        BIGINT NOT NULL CHECK (version > 0),
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL,
	deleted_at     BIGINT,
	FOREIGN KEY (pipeline_id, stage_id) REFERENCES stages (pipeline_id, id)
);
CREATE INDEX deals_created ON deals (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX deals_title ON deals (title_lc, id) WHERE deleted_at IS NULL;
CREATE INDEX deals_expected_close ON deals (coalesce(expected_close, '9999-12-31'), id) WHERE deleted_at IS NULL;
CREATE INDEX deals_amount ON deals (amount_minor, id) WHERE deleted_at IS NULL;
CREATE INDEX deals_updated ON deals (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX deals_owner ON deals (owner_id, created_at, id);
CREATE INDEX deals_stage ON deals (pipeline_id, stage_id);
CREATE INDEX deals_contact ON deals (contact_id);
CREATE INDEX deals_company ON deals (company_id);
CREATE INDEX deals_deleted ON deals (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE activities (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	type         TEXT   COLLATE "C" NOT NULL CHECK (type IN ('call', 'meeting', 'email', 'note')),
	subject      TEXT   COLLATE "C" NOT NULL DEFAULT '',
	subject_lc   TEXT   COLLATE "C" NOT NULL DEFAULT '',
	body         TEXT   COLLATE "C" NOT NULL DEFAULT '',
	occurred_at  BIGINT NOT NULL,
	duration_min BIGINT NOT NULL DEFAULT 0 CHECK (duration_min >= 0),
	contact_id   BIGINT REFERENCES contacts (id) ON DELETE SET NULL,
	company_id   BIGINT REFERENCES companies (id) ON DELETE SET NULL,
	deal_id      BIGINT REFERENCES deals (id) ON DELETE SET NULL,
	owner_id     BIGINT NOT NULL REFERENCES users (id),
	version      BIGINT NOT NULL CHECK (version > 0),
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL,
	deleted_at   BIGINT
);
CREATE INDEX activities_occurred ON activities (occurred_at, id) WHERE deleted_at IS NULL;
CREATE INDEX activities_created ON activities (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX activities_updated ON activities (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX activities_owner ON activities (owner_id, occurred_at, id);
CREATE INDEX activities_subject ON activities (subject_lc) WHERE deleted_at IS NULL;
CREATE INDEX activities_type ON activities (type, occurred_at, id) WHERE deleted_at IS NULL;
CREATE INDEX activities_contact ON activities (contact_id, occurred_at, id);
CREATE INDEX activities_company ON activities (company_id, occurred_at, id);
CREATE INDEX activities_deal ON activities (deal_id, occurred_at, id);
CREATE INDEX activities_deleted ON activities (deleted_at) WHERE deleted_at IS NOT NULL;

-- A task without a due time sorts after every task with one: the sort key is
-- coalesce(due_at, the largest BIGINT), in the index and in every query.
CREATE TABLE tasks (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	title       TEXT   COLLATE "C" NOT NULL,
	title_lc    TEXT   COLLATE "C" NOT NULL,
	description TEXT   COLLATE "C" NOT NULL DEFAULT '',
	due_at      BIGINT,
	status      TEXT   COLLATE "C" NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
	assignee_id BIGINT REFERENCES users (id),
	contact_id  BIGINT REFERENCES contacts (id) ON DELETE SET NULL,
	company_id  BIGINT REFERENCES companies (id) ON DELETE SET NULL,
	deal_id     BIGINT REFERENCES deals (id) ON DELETE SET NULL,
	owner_id    BIGINT NOT NULL REFERENCES users (id),
	version     BIGINT NOT NULL CHECK (version > 0),
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	deleted_at  BIGINT
);
CREATE INDEX tasks_due ON tasks (coalesce(due_at, 9223372036854775807), id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_created ON tasks (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_updated ON tasks (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_title ON tasks (title_lc, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_owner ON tasks (owner_id, coalesce(due_at, 9223372036854775807), id);
CREATE INDEX tasks_assignee ON tasks (assignee_id, coalesce(due_at, 9223372036854775807), id);
CREATE INDEX tasks_status ON tasks (status, coalesce(due_at, 9223372036854775807), id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_contact ON tasks (contact_id);
CREATE INDEX tasks_company ON tasks (company_id);
CREATE INDEX tasks_deal ON tasks (deal_id);
CREATE INDEX tasks_deleted ON tasks (deleted_at) WHERE deleted_at IS NOT NULL;

-- One statement-level trigger per tagged table drops the tag rows of all
-- the records a DELETE removed, in one join.
CREATE FUNCTION purge_tags() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	DELETE FROM tags USING purged WHERE tags.entity = TG_ARGV[0] AND tags.record_id = purged.id;
	RETURN NULL;
END
$$;
CREATE TRIGGER contacts_purge_tags AFTER DELETE ON contacts
	REFERENCING OLD TABLE AS purged FOR EACH STATEMENT EXECUTE FUNCTION purge_tags('contact');
CREATE TRIGGER companies_purge_tags AFTER DELETE ON companies
	REFERENCING OLD TABLE AS purged FOR EACH STATEMENT EXECUTE FUNCTION purge_tags('company');
CREATE TRIGGER deals_purge_tags AFTER DELETE ON deals
	REFERENCING OLD TABLE AS purged FOR EACH STATEMENT EXECUTE FUNCTION purge_tags('deal');

-- The default pipeline; a new identity starts at 1, as SQLite's id 1.
INSERT INTO pipelines (name) VALUES ('Sales');
INSERT INTO stages (pipeline_id, name, position, probability, kind)
SELECT p.id, s.name, s.position, s.probability, s.kind
FROM pipelines p, (VALUES
	('Lead',        1,  10, 'open'),
	('Qualified',   2,  25, 'open'),
	('Proposal',    3,  50, 'open'),
	('Negotiation', 4,  75, 'open'),
	('Won',         5, 100, 'won'),
	('Lost',        6,   0, 'lost')
) AS s (name, position, probability, kind)
WHERE p.name = 'Sales'
ORDER BY s.position;
