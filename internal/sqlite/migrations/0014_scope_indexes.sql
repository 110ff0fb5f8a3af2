-- 0014_scope_indexes: an index per scope part and sort (ACL-4, issue 11), as
-- the postgres package's migration of the same number.
--
-- A list in a scope of several parts (own records, each team managed,
-- assigned tasks) is a merge of one ordered branch per part, each the first
-- page of that part read along an index that starts with the part's column
-- (owner_id, team_id or assignee_id) and continues with the sort key and id,
-- so that a page costs the same whatever the number of records the caller
-- may see (docs/performance.md, "Query plans under access control"). The
-- indexes of migrations 0001, 0006 and 0011 give some of these orders
-- already; these are the rest, over live records only.
CREATE INDEX contacts_owner_first_sort ON contacts (owner_id, first_name_lc, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_owner_email_sort ON contacts (owner_id, email, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_owner_created ON contacts (owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_owner_updated ON contacts (owner_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX companies_owner_created ON companies (owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX companies_owner_updated ON companies (owner_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX deals_owner_title ON deals (owner_id, title_lc, id) WHERE deleted_at IS NULL;
CREATE INDEX deals_owner_close ON deals (owner_id, coalesce(expected_close, '9999-12-31'), id) WHERE deleted_at IS NULL;
CREATE INDEX deals_owner_amount ON deals (owner_id, amount_minor, id) WHERE deleted_at IS NULL;
CREATE INDEX deals_owner_updated ON deals (owner_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX activities_owner_created ON activities (owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX activities_owner_updated ON activities (owner_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_owner_created ON tasks (owner_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_owner_updated ON tasks (owner_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_owner_title ON tasks (owner_id, title_lc, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_team_first ON contacts (team_id, first_name_lc, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_team_email ON contacts (team_id, email, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_team_created ON contacts (team_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_team_updated ON contacts (team_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX companies_team_created ON companies (team_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX companies_team_updated ON companies (team_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX deals_team_created ON deals (team_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX deals_team_title ON deals (team_id, title_lc, id) WHERE deleted_at IS NULL;
CREATE INDEX deals_team_close ON deals (team_id, coalesce(expected_close, '9999-12-31'), id) WHERE deleted_at IS NULL;
CREATE INDEX deals_team_amount ON deals (team_id, amount_minor, id) WHERE deleted_at IS NULL;
CREATE INDEX deals_team_updated ON deals (team_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX activities_team_occurred ON activities (team_id, occurred_at, id) WHERE deleted_at IS NULL;
CREATE INDEX activities_team_created ON activities (team_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX activities_team_updated ON activities (team_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_team_due ON tasks (team_id, coalesce(due_at, 9223372036854775807), id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_team_created ON tasks (team_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_team_updated ON tasks (team_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_team_title ON tasks (team_id, title_lc, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_assignee_created ON tasks (assignee_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_assignee_updated ON tasks (assignee_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_assignee_title ON tasks (assignee_id, title_lc, id) WHERE deleted_at IS NULL;

-- The sort indexes of names and email over live records only, as those of
-- the other sorts are: a list reading the records shared with a principal
-- along them (thousands of shares) then tells a live record from a
-- deleted one inside the index, without reading its row.
DROP INDEX contacts_last_name;
DROP INDEX contacts_first_name;
DROP INDEX contacts_email;
DROP INDEX companies_name;
CREATE INDEX contacts_last_name ON contacts (last_name_lc, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_first_name ON contacts (first_name_lc, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_email ON contacts (email, id) WHERE deleted_at IS NULL;
CREATE INDEX companies_name ON companies (name_lc, id) WHERE deleted_at IS NULL;
