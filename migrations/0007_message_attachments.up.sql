-- Attachments of messages (issue 7): a message names up to 10 of its sender's uploads, in order. An asset that
-- is destroyed leaves the messages that showed it.
CREATE TABLE message_attachments (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL CHECK (position >= 0),
    asset_id   INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, position)
) STRICT, WITHOUT ROWID;

CREATE INDEX message_attachments_asset ON message_attachments (asset_id);
