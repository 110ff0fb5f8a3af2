-- 0011_teams: teams and their hierarchy (ACL-2), as the postgres package's
-- migration of the same number.
--
-- A team has a name, an optional parent (teams nest to any depth; the
-- service refuses cycles) and an optional manager. A user is a member of at
-- most one team (users.team_id). A manager sees and edits the records of
-- the teams they manage and of every team below them: users.sees_teams
-- keeps that set of team ids (a JSON array), recomputed by the service in
-- the transaction of every team change, so that the principal carries it
-- from the user row it reads anyway and no request walks the tree.
--
-- Client records get a team besides an owner: the owner's team when the
-- record is made or changes owner. The team indexes carry a manager's
-- lists and reads (owner_id = me OR team_id IN my teams).
CREATE TABLE teams (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT    NOT NULL CHECK (name <> ''),
	name_lc    TEXT    NOT NULL UNIQUE,
	parent_id  INTEGER REFERENCES teams (id),
	manager_id INTEGER REFERENCES users (id),
	version    INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX teams_parent ON teams (parent_id);
CREATE INDEX teams_manager ON teams (manager_id);

ALTER TABLE users ADD COLUMN team_id INTEGER REFERENCES teams (id);
ALTER TABLE users ADD COLUMN sees_teams TEXT NOT NULL DEFAULT '[]';
CREATE INDEX users_team ON users (team_id);

ALTER TABLE contacts ADD COLUMN team_id INTEGER REFERENCES teams (id) ON DELETE SET NULL;
ALTER TABLE companies ADD COLUMN team_id INTEGER REFERENCES teams (id) ON DELETE SET NULL;
ALTER TABLE deals ADD COLUMN team_id INTEGER REFERENCES teams (id) ON DELETE SET NULL;
ALTER TABLE activities ADD COLUMN team_id INTEGER REFERENCES teams (id) ON DELETE SET NULL;
ALTER TABLE tasks ADD COLUMN team_id INTEGER REFERENCES teams (id) ON DELETE SET NULL;
CREATE INDEX contacts_team ON contacts (team_id, last_name_lc, id) WHERE team_id IS NOT NULL;
CREATE INDEX companies_team ON companies (team_id, name_lc, id) WHERE team_id IS NOT NULL;
CREATE INDEX deals_team ON deals (team_id, id) WHERE team_id IS NOT NULL;
CREATE INDEX activities_team ON activities (team_id, id) WHERE team_id IS NOT NULL;
CREATE INDEX tasks_team ON tasks (team_id, id) WHERE team_id IS NOT NULL;
