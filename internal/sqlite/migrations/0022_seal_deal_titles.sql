-- 0022_seal_deal_titles: a deal's title is sealed (ENC-2, ENC-4, issue
-- 12): titles name clients ("Renewal for Ivanov"). Deals join the change
-- sequence of 0018, so that each instance's in-memory index of deals,
-- which now sorts and searches deal lists, follows every write, by this
-- instance or another; the title's lower-case copy goes with its indexes.
--
-- The titles of existing deals are sealed by the upgrade pass of `custos
-- serve` (docs/encryption.md). As in 0019, every page the dropped column
-- and indexes free is zeroed.
CREATE TRIGGER deals_changed_insert AFTER INSERT ON deals
BEGIN
	INSERT INTO changes (entity, record_id) VALUES ('deal', NEW.id);
END;
CREATE TRIGGER deals_changed_update AFTER UPDATE ON deals
BEGIN
	INSERT INTO changes (entity, record_id) VALUES ('deal', NEW.id);
END;
CREATE TRIGGER deals_changed_delete AFTER DELETE ON deals
BEGIN
	INSERT INTO changes (entity, record_id) VALUES ('deal', OLD.id);
END;
PRAGMA secure_delete = ON;
DROP INDEX deals_title;
DROP INDEX deals_owner_title;
DROP INDEX deals_team_title;
ALTER TABLE deals DROP COLUMN title_lc;
PRAGMA secure_delete = FAST;
