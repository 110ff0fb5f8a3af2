-- 0021_seal_company_names: as the sqlite package's migration of the same
-- number (which explains it).
DROP INDEX companies_name;
DROP INDEX companies_owner;
DROP INDEX companies_domain;
DROP INDEX companies_team;
ALTER TABLE companies DROP COLUMN name_lc;
ALTER TABLE companies DROP COLUMN domain_lc;
CREATE INDEX companies_owner ON companies (owner_id, id);
CREATE INDEX companies_team ON companies (team_id, id) WHERE team_id IS NOT NULL;
