-- After-school teachers' duty and fees (docs/after-school.md): the cover named for a group's session when its teacher is
-- away; each teacher's sign-in for a session with the session's length that day (the basis of hours for pay); and the
-- payment status of each application and period, as the school's finance office records it; and the end-of-term
-- parent survey, one answer per application and offering.
CREATE TABLE care_covers (
    offering_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    teacher_user_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    set_by_user_id TEXT NOT NULL,
    set_at TEXT NOT NULL,
    PRIMARY KEY (offering_id, day)
);

CREATE TABLE care_duty (
    offering_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    teacher_corp_id TEXT NOT NULL,
    teacher_user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    minutes INTEGER NOT NULL,
    signed_at TEXT NOT NULL,
    PRIMARY KEY (offering_id, day, teacher_user_id)
);
CREATE INDEX ix_care_duty_day ON care_duty (day, offering_id);

CREATE TABLE care_payments (
    application_id INTEGER NOT NULL,
    period TEXT NOT NULL,
    status TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    note TEXT NULL,
    recorded_by_user_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (application_id, period)
);

CREATE TABLE care_survey (
    application_id INTEGER NOT NULL,
    offering_id INTEGER NOT NULL,
    teacher_user_id TEXT NULL,
    rating INTEGER NOT NULL,
    comment TEXT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (application_id, offering_id)
);
