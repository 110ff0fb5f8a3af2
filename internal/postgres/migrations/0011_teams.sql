-- 0011_teams: teams and their hierarchy (ACL-2), as the sqlite package's
-- migration of the same number (its comment explains the model).
CREATE TABLE teams (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       TEXT   COLLATE "C" NOT NULL CHECK (name <> ''),
	name_lc    TEXT   COLLATE "C" NOT NULL UNIQUE,
	parent_id  BIGINT REFERENCES teams (id),
	manager_id BIGINT REFERENCES users (id),
	version    BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX teams_parent ON teams (parent_id);
CREATE INDEX teams_manager ON teams (manager_id);

ALTER TABLE users ADD COLUMN team_id BIGINT REFERENCES teams (id);
ALTER TABLE users ADD COLUMN sees_teams TEXT COLLATE "C" NOT NULL DEFAULT '[]';
CREATE INDEX users_team ON users (team_id);

ALTER TABLE contacts ADD COLUMN team_id BIGINT REFERENCES teams (id) ON DELETE SET NULL;
ALTER TABLE companies ADD COLUMN team_id BIGINT REFERENCES teams (id) ON DELETE SET NULL;
ALTER TABLE deals ADD COLUMN team_id BIGINT REFERENCES teams (id) ON DELETE SET NULL;
ALTER TABLE activities ADD COLUMN team_id BIGINT REFERENCES teams (id) ON DELETE SET NULL;
ALTER TABLE tasks ADD COLUMN team_id BIGINT REFERENCES teams (id) ON DELETE SET NULL;
CREATE INDEX contacts_team ON contacts (team_id, last_name_lc, id) WHERE team_id IS NOT NULL;
CREATE INDEX companies_team ON companies (team_id, name_lc, id) WHERE team_id IS NOT NULL;
CREATE INDEX deals_team ON deals (team_id, id) WHERE team_id IS NOT NULL;
CREATE INDEX activities_team ON activities (team_id, id) WHERE team_id IS NOT NULL;
CREATE INDEX tasks_team ON tasks (team_id, id) WHERE team_id IS NOT NULL;
