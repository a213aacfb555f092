-- Login sessions: one per sign-in, holding the hash of its current refresh secret. Refreshing rotates the secret;
-- presenting an old one revokes the session (the secret was copied).
CREATE TABLE sessions (
    id TEXT NOT NULL PRIMARY KEY,
    refresh_hash TEXT NOT NULL,
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    union_id TEXT NULL,
    created_at TEXT NOT NULL,
    refreshed_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT NULL,
    revoked_reason TEXT NULL
);
CREATE INDEX ix_sessions_user ON sessions (corp_id, user_id);
