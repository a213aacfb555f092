-- 明眸 eye health: screening rounds, one current record per student per round (corrections kept in history),
-- statistics cells, referrals, imports and the 明眸 classrooms.
CREATE TABLE vision_rounds (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    school_year INTEGER NOT NULL,
    name TEXT NOT NULL,
    corp_id TEXT NULL,
    opens_on TEXT NOT NULL,
    closes_on TEXT NOT NULL,
    rescreen_of INTEGER NULL,
    created_by_corp_id TEXT NOT NULL,
    created_by_user_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- The classes a round covers, with their enrolment when it opened (the coverage denominator).
CREATE TABLE vision_round_classes (
    round_id INTEGER NOT NULL,
    corp_id TEXT NOT NULL,
    class_id INTEGER NOT NULL,
    class_name TEXT NOT NULL,
    grade_level INTEGER NULL,
    period_id INTEGER NULL,
    period_name TEXT NULL,
    enrolled INTEGER NOT NULL,
    PRIMARY KEY (round_id, corp_id, class_id)
);

CREATE TABLE vision_round_schools (
    round_id INTEGER NOT NULL,
    corp_id TEXT NOT NULL,
    published_at TEXT NULL,
    published_by_user_id TEXT NULL,
    PRIMARY KEY (round_id, corp_id)
);

CREATE TABLE vision_records (
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
    PRIMARY KEY (round_id, corp_id, student_user_id)
);
CREATE INDEX ix_vision_records_class ON vision_records (round_id, corp_id, class_id);
CREATE INDEX ix_vision_records_student ON vision_records (corp_id, student_user_id, round_id);

-- Earlier versions of a record, copied here when it is corrected: who entered what, and when, stays visible.
CREATE TABLE vision_record_history (
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
    superseded_at TEXT NOT NULL,
    PRIMARY KEY (round_id, corp_id, student_user_id, version)
);

-- Counts per round, class, sex and age, rebuilt for a class whenever one of its records changes: every statistic
-- is a sum over these cells, never a scan of the records.
CREATE TABLE vision_stat_cells (
    round_id INTEGER NOT NULL,
    corp_id TEXT NOT NULL,
    class_id INTEGER NOT NULL,
    sex TEXT NOT NULL,
    age_years INTEGER NOT NULL,
    screened INTEGER NOT NULL,
    valid INTEGER NOT NULL,
    myopic INTEGER NOT NULL,
    myopia_low INTEGER NOT NULL,
    myopia_moderate INTEGER NOT NULL,
    myopia_high INTEGER NOT NULL,
    ok_lens INTEGER NOT NULL,
    poor_known INTEGER NOT NULL,
    poor_vision INTEGER NOT NULL,
    poor_mild INTEGER NOT NULL,
    poor_moderate INTEGER NOT NULL,
    poor_severe INTEGER NOT NULL,
    PRIMARY KEY (round_id, corp_id, class_id, sex, age_years)
);

CREATE TABLE vision_imports (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL,
    corp_id TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    mode TEXT NOT NULL,
    total_rows INTEGER NOT NULL,
    bad_rows INTEGER NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    errors TEXT NOT NULL,
    imported_by_user_id TEXT NOT NULL,
    imported_at TEXT NOT NULL
);

CREATE TABLE vision_referrals (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL,
    corp_id TEXT NOT NULL,
    student_user_id TEXT NOT NULL,
    class_id INTEGER NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    acknowledged_at TEXT NULL,
    acknowledged_by_user_id TEXT NULL,
    visit_date TEXT NULL,
    hospital TEXT NULL,
    diagnosis TEXT NULL,
    prescription TEXT NULL,
    reported_at TEXT NULL,
    last_reminded_at TEXT NULL,
    cancelled_at TEXT NULL,
    UNIQUE (round_id, corp_id, student_user_id)
);
CREATE INDEX ix_vision_referrals_class ON vision_referrals (corp_id, class_id, status);

-- 明眸 classrooms: eye-care lighting and height-adjustable desks per classroom (seed 专栏3: 100%).
CREATE TABLE vision_classrooms (
    corp_id TEXT NOT NULL,
    classroom_id TEXT NOT NULL,
    name TEXT NOT NULL,
    lighting_renovated_on TEXT NULL,
    desks INTEGER NOT NULL,
    adjustable_desks INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by_user_id TEXT NOT NULL,
    PRIMARY KEY (corp_id, classroom_id)
);
