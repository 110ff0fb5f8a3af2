-- 0018_changes: the change sequence (ENC-4, issue 12), as the sqlite
-- package's migration of the same number (which explains it).
--
-- A transaction draws its number when it writes and may commit after a
-- later one: txid records its transaction, so that a reader can read
-- again the changes of the transactions that were running when it last
-- read (crm.ChangeMark). The identity's sequence caches no values, so
-- numbers are drawn in time order across sessions.
CREATE TABLE changes (
	seq       BIGINT GENERATED ALWAYS AS IDENTITY (CACHE 1) PRIMARY KEY,
	entity    TEXT   COLLATE "C" NOT NULL,
	record_id BIGINT NOT NULL,
	txid      BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
	at        BIGINT NOT NULL DEFAULT (extract(epoch FROM clock_timestamp())::bigint)
);
CREATE INDEX changes_txid ON changes (txid);
CREATE INDEX changes_at ON changes (at);
-- How far the job has pruned: a reader whose mark is older has missed
-- changes and reads every record again.
CREATE TABLE changes_pruned (
	id      BIGINT PRIMARY KEY CHECK (id = 1),
	through BIGINT NOT NULL
);
INSERT INTO changes_pruned (id, through) VALUES (1, 0);
CREATE FUNCTION record_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		INSERT INTO changes (entity, record_id) VALUES (TG_ARGV[0], OLD.id);
	ELSE
		INSERT INTO changes (entity, record_id) VALUES (TG_ARGV[0], NEW.id);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER contacts_changed AFTER INSERT OR UPDATE OR DELETE ON contacts
	FOR EACH ROW EXECUTE FUNCTION record_changed('contact');
CREATE TRIGGER companies_changed AFTER INSERT OR UPDATE OR DELETE ON companies
	FOR EACH ROW EXECUTE FUNCTION record_changed('company');
