DROP INDEX users_updated_at;
DROP INDEX sessions_revoked_at;
