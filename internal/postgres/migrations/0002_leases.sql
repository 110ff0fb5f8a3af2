-- Leases coordinate scheduled jobs between instances (SCL-1): the holder
-- of a job's lease runs it until expires_at (unix microseconds).
CREATE TABLE leases (
    name       TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    holder     TEXT   COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL
);
