-- Presence (issue 6): when each user was last seen connected. Online state itself lives in memory (it ends
-- with the process); this column answers "Last seen …" after the user's last connection closed, across
-- restarts. NULL: never connected.
ALTER TABLE users ADD COLUMN last_seen_at INTEGER;
