-- Login sessions: one per sign-in, holding the hash of its current refresh secret. Refreshing rotates the secret;
-- presenting an old one revokes the session (the secret was copied).
CREATE TABLE sessions (
    id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    refresh_hash CHAR(64) NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    union_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    created_at DATETIME(6) NOT NULL,
    refreshed_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    revoked_at DATETIME(6) NULL,
    revoked_reason VARCHAR(200) NULL,
    INDEX ix_sessions_user (corp_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
