-- 0020_share_changes: shares join the change sequence (ENC-4, issue 12),
-- as the postgres package's migration of the same number.
--
-- Each instance's in-memory index holds the shares of contacts and
-- companies beside the records, so that a list finds the records shared
-- with its caller in order, as it finds their own, without reading every
-- shared id from the store at each page. Triggers append a row for every
-- insert, update and delete of a share (those a deleted user or team
-- takes with it included), as 0018 does for the records.
CREATE TRIGGER shares_changed_insert AFTER INSERT ON shares
BEGIN
	INSERT INTO changes (entity, record_id) VALUES ('share', NEW.id);
END;
CREATE TRIGGER shares_changed_update AFTER UPDATE ON shares
BEGIN
	INSERT INTO changes (entity, record_id) VALUES ('share', NEW.id);
END;
CREATE TRIGGER shares_changed_delete AFTER DELETE ON shares
BEGIN
	INSERT INTO changes (entity, record_id) VALUES ('share', OLD.id);
END;
