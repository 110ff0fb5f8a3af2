-- 0024_seal_activity_subjects: as the sqlite package's migration of the
-- same number (which explains it).
DROP INDEX activities_subject;
ALTER TABLE activities DROP COLUMN subject_lc;
