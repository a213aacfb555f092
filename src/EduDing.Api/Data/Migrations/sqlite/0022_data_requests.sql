-- Guardians' requests about their child's data (PIPL art. 44–47, docs/privacy.md): a correction or a deletion, decided by
-- the school's admins through the approvals platform; outcome says what was done, or why not.
CREATE TABLE data_requests (
    id INTEGER PRIMARY KEY,
    corp_id TEXT NOT NULL,
    student_user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    purpose TEXT NULL,
    detail TEXT NOT NULL,
    guardian_corp_id TEXT NOT NULL,
    guardian_user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT NULL,
    approval_id INTEGER NULL,
    created_at TEXT NOT NULL,
    decided_at TEXT NULL
);
CREATE INDEX ix_data_requests_student ON data_requests (corp_id, student_user_id);
