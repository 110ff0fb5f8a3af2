-- Leases coordinate scheduled jobs between instances (SCL-1): the holder
-- of a job's lease runs it until expires_at (unix microseconds).
CREATE TABLE leases (
    name       TEXT    NOT NULL PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
