-- 0016_erasures: the erasure ledger of crypto-shredding (ENC-5, issue 12),
-- as the postgres package's migration of the same number.
--
-- Erasing a client (a contact with its activities, tasks and consents, or
-- a company with its own) deletes its rows and its data key in one
-- transaction and adds a row here: the record's entity and id, when, and
-- the staff member who erased it; no personal data. The ledger outlives
-- every backup taken before the erasure: restoring one re-applies each
-- erasure it lists (the backup issue). Rows are never changed or removed.
CREATE TABLE erasures (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	entity    TEXT    NOT NULL CHECK (entity IN ('contact', 'company')),
	record_id INTEGER NOT NULL,
	erased_at INTEGER NOT NULL,
	erased_by INTEGER,
	UNIQUE (entity, record_id)
);
CREATE TRIGGER erasures_no_update BEFORE UPDATE ON erasures
BEGIN
	SELECT RAISE(ABORT, 'the erasure ledger is append-only');
END;
CREATE TRIGGER erasures_no_delete BEFORE DELETE ON erasures
BEGIN
	SELECT RAISE(ABORT, 'the erasure ledger is append-only');
END;
