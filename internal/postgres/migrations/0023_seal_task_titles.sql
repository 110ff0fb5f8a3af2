-- 0023_seal_task_titles: as the sqlite package's migration of the same
-- number (which explains it).
CREATE TRIGGER tasks_changed AFTER INSERT OR UPDATE OR DELETE ON tasks
	FOR EACH ROW EXECUTE FUNCTION record_changed('task');
DROP INDEX tasks_title;
DROP INDEX tasks_owner_title;
DROP INDEX tasks_team_title;
DROP INDEX tasks_assignee_title;
ALTER TABLE tasks DROP COLUMN title_lc;
