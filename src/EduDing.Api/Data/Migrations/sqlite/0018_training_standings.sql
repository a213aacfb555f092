-- Kept city standings for the training report (docs/training.md), and a profile that may keep a teacher's roles
-- without a cycle start of their own (SQLite changes a column's nullability by copying the table).
CREATE TABLE training_cycle_overrides_new (
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    cycle_start_year INTEGER NULL,
    recorded_by_user_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (corp_id, user_id)
);
INSERT INTO training_cycle_overrides_new (corp_id, user_id, cycle_start_year, recorded_by_user_id, recorded_at)
SELECT corp_id, user_id, cycle_start_year, recorded_by_user_id, recorded_at FROM training_cycle_overrides;
DROP TABLE training_cycle_overrides;
ALTER TABLE training_cycle_overrides_new RENAME TO training_cycle_overrides;


-- The city report's standings, kept between requests (docs/training.md): one row per teacher account as computed at
-- computed_at under the rules of rules_hash, and the accounts whose records it was computed from. A row is recomputed
-- when it is missing, from an earlier day or other rules, or when one of its accounts' records changed after it. The
-- credits counted by domain (d1–d7), level (l_*) and training level (tl_*) are columns, for the report's sums.
CREATE TABLE training_standings (
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    computed_at TEXT NOT NULL,
    rules_hash TEXT NOT NULL,
    cycle_start INTEGER NOT NULL,
    cycle_years INTEGER NOT NULL,
    total NUMERIC NOT NULL,
    complete INTEGER NOT NULL,
    registration TEXT NOT NULL,
    risk INTEGER NOT NULL,
    years_met INTEGER NOT NULL,
    d1 NUMERIC NOT NULL,
    d2 NUMERIC NOT NULL,
    d3 NUMERIC NOT NULL,
    d4 NUMERIC NOT NULL,
    d5 NUMERIC NOT NULL,
    d6 NUMERIC NOT NULL,
    d7 NUMERIC NOT NULL,
    l_basic NUMERIC NOT NULL,
    l_intermediate NUMERIC NOT NULL,
    l_advanced NUMERIC NOT NULL,
    tl_province NUMERIC NOT NULL,
    tl_city NUMERIC NOT NULL,
    tl_county NUMERIC NOT NULL,
    tl_school NUMERIC NOT NULL,
    tl_other NUMERIC NOT NULL,
    reasons TEXT NOT NULL,
    PRIMARY KEY (corp_id, user_id)
);

CREATE TABLE training_standing_accounts (
    standing_corp_id TEXT NOT NULL,
    standing_user_id TEXT NOT NULL,
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (standing_corp_id, standing_user_id, corp_id, user_id)
);
CREATE INDEX ix_training_standing_accounts_account ON training_standing_accounts (corp_id, user_id);

CREATE INDEX ix_training_standings_computed ON training_standings (computed_at);

-- What changed since a standing was computed is found by these timestamps.
CREATE INDEX ix_training_credits_created ON training_credits (created_at);
CREATE INDEX ix_training_credits_decided ON training_credits (decided_at);
CREATE INDEX ix_training_appraisals_recorded ON training_appraisals (recorded_at);
CREATE INDEX ix_training_enrolments_result ON training_enrolments (result_at);

-- The teachers at risk, 不合格 (risk 0) then 暂缓 (1), fewest credits first: read in index order up to the report's limit.
CREATE INDEX ix_training_standings_risk ON training_standings (risk, total, corp_id, user_id);
