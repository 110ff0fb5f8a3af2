-- 0001_init: the first schema of Custos.
--
-- Conventions: timestamps are INTEGER unix microseconds (UTC); text that is
-- searched or sorted case-insensitively has a *_lc copy made by the Go code
-- (strings.ToLower, so Cyrillic works); client records carry owner_id,
-- version, created_at, updated_at and deleted_at (NULL unless soft-deleted),
-- and their tags both as a JSON array (read without a join) and as rows of
-- the tags table (filtered through an index). Indexes on sort columns are
-- partial (deleted_at IS NULL) and end in id, the tie-breaker of every sort.
-- Ids are AUTOINCREMENT so that the id of a purged record is never given to
-- a new one: audit entries and old links must not come to name another
-- client.

CREATE TABLE users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	email         TEXT    NOT NULL UNIQUE CHECK (email <> '' AND email = lower(email)),
	name          TEXT    NOT NULL DEFAULT '',
	role          TEXT    NOT NULL CHECK (role IN ('admin', 'manager', 'sales', 'support', 'auditor', 'readonly')),
	language      TEXT    NOT NULL DEFAULT '',
	disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	password_hash TEXT    NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	last_login_at INTEGER
);

CREATE TABLE sessions (
	id           TEXT    PRIMARY KEY,
	secret_hash  BLOB    NOT NULL UNIQUE,
	csrf_token   TEXT    NOT NULL,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	ip           TEXT    NOT NULL DEFAULT '',
	user_agent   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id, last_seen_at);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE tokens (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         TEXT    NOT NULL DEFAULT '',
	scope        TEXT    NOT NULL CHECK (scope IN ('read', 'write')),
	prefix       TEXT    NOT NULL DEFAULT '',
	secret_hash  BLOB    NOT NULL UNIQUE,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	last_used_at INTEGER,
	revoked_at   INTEGER
);
CREATE INDEX tokens_user ON tokens (user_id, id);

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

-- tags mirrors the JSON tags column of contacts, companies and deals, one
-- row per tag, for the tag filter. Triggers below drop the rows of purged
-- records.
CREATE TABLE tags (
	entity    TEXT    NOT NULL CHECK (entity IN ('contact', 'company', 'deal')),
	record_id INTEGER NOT NULL,
	tag       TEXT    NOT NULL,
	PRIMARY KEY (entity, record_id, tag)
) WITHOUT ROWID;
CREATE INDEX tags_tag ON tags (entity, tag, record_id);

CREATE TABLE companies (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT    NOT NULL,
	name_lc    TEXT    NOT NULL,
	domain     TEXT    NOT NULL DEFAULT '',
	domain_lc  TEXT    NOT NULL DEFAULT '',
	industry   TEXT    NOT NULL DEFAULT '',
	phone      TEXT    NOT NULL DEFAULT '',
	address    TEXT    NOT NULL DEFAULT '',
	notes      TEXT    NOT NULL DEFAULT '',
	tags       TEXT    NOT NULL DEFAULT '[]',
	owner_id   INTEGER NOT NULL REFERENCES users (id),
	version    INTEGER NOT NULL CHECK (version > 0),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	deleted_at INTEGER
);
CREATE INDEX companies_name ON companies (name_lc, id);
CREATE INDEX companies_created ON companies (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX companies_updated ON companies (updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX companies_owner ON companies (owner_id, name_lc, id);
CREATE INDEX companies_domain ON companies (domain_lc);
CREATE INDEX companies_deleted ON companies (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE contacts (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	first_name     TEXT    NOT NULL DEFAULT '',
	last_name      TEXT    NOT NULL DEFAULT '',
	first_name_lc  TEXT    NOT NULL DEFAULT '',
	last_name_lc   TEXT    NOT NULL DEFAULT '',
	email          TEXT    NOT NULL DEFAULT '',
	phone          TEXT    NOT NULL DEFAULT '',
	company_id     INTEGER REFERENCES companies (id) ON DELETE SET NULL,
	title          TEXT    NOT NULL DEFAULT '',
	address        TEXT    NOT NULL DEFAULT '',
	birthday       TEXT    NOT NULL DEFAULT '',
	notes          TEXT    NOT NULL DEFAULT '',
	tags           TEXT    NOT NULL DEFAULT '[]',
	pref_channel   TEXT    NOT NULL DEFAULT ''
		CHECK (pref_channel IN ('', 'email', 'phone', 'sms', 'messenger', 'mail', 'none')),
	pref_language  TEXT    NOT NULL DEFAULT '',
	do_not_contact INTEGER NOT NULL DEFAULT 0 CHECK (do_not_contact IN (0, 1)),
	owner_id       INTEGER NOT NULL REFERENCES users (id),
	version        INTEGER NOT NULL CHECK (version > 0),
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	deleted_at     INTEGER
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
CREATE TABLE consents (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	contact_id  INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
	purpose     TEXT    NOT NULL CHECK (purpose <> ''),
	granted     INTEGER NOT NULL CHECK (granted IN (0, 1)),
	source      TEXT    NOT NULL DEFAULT '',
	recorded_by INTEGER NOT NULL REFERENCES users (id),
	recorded_at INTEGER NOT NULL
);
CREATE INDEX consents_contact ON consents (contact_id, recorded_at, id);
CREATE TRIGGER consents_no_update BEFORE UPDATE ON consents
BEGIN
	SELECT RAISE(ABORT, 'consents are append-only');
END;
CREATE TRIGGER consents_no_delete BEFORE DELETE ON consents
WHEN EXISTS (SELECT 1 FROM contacts WHERE id = OLD.contact_id)
BEGIN
	SELECT RAISE(ABORT, 'consents are append-only');
END;

CREATE TABLE pipelines (
	id   INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT    NOT NULL UNIQUE CHECK (name <> '')
);

CREATE TABLE stages (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	pipeline_id INTEGER NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
	name        TEXT    NOT NULL CHECK (name <> ''),
	position    INTEGER NOT NULL,
	probability INTEGER NOT NULL CHECK (probability BETWEEN 0 AND 100),
	kind        TEXT    NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
	UNIQUE (pipeline_id, id)
);
CREATE INDEX stages_position ON stages (pipeline_id, position, id);

-- A deal's stage must belong to the deal's pipeline: the foreign key on
-- (pipeline_id, stage_id) says so.
CREATE TABLE deals (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	title          TEXT    NOT NULL,
	title_lc       TEXT    NOT NULL,
	pipeline_id    INTEGER NOT NULL REFERENCES pipelines (id),
	stage_id       INTEGER NOT NULL,
	amount_minor   INTEGER NOT NULL DEFAULT 0,
	currency       TEXT    NOT NULL CHECK (length(currency) = 3),
	expected_close TEXT,
	contact_id     INTEGER REFERENCES contacts (id) ON DELETE SET NULL,
	company_id     INTEGER REFERENCES companies (id) ON DELETE SET NULL,
	notes          TEXT    NOT NULL DEFAULT '',
	tags           TEXT    NOT NULL DEFAULT '[]',
	owner_id       INTEGER NOT NULL REFERENCES users (id),
	version        INTEGER NOT NULL CHECK (version > 0),
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	deleted_at     INTEGER,
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
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	type         TEXT    NOT NULL CHECK (type IN ('call', 'meeting', 'email', 'note')),
	subject      TEXT    NOT NULL DEFAULT '',
	subject_lc   TEXT    NOT NULL DEFAULT '',
	body         TEXT    NOT NULL DEFAULT '',
	occurred_at  INTEGER NOT NULL,
	duration_min INTEGER NOT NULL DEFAULT 0 CHECK (duration_min >= 0),
	contact_id   INTEGER REFERENCES contacts (id) ON DELETE SET NULL,
	company_id   INTEGER REFERENCES companies (id) ON DELETE SET NULL,
	deal_id      INTEGER REFERENCES deals (id) ON DELETE SET NULL,
	owner_id     INTEGER NOT NULL REFERENCES users (id),
	version      INTEGER NOT NULL CHECK (version > 0),
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	deleted_at   INTEGER
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
-- coalesce(due_at, the largest INTEGER), in the index and in every query.
CREATE TABLE tasks (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	title       TEXT    NOT NULL,
	title_lc    TEXT    NOT NULL,
	description TEXT    NOT NULL DEFAULT '',
	due_at      INTEGER,
	status      TEXT    NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
	assignee_id INTEGER REFERENCES users (id),
	contact_id  INTEGER REFERENCES contacts (id) ON DELETE SET NULL,
	company_id  INTEGER REFERENCES companies (id) ON DELETE SET NULL,
	deal_id     INTEGER REFERENCES deals (id) ON DELETE SET NULL,
	owner_id    INTEGER NOT NULL REFERENCES users (id),
	version     INTEGER NOT NULL CHECK (version > 0),
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	deleted_at  INTEGER
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

CREATE TRIGGER contacts_purge_tags AFTER DELETE ON contacts
BEGIN
	DELETE FROM tags WHERE entity = 'contact' AND record_id = OLD.id;
END;
CREATE TRIGGER companies_purge_tags AFTER DELETE ON companies
BEGIN
	DELETE FROM tags WHERE entity = 'company' AND record_id = OLD.id;
END;
CREATE TRIGGER deals_purge_tags AFTER DELETE ON deals
BEGIN
	DELETE FROM tags WHERE entity = 'deal' AND record_id = OLD.id;
END;

-- The default pipeline.
INSERT INTO pipelines (id, name) VALUES (1, 'Sales');
INSERT INTO stages (pipeline_id, name, position, probability, kind) VALUES
	(1, 'Lead',        1,  10, 'open'),
	(1, 'Qualified',   2,  25, 'open'),
	(1, 'Proposal',    3,  50, 'open'),
	(1, 'Negotiation', 4,  75, 'open'),
	(1, 'Won',         5, 100, 'won'),
	(1, 'Lost',        6,   0, 'lost');
