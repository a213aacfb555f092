-- Guardians' requests about their child's data (PIPL art. 44–47, docs/privacy.md): a correction or a deletion, decided by
-- the school's admins through the approvals platform; outcome says what was done, or why not.
CREATE TABLE data_requests (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    student_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    kind VARCHAR(20) COLLATE utf8mb4_bin NOT NULL,
    purpose VARCHAR(40) COLLATE utf8mb4_bin NULL,
    detail VARCHAR(1000) NOT NULL,
    guardian_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    guardian_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    status VARCHAR(20) COLLATE utf8mb4_bin NOT NULL,
    outcome VARCHAR(1000) NULL,
    approval_id BIGINT NULL,
    created_at DATETIME(6) NOT NULL,
    decided_at DATETIME(6) NULL,
    INDEX ix_data_requests_student (corp_id, student_user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
