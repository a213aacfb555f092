-- After-school places (docs/after-school.md): a freed elective place is offered to the next family with a claim window
-- (offer_expires_at; offer_notified_at claims the family's message once); a ranked-choice (志愿) elective's place keeps
-- the family's rank for it, and each program's ranked-choice batch is recorded with its seed and order like a lottery;
-- changes to a day's roll after the day are requests, decided through the approvals platform; outside providers a
-- school whitelists for electives (机构白名单), an elective's provider, and when a basic care group's school was told that
-- the group holds more children than its capacity (应保尽保: open another group); and the classes a group is for, when
-- it is formed by class rather than by grade.
ALTER TABLE care_places ADD COLUMN choice_rank INTEGER NULL;
ALTER TABLE care_places ADD COLUMN offer_expires_at TEXT NULL;
ALTER TABLE care_places ADD COLUMN offer_notified_at TEXT NULL;
CREATE INDEX ix_care_places_offers ON care_places (status, offer_expires_at);
ALTER TABLE care_offerings ADD COLUMN provider_id INTEGER NULL;
ALTER TABLE care_offerings ADD COLUMN capacity_alerted_at TEXT NULL;
ALTER TABLE care_offerings ADD COLUMN class_ids TEXT NULL;

CREATE TABLE care_batches (
    program_id INTEGER NOT NULL PRIMARY KEY,
    seed TEXT NOT NULL,
    drawn TEXT NOT NULL,
    run_at TEXT NOT NULL,
    run_by_user_id TEXT NOT NULL
);

CREATE TABLE care_roll_corrections (
    id INTEGER PRIMARY KEY,
    offering_id INTEGER NOT NULL,
    application_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    from_status TEXT NULL,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_by_user_id TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_at TEXT NULL
);
CREATE INDEX ix_care_roll_corrections_day ON care_roll_corrections (offering_id, day);

CREATE TABLE care_providers (
    id INTEGER PRIMARY KEY,
    corp_id TEXT NOT NULL,
    name TEXT NOT NULL,
    credit_code TEXT NOT NULL,
    contact TEXT NOT NULL,
    phone TEXT NOT NULL,
    qualifications TEXT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by_user_id TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX ux_care_providers_code ON care_providers (corp_id, credit_code);
