-- Friends, blocks and rooms. Times are unix milliseconds. Users are anonymised rather than deleted, but the
-- foreign keys still say what a hard delete of a user row would take along.

-- A pending friend request. Accepting, rejecting or cancelling deletes the row, so every row is pending.
-- AUTOINCREMENT: an id is never reused, so a stale id held by a client cannot name a newer request.
CREATE TABLE friend_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    from_user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    to_user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    CHECK (from_user_id <> to_user_id)
) STRICT;

-- At most one pending request per pair, whichever side sent it: a request to someone who already asked
-- is an acceptance, never a second row.
CREATE UNIQUE INDEX friend_requests_pair
    ON friend_requests (min(from_user_id, to_user_id), max(from_user_id, to_user_id));
-- Incoming and outgoing lists, newest first.
CREATE INDEX friend_requests_to ON friend_requests (to_user_id, created_at);
CREATE INDEX friend_requests_from ON friend_requests (from_user_id, created_at);

-- One row per pair of friends, the smaller id first, so a pair cannot be stored twice.
CREATE TABLE friendships (
    user_a INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_b INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    since  INTEGER NOT NULL,
    PRIMARY KEY (user_a, user_b),
    CHECK (user_a < user_b)
) STRICT, WITHOUT ROWID;

-- Friends of a user who is the larger id of the pair (the primary key serves the smaller side).
CREATE INDEX friendships_user_b ON friendships (user_b, user_a);

CREATE TABLE blocks (
    blocker_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
) STRICT, WITHOUT ROWID;

-- For the cascade when a blocked user's row goes.
CREATE INDEX blocks_blocked ON blocks (blocked_id);

-- AUTOINCREMENT: ids of deleted rooms are never reused, so nothing that still names one (a client, a cache)
-- can reach a newer room through it.
CREATE TABLE rooms (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT NOT NULL CHECK (kind IN ('direct', 'group')),
    -- Empty for direct rooms.
    name             TEXT NOT NULL DEFAULT '',
    topic            TEXT NOT NULL DEFAULT '',
    -- '<smaller user id>:<larger user id>' for a direct room, NULL for a group. UNIQUE makes concurrent
    -- creation from both sides end in one room.
    direct_key       TEXT UNIQUE,
    -- NULL if the creator's row was removed.
    created_by       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    -- Moves with every message (and system message), for ordering a user's rooms.
    last_activity_at INTEGER NOT NULL,
    -- Seq of the newest message; messages take last_seq + 1 in the writer's transaction, so seqs are
    -- gap-free per room.
    last_seq         INTEGER NOT NULL DEFAULT 0,
    -- Kept by the triggers on room_members, so listing rooms does not count members.
    member_count     INTEGER NOT NULL DEFAULT 0,
    CHECK ((kind = 'direct') = (direct_key IS NOT NULL))
) STRICT;

CREATE TABLE room_members (
    room_id       INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_at     INTEGER NOT NULL,
    -- Read receipt: unread = rooms.last_seq - last_read_seq.
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
) STRICT, WITHOUT ROWID;

-- "My rooms".
CREATE INDEX room_members_user ON room_members (user_id);
-- A group has at most one owner; a hand-over demotes the old owner before promoting the new one.
CREATE UNIQUE INDEX room_members_owner ON room_members (room_id) WHERE role = 'owner';

CREATE TRIGGER room_members_count_insert AFTER INSERT ON room_members
BEGIN
    UPDATE rooms SET member_count = member_count + 1 WHERE id = NEW.room_id;
END;

CREATE TRIGGER room_members_count_delete AFTER DELETE ON room_members
BEGIN
    UPDATE rooms SET member_count = member_count - 1 WHERE id = OLD.room_id;
END;
