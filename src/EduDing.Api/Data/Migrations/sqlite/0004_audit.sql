-- Every read or export of identifiable student data and every decision: who, when, which students, why, and whether
-- it was allowed. Kept at least 3 years (PIPL art. 56); never updated.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_corp_id TEXT NOT NULL,
    actor_user_id TEXT NOT NULL,
    action TEXT NOT NULL,
    subject_corp_id TEXT NOT NULL,
    student_user_ids TEXT NOT NULL,
    reason TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE INDEX ix_audit_log_subject ON audit_log (subject_corp_id, id);
