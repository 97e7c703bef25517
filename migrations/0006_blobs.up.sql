-- Blob store (issue 7): metadata of assets uploaded through the Cloudinary-compatible Upload API and of
-- chunked uploads in progress. The bytes are files under <data>/blobs/, named by their SHA-256 (several
-- assets may share one file); these rows are the references to them. Times are unix milliseconds.

-- AUTOINCREMENT: an id is never reused, so nothing still naming a deleted asset can reach a newer one.
CREATE TABLE assets (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Cloudinary's asset_id: 32 lowercase hex digits, random, kept when the asset is overwritten.
    asset_id          TEXT NOT NULL UNIQUE,
    cloud_name        TEXT NOT NULL,
    public_id         TEXT NOT NULL,
    resource_type     TEXT NOT NULL CHECK (resource_type IN ('image', 'video', 'raw')),
    -- 'upload': public; 'authenticated': delivered only through signed URLs.
    type              TEXT NOT NULL CHECK (type IN ('upload', 'authenticated')),
    -- 'png', 'jpg', 'pdf', 'mp4'…; '' for raw assets (their public id carries the extension).
    format            TEXT NOT NULL,
    -- Unix seconds of the upload (the v<version> of URLs); a new one with each overwrite.
    version           INTEGER NOT NULL,
    -- 32 lowercase hex digits, random per version.
    version_id        TEXT NOT NULL,
    bytes             INTEGER NOT NULL CHECK (bytes >= 0),
    -- Images only, when the header told.
    width             INTEGER CHECK (width > 0),
    height            INTEGER CHECK (height > 0),
    -- Names the file: <data>/blobs/<ab>/<cd>/<sha256>.
    sha256            TEXT NOT NULL CHECK (length(sha256) = 64),
    -- MD5 hex of the bytes, Cloudinary's etag.
    etag              TEXT NOT NULL CHECK (length(etag) = 32),
    -- JSON array of strings.
    tags              TEXT NOT NULL DEFAULT '[]' CHECK (json_type(tags) = 'array'),
    -- JSON object of string values (Cloudinary's context.custom).
    context           TEXT NOT NULL DEFAULT '{}' CHECK (json_type(context) = 'object'),
    -- '' for the root.
    folder            TEXT NOT NULL DEFAULT '',
    -- The uploaded file's base name without extension; NULL when there was none (data URI, remote URL).
    original_filename TEXT,
    -- The user who uploaded through the chat API (quotas, attachments); NULL for Upload API uploads and once
    -- the user's row is gone.
    owner_user_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at        INTEGER NOT NULL,
    UNIQUE (cloud_name, resource_type, type, public_id)
) STRICT;

-- Reference counting of files: is this the last asset using these bytes?
CREATE INDEX assets_sha256 ON assets (sha256);
-- A user's uploads (quota sums, listing newest first) and the ON DELETE SET NULL of users.
CREATE INDEX assets_owner ON assets (owner_user_id, id);

-- Chunked uploads in progress (the SDKs' upload_large): one row per X-Unique-Upload-Id, removed when the
-- last chunk arrives or when it expires (its partial file <data>/blobs/tmp/chunked-<upload_id> with it).
CREATE TABLE upload_sessions (
    cloud_name    TEXT NOT NULL,
    upload_id     TEXT NOT NULL,
    resource_type TEXT NOT NULL CHECK (resource_type IN ('image', 'video', 'raw', 'auto')),
    type          TEXT NOT NULL CHECK (type IN ('upload', 'authenticated')),
    -- Fixed by the first chunk; later chunks must name the same.
    public_id     TEXT NOT NULL,
    total_bytes   INTEGER NOT NULL CHECK (total_bytes > 0),
    -- Bytes received in order so far: the next chunk must start here.
    next_offset   INTEGER NOT NULL CHECK (next_offset >= 0 AND next_offset <= total_bytes),
    temp_path     TEXT NOT NULL,
    owner_user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    -- Pushed forward by each chunk; past it the session and its file are removed.
    expires_at    INTEGER NOT NULL,
    PRIMARY KEY (cloud_name, upload_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX upload_sessions_expires ON upload_sessions (expires_at);
CREATE INDEX upload_sessions_owner ON upload_sessions (owner_user_id) WHERE owner_user_id IS NOT NULL;
