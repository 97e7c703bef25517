DROP TABLE upload_sessions;
DROP TABLE assets;
