-- 0016_erasures: the erasure ledger of crypto-shredding (ENC-5, issue 12),
-- as the sqlite package's migration of the same number (which explains it).
CREATE TABLE erasures (
	id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	entity    TEXT   COLLATE "C" NOT NULL CHECK (entity IN ('contact', 'company')),
	record_id BIGINT NOT NULL,
	erased_at BIGINT NOT NULL,
	erased_by BIGINT,
	UNIQUE (entity, record_id)
);
CREATE FUNCTION erasures_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	RAISE EXCEPTION 'the erasure ledger is append-only' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER erasures_no_update BEFORE UPDATE ON erasures
	FOR EACH ROW EXECUTE FUNCTION erasures_append_only();
CREATE TRIGGER erasures_no_delete BEFORE DELETE ON erasures
	FOR EACH ROW EXECUTE FUNCTION erasures_append_only();
CREATE TRIGGER erasures_no_truncate BEFORE TRUNCATE ON erasures
	FOR EACH STATEMENT EXECUTE FUNCTION erasures_append_only();
