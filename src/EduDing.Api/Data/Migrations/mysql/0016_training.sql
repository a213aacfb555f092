-- Teacher training credits (docs/training.md): each credit of a teacher's account in a corp (a person's accounts are
-- joined through the cross-corp identity when read), claimed by the teacher and decided through the approvals platform
-- or recorded by the school; each year's annual appraisal result; and the city's and schools' own trainings.
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

-- City and school trainings: sessions with a sign-in code (the QR code or link shown on the spot), enrolments decided
-- by the teacher's school, sign-ins within the session's window, and the organiser's result per trainee with the
-- credit it gave and the certificate's verification code.
CREATE TABLE trainings (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    organiser_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    scope VARCHAR(16) NOT NULL,
    title VARCHAR(100) NOT NULL,
    domain INT NOT NULL,
    level VARCHAR(16) NOT NULL,
    credits DECIMAL(7,2) NOT NULL,
    capacity INT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    created_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE training_sessions (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    training_id BIGINT NOT NULL,
    starts_at DATETIME(6) NOT NULL,
    ends_at DATETIME(6) NOT NULL,
    place VARCHAR(100) NOT NULL,
    sign_in_code VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    KEY ix_training_sessions_training (training_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE training_enrolments (
    training_id BIGINT NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    status VARCHAR(16) NOT NULL,
    result VARCHAR(16) NULL,
    credit_id BIGINT NULL,
    certificate_code VARCHAR(32) COLLATE utf8mb4_bin NULL,
    enrolled_at DATETIME(6) NOT NULL,
    result_at DATETIME(6) NULL,
    PRIMARY KEY (training_id, corp_id, user_id),
    UNIQUE KEY ux_training_enrolments_certificate (certificate_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE training_sign_ins (
    session_id BIGINT NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    signed_at DATETIME(6) NOT NULL,
    PRIMARY KEY (session_id, corp_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
