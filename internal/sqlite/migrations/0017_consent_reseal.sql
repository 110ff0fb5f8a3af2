-- 0017_consent_reseal: consents stay append-only, with one exception
-- widened: a consent's source may be replaced by a sealed value, changing
-- nothing else, whether it was plain (the upgrade pass) or sealed under a
-- key being replaced (the rotation of one client's data key, ENC-3). A
-- sealed value names its consent and field, so one copied from another
-- consent does not open.
DROP TRIGGER consents_no_update;
CREATE TRIGGER consents_no_update BEFORE UPDATE ON consents
WHEN NOT (NEW.id = OLD.id AND NEW.contact_id = OLD.contact_id AND NEW.purpose = OLD.purpose
	AND NEW.granted = OLD.granted AND NEW.recorded_by = OLD.recorded_by AND NEW.recorded_at = OLD.recorded_at
	AND substr(NEW.source, 1, 3) = 'e1:')
BEGIN
	SELECT RAISE(ABORT, 'consents are append-only');
END;
