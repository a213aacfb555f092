-- After-school places (docs/after-school.md): a freed elective place is offered to the next family with a claim window
-- (offer_expires_at; offer_notified_at claims the family's message once); a ranked-choice (志愿) elective's place keeps
-- the family's rank for it, and each program's ranked-choice batch is recorded with its seed and order like a lottery;
-- changes to a day's roll after the day are requests, decided through the approvals platform.
ALTER TABLE care_places
    ADD COLUMN choice_rank INT NULL,
    ADD COLUMN offer_expires_at DATETIME(6) NULL,
    ADD COLUMN offer_notified_at DATETIME(6) NULL,
    ADD KEY ix_care_places_offers (status, offer_expires_at);

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
