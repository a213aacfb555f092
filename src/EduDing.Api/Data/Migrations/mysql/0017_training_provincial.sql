-- The provincial platform's records (docs/training.md): imported as credits of source 'provincial', each with the key
-- of its row (the teacher's account and the platform's project code) so that a re-import updates instead of adding,
-- and the training level (省/市/县/校). A local credit that a provincial record replaces is 'superseded' by it.
ALTER TABLE training_credits ADD COLUMN provincial_key VARCHAR(200) COLLATE utf8mb4_bin NULL;
ALTER TABLE training_credits ADD COLUMN training_level VARCHAR(16) NULL;
ALTER TABLE training_credits ADD COLUMN superseded_by BIGINT NULL;
CREATE UNIQUE INDEX ux_training_credits_provincial ON training_credits (provincial_key);

CREATE TABLE training_imports (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    file_sha256 VARCHAR(64) NOT NULL,
    file_name VARCHAR(200) NOT NULL,
    total_rows INT NOT NULL,
    good_rows INT NOT NULL,
    created INT NOT NULL,
    updated INT NOT NULL,
    unchanged INT NOT NULL,
    superseded INT NOT NULL,
    imported_by_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    imported_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    imported_at DATETIME(6) NOT NULL,
    KEY ix_training_imports_corp (corp_id, imported_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Annual closing: a school confirms its teachers' year, the bureau locks it (credits of a locked year no longer change),
-- and a correction reopens it for one school through an approved request.
CREATE TABLE training_years (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    year INT NOT NULL,
    confirmed_at DATETIME(6) NULL,
    confirmed_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    locked_at DATETIME(6) NULL,
    locked_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    reopened_at DATETIME(6) NULL,
    PRIMARY KEY (corp_id, year)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- 定期注册 runs: every teacher's figures and reasons frozen as they were; later changes do not alter them.
CREATE TABLE training_registration_runs (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    cycle_start_year INT NOT NULL,
    teachers INT NOT NULL,
    passed INT NOT NULL,
    deferred INT NOT NULL,
    failed INT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    created_by_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    created_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE training_registration_rows (
    run_id BIGINT NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    name VARCHAR(200) NOT NULL,
    total DECIMAL(9,2) NOT NULL,
    outcome VARCHAR(16) NOT NULL,
    reasons TEXT NOT NULL,
    PRIMARY KEY (run_id, corp_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A city training's places shared out among schools (none: first come across the city).
CREATE TABLE training_quotas (
    training_id BIGINT NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    places INT NOT NULL,
    PRIMARY KEY (training_id, corp_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A claim's evidence file (a certificate: PDF, PNG or JPEG within Training:EvidenceMaxBytes), kept in the database so
-- that every instance serves it.
CREATE TABLE training_evidence (
    credit_id BIGINT NOT NULL PRIMARY KEY,
    file_name VARCHAR(200) NOT NULL,
    content_type VARCHAR(64) NOT NULL,
    size INT NOT NULL,
    sha256 VARCHAR(64) NOT NULL,
    content LONGBLOB NOT NULL,
    uploaded_at DATETIME(6) NOT NULL,
    uploaded_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Prior approval (事前审批) for training at an institution that did not pass the province's vetting: asked by the
-- teacher before the training, decided by the school; the claim afterwards names it (once).
CREATE TABLE training_prior_approvals (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    title VARCHAR(100) NOT NULL,
    organiser VARCHAR(100) NOT NULL,
    starts_on DATE NOT NULL,
    status VARCHAR(16) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    decided_at DATETIME(6) NULL,
    KEY ix_training_prior_approvals_teacher (corp_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
ALTER TABLE training_credits ADD COLUMN prior_approval_id BIGINT NULL;
CREATE UNIQUE INDEX ux_training_credits_prior_approval ON training_credits (prior_approval_id);

-- A teacher's profile as the school records it: their own cycle start where it differs from the city's (joined
-- mid-cycle, back from long leave), and role periods with their own training (新任教师 probation, 新任校长).
CREATE TABLE training_cycle_overrides (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    cycle_start_year INT NOT NULL,
    recorded_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    recorded_at DATETIME(6) NOT NULL,
    PRIMARY KEY (corp_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE training_roles (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    role VARCHAR(32) NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE NULL,
    recorded_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    recorded_at DATETIME(6) NOT NULL,
    KEY ix_training_roles_teacher (corp_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A training may be mandatory for a target group (all teachers, new teachers, class advisers) of its scope.
ALTER TABLE trainings ADD COLUMN mandatory_for VARCHAR(32) NULL;

-- Reminders sent: one message per teacher, kind and reminder date, claimed before it is sent (several instances).
CREATE TABLE training_reminders (
    reminder_on DATE NOT NULL,
    kind VARCHAR(32) NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    sent_at DATETIME(6) NOT NULL,
    PRIMARY KEY (reminder_on, kind, corp_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One training's credits split across knowledge domains and levels: a credit's (or a training's) parts, summing to its
-- credits; a credit without parts counts wholly in its own domain and level.
CREATE TABLE training_credit_parts (
    credit_id BIGINT NOT NULL,
    domain INT NOT NULL,
    level VARCHAR(16) NOT NULL,
    credits DECIMAL(7,2) NOT NULL,
    PRIMARY KEY (credit_id, domain, level)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE training_parts (
    training_id BIGINT NOT NULL,
    domain INT NOT NULL,
    level VARCHAR(16) NOT NULL,
    credits DECIMAL(7,2) NOT NULL,
    PRIMARY KEY (training_id, domain, level)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
