-- 0021_seal_company_names: a company's name and domain are sealed (ENC-2,
-- ENC-4, issue 12): a sole trader's company name is their own name. The
-- lower-case copies that sorted and searched them go, with every index on
-- them. Company lists sort and search from each instance's in-memory
-- index, as contact lists do since 0019 (the change sequence of 0018
-- keeps it current), and a contact search still matches the contacts of
-- the companies whose names it starts.
--
-- The names and domains of existing companies are sealed by the upgrade
-- pass of `custos serve` (docs/encryption.md). As in 0019, every page the
-- dropped columns and indexes free is zeroed.
PRAGMA secure_delete = ON;
DROP INDEX companies_name;
DROP INDEX companies_owner;
DROP INDEX companies_domain;
DROP INDEX companies_team;
ALTER TABLE companies DROP COLUMN name_lc;
ALTER TABLE companies DROP COLUMN domain_lc;
-- A scope's companies by owner and by team, in every state.
CREATE INDEX companies_owner ON companies (owner_id, id);
CREATE INDEX companies_team ON companies (team_id, id) WHERE team_id IS NOT NULL;
PRAGMA secure_delete = FAST;
