-- Messages, reactions and full-text search. Times are unix milliseconds.

-- Ids come from AUTOINCREMENT so that they are never reused, not even after the room holding the newest
-- messages is deleted: search pages by id, and a client may remember ids.
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id       INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    -- rooms.last_seq + 1, taken in the writer's transaction: gap-free and increasing per room.
    seq           INTEGER NOT NULL CHECK (seq > 0),
    -- NULL for system messages. No ON DELETE action: users are anonymised, never deleted, and a hard delete
    -- of a user who wrote messages must fail rather than rewrite the timeline.
    sender_id     INTEGER REFERENCES users (id),
    kind          TEXT NOT NULL CHECK (kind IN ('user', 'system')),
    -- '' once deleted.
    content       TEXT NOT NULL,
    mime_type     TEXT NOT NULL,
    -- The sender's idempotency key: a resend with the same key returns the original.
    client_msg_id TEXT,
    -- A message of the same room, checked when sending. No foreign key: messages are only ever deleted
    -- together with their room, and the key would need an index of its own for that cascade.
    reply_to      INTEGER,
    -- System messages only: {"type", "actor_id", "user_ids", "detail"}.
    event_json    TEXT,
    created_at    INTEGER NOT NULL,
    edited_at     INTEGER,
    -- Set by deletion, which keeps the row (and its seq) as a tombstone with empty content.
    deleted_at    INTEGER,
    CHECK ((kind = 'system') = (sender_id IS NULL)),
    CHECK ((kind = 'system') = (event_json IS NOT NULL)),
    -- Also the index of history pages: WHERE room_id = ? AND seq < ? ORDER BY seq DESC.
    UNIQUE (room_id, seq),
    -- Idempotent sends. NULL keys never collide (NULLs are distinct in UNIQUE indexes).
    UNIQUE (room_id, sender_id, client_msg_id)
) STRICT;

-- A user's reaction with one emoji to one message, at most once. Deleting a message deletes its reactions.
CREATE TABLE message_reactions (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- In this order so that counting per (message, emoji) reads the key in order.
    PRIMARY KEY (message_id, emoji, user_id)
) STRICT, WITHOUT ROWID;

-- Full-text index of the live user messages, with `messages` as its external content: the index stores no
-- copy of the text, and snippet() reads it from `messages`. Deleted and system messages are never indexed.
-- The index must hold exactly what the triggers below put in it: removing an entry needs the text it was
-- indexed with, which the triggers have in OLD. So never write `messages.content` with triggers disabled,
-- and never run the 'rebuild' command (it would index system messages and tombstones).
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN NEW.kind = 'user' AND NEW.deleted_at IS NULL
BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (NEW.id, NEW.content);
END;

-- Also runs for the rows a room deletion cascades to.
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN OLD.kind = 'user' AND OLD.deleted_at IS NULL
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', OLD.id, OLD.content);
END;

-- An edit re-indexes; a deletion only un-indexes. The old entry goes first, in one trigger, so that words
-- shared by the old and new text stay indexed.
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, deleted_at ON messages
WHEN OLD.kind = 'user'
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', OLD.id, OLD.content WHERE OLD.deleted_at IS NULL;
    INSERT INTO messages_fts (rowid, content)
        SELECT NEW.id, NEW.content WHERE NEW.deleted_at IS NULL;
END;
