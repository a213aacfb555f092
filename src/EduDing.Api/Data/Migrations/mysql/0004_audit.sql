-- Every read or export of identifiable student data and every decision: who, when, which students, why, and whether
-- it was allowed. Kept at least 3 years (PIPL art. 56); never updated.
CREATE TABLE audit_log (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at DATETIME(6) NOT NULL,
    actor_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    actor_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    action VARCHAR(64) NOT NULL,
    subject_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    student_user_ids TEXT NOT NULL,
    reason VARCHAR(500) NOT NULL,
    outcome VARCHAR(16) NOT NULL,
    INDEX ix_audit_log_subject (subject_corp_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
