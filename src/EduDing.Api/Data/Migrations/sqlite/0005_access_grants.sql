-- Time-limited grants: a school's admin lets one named bureau person read that school's identifiable student records
-- for a stated purpose until expires_at (least privilege, domain-rules §4).
CREATE TABLE access_grants (
    id INTEGER PRIMARY KEY,
    school_corp_id TEXT NOT NULL,
    grantee_corp_id TEXT NOT NULL,
    grantee_user_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    granted_by_user_id TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT NULL
);
CREATE INDEX ix_access_grants_grantee ON access_grants (grantee_corp_id, grantee_user_id, school_corp_id);
