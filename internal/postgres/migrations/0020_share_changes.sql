-- 0020_share_changes: shares join the change sequence (ENC-4, issue 12),
-- as the sqlite package's migration of the same number (which explains
-- it).
CREATE TRIGGER shares_changed AFTER INSERT OR UPDATE OR DELETE ON shares
	FOR EACH ROW EXECUTE FUNCTION record_changed('share');
