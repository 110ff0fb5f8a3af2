-- 0023_seal_task_titles: a task's title is sealed (ENC-2, ENC-4, issue
-- 12), as a deal's is in 0022 and for the same reasons ("Call Ivanov
-- about his debt"). Tasks join the change sequence, and the title's
-- lower-case copy goes with its indexes; the in-memory index of tasks
-- sorts and searches task lists.
CREATE TRIGGER tasks_changed_insert AFTER INSERT ON tasks
BEGIN
	INSERT INTO changes (entity, record_id) VALUES ('task', NEW.id);
END;
CREATE TRIGGER tasks_changed_update AFTER UPDATE ON tasks
BEGIN
	INSERT INTO changes (entity, record_id) VALUES ('task', NEW.id);
END;
CREATE TRIGGER tasks_changed_delete AFTER DELETE ON tasks
BEGIN
	INSERT INTO changes (entity, record_id) VALUES ('task', OLD.id);
END;
PRAGMA secure_delete = ON;
DROP INDEX tasks_title;
DROP INDEX tasks_owner_title;
DROP INDEX tasks_team_title;
DROP INDEX tasks_assignee_title;
ALTER TABLE tasks DROP COLUMN title_lc;
PRAGMA secure_delete = FAST;
