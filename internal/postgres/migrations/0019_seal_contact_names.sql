-- 0019_seal_contact_names: as the sqlite package's migration of the same
-- number (which explains it).
DROP INDEX contacts_phone;
DROP INDEX contacts_owner;
DROP INDEX contacts_owner_first_name;
DROP INDEX contacts_owner_email;
DROP INDEX contacts_owner_phone;
DROP INDEX contacts_owner_company;
DROP INDEX contacts_team;
DROP INDEX contacts_owner_first_sort;
DROP INDEX contacts_owner_email_sort;
DROP INDEX contacts_team_first;
DROP INDEX contacts_team_email;
DROP INDEX contacts_last_name;
DROP INDEX contacts_first_name;
DROP INDEX contacts_email;
ALTER TABLE contacts DROP COLUMN first_name_lc;
ALTER TABLE contacts DROP COLUMN last_name_lc;
ALTER TABLE contacts ADD COLUMN email_token TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN phone_token TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX contacts_email_token ON contacts (email_token) WHERE email_token <> '';
CREATE INDEX contacts_phone_token ON contacts (phone_token) WHERE phone_token <> '';
CREATE INDEX contacts_owner ON contacts (owner_id, id);
CREATE INDEX contacts_team ON contacts (team_id, id) WHERE team_id IS NOT NULL;
