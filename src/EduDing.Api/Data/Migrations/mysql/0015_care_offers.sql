-- After-school places (docs/after-school.md): a freed elective place is offered to the next family with a claim window
-- (offer_expires_at; offer_notified_at claims the family's message once); a ranked-choice (志愿) elective's place keeps
-- the family's rank for it, and each program's ranked-choice batch is recorded with its seed and order like a lottery;
-- changes to a day's roll after the day are requests, decided through the approvals platform; outside providers a
-- school whitelists for electives (机构白名单), an elective's provider, and when a basic care group's school was told that
-- the group holds more children than its capacity (应保尽保: open another group); and the classes a group is for, when
-- it is formed by class rather than by grade.
ALTER TABLE care_places
    ADD COLUMN choice_rank INT NULL,
    ADD COLUMN offer_expires_at DATETIME(6) NULL,
    ADD COLUMN offer_notified_at DATETIME(6) NULL,
    ADD KEY ix_care_places_offers (status, offer_expires_at);
ALTER TABLE care_offerings
    ADD COLUMN provider_id BIGINT NULL,
    ADD COLUMN capacity_alerted_at DATETIME(6) NULL,
    ADD COLUMN class_ids VARCHAR(2000) NULL;

CREATE TABLE care_batches (
    program_id BIGINT NOT NULL PRIMARY KEY,
    seed VARCHAR(64) NOT NULL,
    drawn MEDIUMTEXT NOT NULL,
    run_at DATETIME(6) NOT NULL,
    run_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE care_roll_corrections (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    offering_id BIGINT NOT NULL,
    application_id BIGINT NOT NULL,
    day DATE NOT NULL,
    from_status VARCHAR(16) NULL,
    to_status VARCHAR(16) NOT NULL,
    reason VARCHAR(200) NOT NULL,
    requested_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    requested_at DATETIME(6) NOT NULL,
    status VARCHAR(16) NOT NULL,
    decided_at DATETIME(6) NULL,
    KEY ix_care_roll_corrections_day (offering_id, day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE care_providers (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    name VARCHAR(100) NOT NULL,
    credit_code VARCHAR(32) COLLATE utf8mb4_bin NOT NULL,
    contact VARCHAR(50) NOT NULL,
    phone VARCHAR(32) NOT NULL,
    qualifications VARCHAR(500) NULL,
    status VARCHAR(16) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    created_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    UNIQUE KEY ux_care_providers_code (corp_id, credit_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
