-- Retention and 学籍 transfer (docs/privacy.md). When a student who left one school appears in another school of the same
-- unionId space within the transfer window, their vision history is copied to the receiving school
-- (vision_records_transferred, under the receiving school's ids; never part of either school's statistics) and the
-- transfer is recorded once (student_transfers). retention_runs reports what each run of the retention job did.
CREATE TABLE vision_records_transferred (
    round_id INTEGER NOT NULL,
    corp_id TEXT NOT NULL,
    student_user_id TEXT NOT NULL,
    class_id INTEGER NOT NULL,
    sex TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    screened_on TEXT NOT NULL,
    age_years INTEGER NOT NULL,
    glasses TEXT NOT NULL,
    ucva_r TEXT NULL, ucva_l TEXT NULL,
    walk_distance_r TEXT NULL, walk_distance_l TEXT NULL,
    cva_r TEXT NULL, cva_l TEXT NULL,
    sphere_r TEXT NULL, cylinder_r TEXT NULL, axis_r INTEGER NULL,
    sphere_l TEXT NULL, cylinder_l TEXT NULL, axis_l INTEGER NULL,
    axial_length_r TEXT NULL, axial_length_l TEXT NULL,
    not_testable_reason TEXT NULL,
    se_r TEXT NULL, se_l TEXT NULL,
    poor_vision TEXT NULL,
    myopic INTEGER NULL,
    myopia_grade TEXT NULL,
    valid INTEGER NOT NULL,
    follow_up INTEGER NOT NULL,
    below_age_norm INTEGER NOT NULL,
    needs_referral INTEGER NOT NULL,
    rule_set TEXT NOT NULL,
    input_hash TEXT NOT NULL,
    version INTEGER NOT NULL,
    source TEXT NOT NULL,
    entered_by_corp_id TEXT NOT NULL,
    entered_by_user_id TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    from_corp_id TEXT NOT NULL,
    from_student_user_id TEXT NOT NULL,
    transferred_at TEXT NOT NULL,
    PRIMARY KEY (corp_id, student_user_id, round_id, from_corp_id)
);

CREATE TABLE student_transfers (
    from_corp_id TEXT NOT NULL,
    from_student_user_id TEXT NOT NULL,
    to_corp_id TEXT NOT NULL,
    to_student_user_id TEXT NOT NULL,
    records INTEGER NOT NULL,
    transferred_at TEXT NOT NULL,
    PRIMARY KEY (from_corp_id, from_student_user_id)
);

CREATE TABLE retention_runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    transfers INTEGER NOT NULL,
    transferred_records INTEGER NOT NULL,
    vision_erased INTEGER NOT NULL,
    care_erased INTEGER NOT NULL,
    care_held INTEGER NOT NULL
);

CREATE INDEX ix_students_removed ON students (removed_at);
