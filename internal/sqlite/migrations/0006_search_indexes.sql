-- 0006_search_indexes: owner-leading indexes for a sales user's contact
-- search (docs/performance.md, section 2), as the postgres package's
-- migration of the same number.
--
-- Under an owner's scope the prefix search is a union of one short range per
-- alternative (last name, first name, email, phone, company) under the
-- owner. Each index ends with last_name_lc and id, so that a branch is sorted
-- and limited inside the index, and with deleted_at, so that it tells live
-- from deleted contacts without reading the table: only the page's rows are
-- read from it. contacts_owner gains deleted_at for the same reason (its
-- keys are otherwise those of 0001, which the owner's list still uses).
DROP INDEX contacts_owner;
CREATE INDEX contacts_owner ON contacts (owner_id, last_name_lc, id, deleted_at);
CREATE INDEX contacts_owner_first_name ON contacts (owner_id, first_name_lc, last_name_lc, id, deleted_at);
CREATE INDEX contacts_owner_email ON contacts (owner_id, email, last_name_lc, id, deleted_at);
CREATE INDEX contacts_owner_phone ON contacts (owner_id, phone, last_name_lc, id, deleted_at);
CREATE INDEX contacts_owner_company ON contacts (owner_id, company_id, last_name_lc, id, deleted_at);
