-- After-school care, the daily loop (docs/after-school.md): leave reported by families, one-day delegates (代接), the
-- roll per offering and day, pickup handovers, and the alerts already sent (claimed here, one per child, day and kind).
CREATE TABLE care_leaves (
    id INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL,
    from_day TEXT NOT NULL,
    to_day TEXT NOT NULL,
    reason TEXT NOT NULL,
    reported_by_corp_id TEXT NOT NULL,
    reported_by_user_id TEXT NOT NULL,
    reported_at TEXT NOT NULL
);
CREATE INDEX ix_care_leaves_application ON care_leaves (application_id, from_day);

CREATE TABLE care_delegates (
    application_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    name TEXT NOT NULL,
    relation TEXT NOT NULL,
    phone TEXT NOT NULL,
    set_by_user_id TEXT NOT NULL,
    set_at TEXT NOT NULL,
    PRIMARY KEY (application_id, day)
);

CREATE TABLE care_roll (
    application_id INTEGER NOT NULL,
    offering_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    status TEXT NOT NULL,
    late_entry INTEGER NOT NULL,
    marked_by_user_id TEXT NOT NULL,
    marked_at TEXT NOT NULL,
    PRIMARY KEY (application_id, offering_id, day)
);
CREATE INDEX ix_care_roll_day ON care_roll (offering_id, day);

CREATE TABLE care_handovers (
    application_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    collected_by TEXT NOT NULL,
    relation TEXT NOT NULL,
    listed INTEGER NOT NULL,
    reason TEXT NULL,
    recorded_by_user_id TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (application_id, day)
);

CREATE TABLE care_alerts (
    application_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (application_id, day, kind)
);
