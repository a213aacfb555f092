-- Teacher training credits (docs/training.md): each credit of a teacher's account in a corp (a person's accounts are
-- joined through the cross-corp identity when read), claimed by the teacher and decided through the approvals platform
-- or recorded by the school; and each year's annual appraisal result.
CREATE TABLE training_credits (
    id INTEGER PRIMARY KEY,
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    domain INTEGER NOT NULL,
    level TEXT NOT NULL,
    credits NUMERIC NULL,
    hours NUMERIC NULL,
    earned_on TEXT NOT NULL,
    title TEXT NOT NULL,
    organiser TEXT NOT NULL,
    practical INTEGER NOT NULL,
    concentrated INTEGER NOT NULL,
    evidence_url TEXT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by_corp_id TEXT NOT NULL,
    created_by_user_id TEXT NOT NULL,
    decided_at TEXT NULL
);
CREATE INDEX ix_training_credits_teacher ON training_credits (corp_id, user_id, status);

CREATE TABLE training_appraisals (
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    recorded_by_user_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (corp_id, user_id, year)
);
