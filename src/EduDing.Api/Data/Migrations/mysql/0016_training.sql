-- Teacher training credits (docs/training.md): each credit of a teacher's account in a corp (a person's accounts are
-- joined through the cross-corp identity when read), claimed by the teacher and decided through the approvals platform
-- or recorded by the school; and each year's annual appraisal result.
CREATE TABLE training_credits (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    kind VARCHAR(32) NOT NULL,
    source VARCHAR(32) NOT NULL,
    domain INT NOT NULL,
    level VARCHAR(16) NOT NULL,
    credits DECIMAL(7,2) NULL,
    hours DECIMAL(7,2) NULL,
    earned_on DATE NOT NULL,
    title VARCHAR(100) NOT NULL,
    organiser VARCHAR(100) NOT NULL,
    practical TINYINT(1) NOT NULL,
    concentrated TINYINT(1) NOT NULL,
    evidence_url VARCHAR(500) NULL,
    status VARCHAR(16) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    created_by_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    created_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    decided_at DATETIME(6) NULL,
    KEY ix_training_credits_teacher (corp_id, user_id, status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE training_appraisals (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    year INT NOT NULL,
    passed TINYINT(1) NOT NULL,
    recorded_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    recorded_at DATETIME(6) NOT NULL,
    PRIMARY KEY (corp_id, user_id, year)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
