-- 0015_data_keys: the data keys of field encryption (ENC-2, issue 12), as
-- the postgres package's migration of the same number.
--
-- One row per client: its data key (under a random id, never reused), wrapped by the key-encryption key of
-- version kek_version, bound to its subject ("contact:7") by the wrap's
-- associated data. The key never rests here unwrapped. Erasing a client
-- deletes its row, and with it every field sealed under it.
CREATE TABLE data_keys (
	id          INTEGER PRIMARY KEY,
	subject     TEXT    NOT NULL UNIQUE,
	kek_version INTEGER NOT NULL CHECK (kek_version > 0),
	wrapped     BLOB    NOT NULL,
	created_at  INTEGER NOT NULL,
	rotated_at  INTEGER
);
CREATE INDEX data_keys_version ON data_keys (kek_version, id);

-- Consents stay append-only, with one exception: the upgrade pass may
-- replace a source an older version stored in plain text by its sealed
-- form, changing nothing else.
DROP TRIGGER consents_no_update;
CREATE TRIGGER consents_no_update BEFORE UPDATE ON consents
WHEN NOT (NEW.id = OLD.id AND NEW.contact_id = OLD.contact_id AND NEW.purpose = OLD.purpose
	AND NEW.granted = OLD.granted AND NEW.recorded_by = OLD.recorded_by AND NEW.recorded_at = OLD.recorded_at
	AND substr(OLD.source, 1, 3) <> 'e1:' AND substr(NEW.source, 1, 3) = 'e1:')
BEGIN
	SELECT RAISE(ABORT, 'consents are append-only');
END;
