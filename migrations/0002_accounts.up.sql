-- Accounts and authentication: users, sessions (refresh-token families), refresh tokens (stored only as
-- SHA-256 hashes) and revoked access-token ids. Times are unix milliseconds.

CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    -- Lower-case [a-z0-9_.-], 3-32 characters; 'deleted-<id>' once the account is deleted.
    username         TEXT NOT NULL,
    -- As registered (trimmed, domain lower-cased); NULL once the account is deleted.
    email            TEXT,
    -- The whole address lower-cased: makes uniqueness and login by email case-insensitive.
    email_key        TEXT,
    display_name     TEXT NOT NULL,
    -- The display name lower-cased (Unicode-aware, done by the application), for prefix search.
    display_name_key TEXT NOT NULL,
    bio              TEXT NOT NULL DEFAULT '',
    avatar_url       TEXT NOT NULL DEFAULT '',
    -- bcrypt ('$2b$...'); empty once the account is deleted, which no password verifies against.
    password_hash    TEXT NOT NULL,
    is_admin         INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    is_disabled      INTEGER NOT NULL DEFAULT 0 CHECK (is_disabled IN (0, 1)),
    deleted_at       INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    CHECK (deleted_at IS NOT NULL OR email_key IS NOT NULL)
) STRICT;

-- Login by username and by email; both also enforce uniqueness (NULL email keys of deleted users never
-- collide: SQLite treats NULLs as distinct in UNIQUE indexes).
CREATE UNIQUE INDEX users_username ON users (username);
CREATE UNIQUE INDEX users_email_key ON users (email_key);
-- Prefix search on the display name (the username one is served by users_username).
CREATE INDEX users_display_name_key ON users (display_name_key);

-- A session is one login on one device: a family of refresh tokens, each spent when rotated.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY NOT NULL,  -- opaque random id, also the `sid` claim of access tokens
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device       TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    -- When the newest refresh token expires: the session is over then even if never revoked.
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id, created_at);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,  -- lowercase hex SHA-256 of the token; the token itself is never stored
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- Set when the token is rotated. Presenting it again is reuse: the whole session is revoked.
    used_at    INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
-- For pruning expired tokens.
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

-- Access tokens revoked before their expiry (logout), by `jti`. A row is useless once the token has expired.
CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_at);
