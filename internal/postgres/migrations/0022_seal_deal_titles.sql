-- 0022_seal_deal_titles: as the sqlite package's migration of the same
-- number (which explains it).
CREATE TRIGGER deals_changed AFTER INSERT OR UPDATE OR DELETE ON deals
	FOR EACH ROW EXECUTE FUNCTION record_changed('deal');
DROP INDEX deals_title;
DROP INDEX deals_owner_title;
DROP INDEX deals_team_title;
ALTER TABLE deals DROP COLUMN title_lc;
