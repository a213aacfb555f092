-- The provincial platform's records (docs/training.md): imported as credits of source 'provincial', each with the key
-- of its row (the teacher's account and the platform's project code) so that a re-import updates instead of adding,
-- and the training level (省/市/县/校). A local credit that a provincial record replaces is 'superseded' by it.
ALTER TABLE training_credits ADD COLUMN provincial_key TEXT NULL;
ALTER TABLE training_credits ADD COLUMN training_level TEXT NULL;
ALTER TABLE training_credits ADD COLUMN superseded_by INTEGER NULL;
CREATE UNIQUE INDEX ux_training_credits_provincial ON training_credits (provincial_key);

CREATE TABLE training_imports (
    id INTEGER PRIMARY KEY,
    corp_id TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    total_rows INTEGER NOT NULL,
    good_rows INTEGER NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    superseded INTEGER NOT NULL,
    imported_by_corp_id TEXT NOT NULL,
    imported_by_user_id TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE INDEX ix_training_imports_corp ON training_imports (corp_id, imported_at);

-- Annual closing: a school confirms its teachers' year, the bureau locks it (credits of a locked year no longer change),
-- and a correction reopens it for one school through an approved request.
CREATE TABLE training_years (
    corp_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    confirmed_at TEXT NULL,
    confirmed_by_user_id TEXT NULL,
    locked_at TEXT NULL,
    locked_by_user_id TEXT NULL,
    reopened_at TEXT NULL,
    PRIMARY KEY (corp_id, year)
);

-- 定期注册 runs: every teacher's figures and reasons frozen as they were; later changes do not alter them.
CREATE TABLE training_registration_runs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    cycle_start_year INTEGER NOT NULL,
    teachers INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    deferred INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    created_by_corp_id TEXT NOT NULL,
    created_by_user_id TEXT NOT NULL
);

CREATE TABLE training_registration_rows (
    run_id INTEGER NOT NULL,
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    total NUMERIC NOT NULL,
    outcome TEXT NOT NULL,
    reasons TEXT NOT NULL,
    PRIMARY KEY (run_id, corp_id, user_id)
);

-- A city training's places shared out among schools (none: first come across the city).
CREATE TABLE training_quotas (
    training_id INTEGER NOT NULL,
    corp_id TEXT NOT NULL,
    places INTEGER NOT NULL,
    PRIMARY KEY (training_id, corp_id)
);

-- A claim's evidence file (a certificate: PDF, PNG or JPEG within Training:EvidenceMaxBytes), kept in the database so
-- that every instance serves it.
CREATE TABLE training_evidence (
    credit_id INTEGER NOT NULL PRIMARY KEY,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    uploaded_at TEXT NOT NULL,
    uploaded_by_user_id TEXT NOT NULL
);

-- Prior approval (事前审批) for training at an institution that did not pass the province's vetting: asked by the
-- teacher before the training, decided by the school; the claim afterwards names it (once).
CREATE TABLE training_prior_approvals (
    id INTEGER PRIMARY KEY,
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    title TEXT NOT NULL,
    organiser TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    decided_at TEXT NULL
);
CREATE INDEX ix_training_prior_approvals_teacher ON training_prior_approvals (corp_id, user_id);
ALTER TABLE training_credits ADD COLUMN prior_approval_id INTEGER NULL;
CREATE UNIQUE INDEX ux_training_credits_prior_approval ON training_credits (prior_approval_id);

-- A teacher's profile as the school records it: their own cycle start where it differs from the city's (joined
-- mid-cycle, back from long leave), and role periods with their own training (新任教师 probation, 新任校长).
CREATE TABLE training_cycle_overrides (
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    cycle_start_year INTEGER NOT NULL,
    recorded_by_user_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (corp_id, user_id)
);

CREATE TABLE training_roles (
    id INTEGER PRIMARY KEY,
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NULL,
    recorded_by_user_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX ix_training_roles_teacher ON training_roles (corp_id, user_id);

-- A training may be mandatory for a target group (all teachers, new teachers, class advisers) of its scope.
ALTER TABLE trainings ADD COLUMN mandatory_for TEXT NULL;

-- Reminders sent: one message per teacher, kind and reminder date, claimed before it is sent (several instances).
CREATE TABLE training_reminders (
    reminder_on TEXT NOT NULL,
    kind TEXT NOT NULL,
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (reminder_on, kind, corp_id, user_id)
);

-- One training's credits split across knowledge domains and levels: a credit's (or a training's) parts, summing to its
-- credits; a credit without parts counts wholly in its own domain and level.
CREATE TABLE training_credit_parts (
    credit_id INTEGER NOT NULL,
    domain INTEGER NOT NULL,
    level TEXT NOT NULL,
    credits NUMERIC NOT NULL,
    PRIMARY KEY (credit_id, domain, level)
);

CREATE TABLE training_parts (
    training_id INTEGER NOT NULL,
    domain INTEGER NOT NULL,
    level TEXT NOT NULL,
    credits NUMERIC NOT NULL,
    PRIMARY KEY (training_id, domain, level)
);
