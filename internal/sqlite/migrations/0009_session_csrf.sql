-- 0009_session_csrf: a session's anti-forgery token is derived from its
-- secret (HMAC-SHA-256 keyed by the secret) and no longer stored beside
-- it, as the postgres package's migration of the same number. Open forms
-- of sessions from before the upgrade must be reloaded once.
ALTER TABLE sessions DROP COLUMN csrf_token;
