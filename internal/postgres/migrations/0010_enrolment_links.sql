-- 0010_enrolment_links: first-use enrolment (AUTH-2), as the sqlite
-- package's migration of the same number. A user whose role requires a
-- second factor and who has none enrols only through a one-time enrolment
-- link (purpose 'enrol', with user_id), not with the password alone; the
-- session signed in through such a link is marked may_enrol.
ALTER TABLE sessions ADD COLUMN may_enrol BOOLEAN NOT NULL DEFAULT false;

ALTER TABLE one_time_tokens DROP CONSTRAINT one_time_tokens_purpose_check;
ALTER TABLE one_time_tokens ADD CONSTRAINT one_time_tokens_purpose_check
	CHECK (purpose IN ('invite', 'reset', 'email', 'enrol'));
