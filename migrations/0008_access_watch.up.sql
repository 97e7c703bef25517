-- A running server polls for sessions revoked and accounts disabled or deleted by another process (the `chat`
-- command line), to close their WebSockets: both lookups are by time.
CREATE INDEX sessions_revoked_at ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX users_updated_at ON users (updated_at);
