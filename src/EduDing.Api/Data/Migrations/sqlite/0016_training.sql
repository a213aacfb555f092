-- Teacher training credits (docs/training.md): each credit of a teacher's account in a corp (a person's accounts are
-- joined through the cross-corp identity when read), claimed by the teacher and decided through the approvals platform
-- or recorded by the school; each year's annual appraisal result; and the city's and schools' own trainings.
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

-- City and school trainings: sessions with a sign-in code (the QR code or link shown on the spot), enrolments decided
-- by the teacher's school, sign-ins within the session's window, and the organiser's result per trainee with the
-- credit it gave and the certificate's verification code.
CREATE TABLE trainings (
    id INTEGER PRIMARY KEY,
    organiser_corp_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    title TEXT NOT NULL,
    domain INTEGER NOT NULL,
    level TEXT NOT NULL,
    credits NUMERIC NOT NULL,
    capacity INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    created_by_user_id TEXT NOT NULL
);

CREATE TABLE training_sessions (
    id INTEGER PRIMARY KEY,
    training_id INTEGER NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    place TEXT NOT NULL,
    sign_in_code TEXT NOT NULL
);
CREATE INDEX ix_training_sessions_training ON training_sessions (training_id);

CREATE TABLE training_enrolments (
    training_id INTEGER NOT NULL,
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT NULL,
    credit_id INTEGER NULL,
    certificate_code TEXT NULL,
    enrolled_at TEXT NOT NULL,
    result_at TEXT NULL,
    PRIMARY KEY (training_id, corp_id, user_id)
);
CREATE UNIQUE INDEX ux_training_enrolments_certificate ON training_enrolments (certificate_code);

CREATE TABLE training_sign_ins (
    session_id INTEGER NOT NULL,
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    PRIMARY KEY (session_id, corp_id, user_id)
);
