-- Facts about this server instance that must survive restarts. `/readyz` proves the database accepts writes
-- by updating the 'heartbeat' row here through the writer.
CREATE TABLE server_state (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL  -- unix milliseconds
) STRICT;
