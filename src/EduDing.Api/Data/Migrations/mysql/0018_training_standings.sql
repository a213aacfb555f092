-- Kept city standings for the training report (docs/training.md), and a profile that may keep a teacher's roles
-- without a cycle start of their own.
ALTER TABLE training_cycle_overrides MODIFY cycle_start_year INT NULL;


-- The city report's standings, kept between requests (docs/training.md): one row per teacher account as computed at
-- computed_at under the rules of rules_hash, and the accounts whose records it was computed from. A row is recomputed
-- when it is missing, from an earlier day or other rules, or when one of its accounts' records changed after it. The
-- credits counted by domain (d1–d7), level (l_*) and training level (tl_*) are columns, for the report's sums.
CREATE TABLE training_standings (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    computed_at DATETIME(6) NOT NULL,
    rules_hash VARCHAR(64) NOT NULL,
    cycle_start INT NOT NULL,
    cycle_years INT NOT NULL,
    total DECIMAL(9,2) NOT NULL,
    complete TINYINT(1) NOT NULL,
    registration VARCHAR(16) NOT NULL,
    risk TINYINT NOT NULL,
    years_met INT NOT NULL,
    d1 DECIMAL(11,2) NOT NULL,
    d2 DECIMAL(11,2) NOT NULL,
    d3 DECIMAL(11,2) NOT NULL,
    d4 DECIMAL(11,2) NOT NULL,
    d5 DECIMAL(11,2) NOT NULL,
    d6 DECIMAL(11,2) NOT NULL,
    d7 DECIMAL(11,2) NOT NULL,
    l_basic DECIMAL(11,2) NOT NULL,
    l_intermediate DECIMAL(11,2) NOT NULL,
    l_advanced DECIMAL(11,2) NOT NULL,
    tl_province DECIMAL(11,2) NOT NULL,
    tl_city DECIMAL(11,2) NOT NULL,
    tl_county DECIMAL(11,2) NOT NULL,
    tl_school DECIMAL(11,2) NOT NULL,
    tl_other DECIMAL(11,2) NOT NULL,
    reasons TEXT NOT NULL,
    PRIMARY KEY (corp_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE training_standing_accounts (
    standing_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    standing_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    PRIMARY KEY (standing_corp_id, standing_user_id, corp_id, user_id),
    KEY ix_training_standing_accounts_account (corp_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE INDEX ix_training_standings_computed ON training_standings (computed_at);

-- What changed since a standing was computed is found by these timestamps.
CREATE INDEX ix_training_credits_created ON training_credits (created_at);
CREATE INDEX ix_training_credits_decided ON training_credits (decided_at);
CREATE INDEX ix_training_appraisals_recorded ON training_appraisals (recorded_at);
CREATE INDEX ix_training_enrolments_result ON training_enrolments (result_at);

-- The teachers at risk, 不合格 (risk 0) then 暂缓 (1), fewest credits first: read in index order up to the report's limit.
CREATE INDEX ix_training_standings_risk ON training_standings (risk, total, corp_id, user_id);
