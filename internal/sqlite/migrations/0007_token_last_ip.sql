-- 0007_token_last_ip: the address an API token was last used from, shown
-- with its last use to the user and to administrators (INC-2), as the
-- postgres package's migration of the same number.
ALTER TABLE tokens ADD COLUMN last_used_ip TEXT NOT NULL DEFAULT '';
