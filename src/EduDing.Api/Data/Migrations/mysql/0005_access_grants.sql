-- Time-limited grants: a school's admin lets one named bureau person read that school's identifiable student records
-- for a stated purpose until expires_at (least privilege, domain-rules §4).
CREATE TABLE access_grants (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    school_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    grantee_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    grantee_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    purpose VARCHAR(500) NOT NULL,
    granted_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    granted_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    revoked_at DATETIME(6) NULL,
    INDEX ix_access_grants_grantee (grantee_corp_id, grantee_user_id, school_corp_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
