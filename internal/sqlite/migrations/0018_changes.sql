-- 0018_changes: the change sequence (ENC-4, issue 12), as the postgres
-- package's migration of the same number.
--
-- With field encryption the store cannot sort or search contacts by name,
-- email or phone: each instance keeps an index of them in memory
-- (docs/encryption.md). Triggers append a row here for every insert,
-- update and delete of a contact, whoever writes it (the server, another
-- instance, a command such as keys rotate), and each instance reads the
-- rows after the last it has read before it answers a list. The rows hold
-- ids and times only; a job deletes those older than a day.
CREATE TABLE changes (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	entity    TEXT    NOT NULL,
	record_id INTEGER NOT NULL,
	-- PostgreSQL's writer transaction (see its migration); SQLite has one
	-- writer, whose changes commit in the order of their numbers.
	txid      INTEGER NOT NULL DEFAULT 0,
	at        INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
CREATE INDEX changes_txid ON changes (txid);
CREATE INDEX changes_at ON changes (at);
-- How far the job has pruned: a reader whose mark is older has missed
-- changes and reads every record again.
CREATE TABLE changes_pruned (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	through INTEGER NOT NULL
);
INSERT INTO changes_pruned (id, through) VALUES (1, 0);
CREATE TRIGGER contacts_changed_insert AFTER INSERT ON contacts
BEGIN
	INSERT INTO changes (entity, record_id) VALUES ('contact', NEW.id);
END;
CREATE TRIGGER contacts_changed_update AFTER UPDATE ON contacts
BEGIN
	INSERT INTO changes (entity, record_id) VALUES ('contact', NEW.id);
END;
CREATE TRIGGER contacts_changed_delete AFTER DELETE ON contacts
BEGIN
	INSERT INTO changes (entity, record_id) VALUES ('contact', OLD.id);
END;
-- Companies too: a contact search matches the contacts of the companies
-- whose name has a word starting as typed.
CREATE TRIGGER companies_changed_insert AFTER INSERT ON companies
BEGIN
	INSERT INTO changes (entity, record_id) VALUES ('company', NEW.id);
END;
CREATE TRIGGER companies_changed_update AFTER UPDATE ON companies
BEGIN
	INSERT INTO changes (entity, record_id) VALUES ('company', NEW.id);
END;
CREATE TRIGGER companies_changed_delete AFTER DELETE ON companies
BEGIN
	INSERT INTO changes (entity, record_id) VALUES ('company', OLD.id);
END;
