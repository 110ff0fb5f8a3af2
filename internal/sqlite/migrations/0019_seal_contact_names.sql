-- 0019_seal_contact_names: a contact's names, email and phone are sealed
-- (ENC-2, ENC-4, issue 12), so the plaintext columns and indexes that
-- sorted and searched them go: the lower-case copies of the names, and
-- every index on the names, the email or the phone. Lists sort and search
-- from each instance's in-memory index (0018's change sequence keeps it
-- current); the store finds a contact by an exact email or phone through
-- its blind-index token, a keyed hash of the normalised value (lower-case
-- email, E.164 phone) that reveals only which contacts share one.
--
-- The tokens of existing contacts are written by the upgrade pass of
-- `custos serve`, which seals their names, email and phone at the same
-- time (docs/encryption.md).
--
-- The writer zeroes what a write frees inside a page (secure_delete FAST),
-- not the pages a dropped index gives back: those would keep the names,
-- emails and phones in the free pages of the file. Here every freed page
-- is zeroed.
PRAGMA secure_delete = ON;
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
ALTER TABLE contacts ADD COLUMN email_token TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN phone_token TEXT NOT NULL DEFAULT '';
CREATE INDEX contacts_email_token ON contacts (email_token) WHERE email_token <> '';
CREATE INDEX contacts_phone_token ON contacts (phone_token) WHERE phone_token <> '';
-- A scope's records by owner and by team, in every state (reassignment,
-- the team of a moved user).
CREATE INDEX contacts_owner ON contacts (owner_id, id);
CREATE INDEX contacts_team ON contacts (team_id, id) WHERE team_id IS NOT NULL;
PRAGMA secure_delete = FAST;
