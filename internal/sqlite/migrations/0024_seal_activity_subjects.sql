-- 0024_seal_activity_subjects: an activity's subject is sealed (ENC-2,
-- issue 12): "Call with Ivanov about the loan" names a client. Activity
-- lists sort by times only, so no index in memory is needed: a search
-- opens the subjects of a bounded run of the list (docs/encryption.md).
-- The subject's lower-case copy goes with its index; every page they free
-- is zeroed, as in 0019.
PRAGMA secure_delete = ON;
DROP INDEX activities_subject;
ALTER TABLE activities DROP COLUMN subject_lc;
PRAGMA secure_delete = FAST;
