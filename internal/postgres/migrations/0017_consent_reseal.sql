-- 0017_consent_reseal: as the sqlite package's migration of the same
-- number (which explains it).
CREATE OR REPLACE FUNCTION consents_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM contacts WHERE id = OLD.contact_id) THEN
		RETURN OLD;
	END IF;
	IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.contact_id = OLD.contact_id AND NEW.purpose = OLD.purpose
		AND NEW.granted = OLD.granted AND NEW.recorded_by = OLD.recorded_by AND NEW.recorded_at = OLD.recorded_at
		AND left(NEW.source, 3) = 'e1:' THEN
		RETURN NEW;
	END IF;
	RAISE EXCEPTION 'consents are append-only' USING ERRCODE = 'restrict_violation';
END
$$;
