-- After-school teachers' duty (docs/after-school.md): the cover named for a group's session when its teacher is away,
-- and each teacher's sign-in for a session with the session's length that day (the basis of hours for pay).
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
