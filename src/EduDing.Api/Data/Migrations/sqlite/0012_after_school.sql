-- After-school care (docs/after-school.md). A school's calendar (only the days that differ from Mon–Fri school days
-- are stored: holidays, 调休 make-up days with the weekday they follow, cancelled days, seasonal end times); programs
-- per term or holiday with their weekday sessions and offerings (basic care groups, elective courses); guardians'
-- applications; each application's place in each offering it chose (held, enrolled, waitlisted, released, or applied
-- until an elective's lottery is drawn) with its place in the queue; and each lottery drawn, with its seed and order.
CREATE TABLE school_calendar_days (
    corp_id TEXT NOT NULL,
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    follows_weekday INTEGER NULL,
    ends_at TEXT NULL,
    note TEXT NULL,
    updated_at TEXT NOT NULL,
    updated_by_user_id TEXT NOT NULL,
    PRIMARY KEY (corp_id, day)
);

CREATE TABLE care_programs (
    id INTEGER PRIMARY KEY,
    corp_id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    signup_opens_at TEXT NOT NULL,
    signup_closes_at TEXT NOT NULL,
    grade_levels TEXT NOT NULL,
    status TEXT NOT NULL,
    terms TEXT NOT NULL,
    terms_version INTEGER NOT NULL,
    fee_unit TEXT NOT NULL,
    safety_notes TEXT NULL,
    created_at TEXT NOT NULL,
    created_by_user_id TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX ix_care_programs_corp ON care_programs (corp_id, status);

CREATE TABLE care_program_sessions (
    program_id INTEGER NOT NULL,
    weekday INTEGER NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    PRIMARY KEY (program_id, weekday)
);

CREATE TABLE care_offerings (
    id INTEGER PRIMARY KEY,
    program_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    grade_levels TEXT NOT NULL,
    teacher_user_id TEXT NULL,
    content_type TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    fee_cents INTEGER NOT NULL,
    allocation TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_care_offerings_program ON care_offerings (program_id);

CREATE TABLE care_applications (
    id INTEGER PRIMARY KEY,
    program_id INTEGER NOT NULL,
    corp_id TEXT NOT NULL,
    student_user_id TEXT NOT NULL,
    class_id INTEGER NOT NULL,
    guardian_corp_id TEXT NOT NULL,
    guardian_user_id TEXT NOT NULL,
    on_behalf_by_user_id TEXT NULL,
    weekdays TEXT NOT NULL,
    pickup TEXT NOT NULL,
    priority TEXT NULL,
    exemption TEXT NULL,
    terms_version INTEGER NOT NULL,
    status TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    decided_at TEXT NULL
);
CREATE UNIQUE INDEX ux_care_applications_student ON care_applications (program_id, student_user_id);
CREATE INDEX ix_care_applications_guardian ON care_applications (guardian_corp_id, guardian_user_id);

CREATE TABLE care_places (
    application_id INTEGER NOT NULL,
    offering_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    queue_position INTEGER NOT NULL,
    enrolled_at TEXT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (application_id, offering_id)
);
CREATE INDEX ix_care_places_offering ON care_places (offering_id, status, queue_position);

CREATE TABLE care_lotteries (
    offering_id INTEGER NOT NULL PRIMARY KEY,
    seed TEXT NOT NULL,
    drawn TEXT NOT NULL,
    run_at TEXT NOT NULL,
    run_by_user_id TEXT NOT NULL
);
