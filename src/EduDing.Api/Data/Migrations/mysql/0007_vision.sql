-- 明眸 eye health: screening rounds, one current record per student per round (corrections kept in history),
-- statistics cells, referrals, imports and the 明眸 classrooms.
CREATE TABLE vision_rounds (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind VARCHAR(32) NOT NULL,
    school_year INTEGER NOT NULL,
    name VARCHAR(200) NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    opens_on DATE NOT NULL,
    closes_on DATE NOT NULL,
    rescreen_of BIGINT NULL,
    created_by_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    created_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    created_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The classes a round covers, with their enrolment when it opened (the coverage denominator).
CREATE TABLE vision_round_classes (
    round_id BIGINT NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    class_id BIGINT NOT NULL,
    class_name VARCHAR(200) NOT NULL,
    grade_level INTEGER NULL,
    period_id BIGINT NULL,
    period_name VARCHAR(200) NULL,
    enrolled INTEGER NOT NULL,
    PRIMARY KEY (round_id, corp_id, class_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE vision_round_schools (
    round_id BIGINT NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    published_at DATETIME(6) NULL,
    published_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    PRIMARY KEY (round_id, corp_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE vision_records (
    round_id BIGINT NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    student_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    class_id BIGINT NOT NULL,
    sex VARCHAR(32) NOT NULL,
    birth_date DATE NOT NULL,
    screened_on DATE NOT NULL,
    age_years INTEGER NOT NULL,
    glasses VARCHAR(32) NOT NULL,
    ucva_r DECIMAL(2,1) NULL, ucva_l DECIMAL(2,1) NULL,
    walk_distance_r DECIMAL(3,1) NULL, walk_distance_l DECIMAL(3,1) NULL,
    cva_r DECIMAL(2,1) NULL, cva_l DECIMAL(2,1) NULL,
    sphere_r DECIMAL(5,2) NULL, cylinder_r DECIMAL(5,2) NULL, axis_r INTEGER NULL,
    sphere_l DECIMAL(5,2) NULL, cylinder_l DECIMAL(5,2) NULL, axis_l INTEGER NULL,
    axial_length_r DECIMAL(4,2) NULL, axial_length_l DECIMAL(4,2) NULL,
    not_testable_reason VARCHAR(500) NULL,
    se_r DECIMAL(6,3) NULL, se_l DECIMAL(6,3) NULL,
    poor_vision VARCHAR(32) NULL,
    myopic BOOL NULL,
    myopia_grade VARCHAR(32) NULL,
    valid BOOL NOT NULL,
    follow_up BOOL NOT NULL,
    below_age_norm BOOL NOT NULL,
    needs_referral BOOL NOT NULL,
    rule_set VARCHAR(200) NOT NULL,
    input_hash CHAR(64) NOT NULL,
    version INTEGER NOT NULL,
    source VARCHAR(32) NOT NULL,
    entered_by_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    entered_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    entered_at DATETIME(6) NOT NULL,
    PRIMARY KEY (round_id, corp_id, student_user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX ix_vision_records_class ON vision_records (round_id, corp_id, class_id);
CREATE INDEX ix_vision_records_student ON vision_records (corp_id, student_user_id, round_id);

-- Earlier versions of a record, copied here when it is corrected: who entered what, and when, stays visible.
CREATE TABLE vision_record_history (
    round_id BIGINT NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    student_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    class_id BIGINT NOT NULL,
    sex VARCHAR(32) NOT NULL,
    birth_date DATE NOT NULL,
    screened_on DATE NOT NULL,
    age_years INTEGER NOT NULL,
    glasses VARCHAR(32) NOT NULL,
    ucva_r DECIMAL(2,1) NULL, ucva_l DECIMAL(2,1) NULL,
    walk_distance_r DECIMAL(3,1) NULL, walk_distance_l DECIMAL(3,1) NULL,
    cva_r DECIMAL(2,1) NULL, cva_l DECIMAL(2,1) NULL,
    sphere_r DECIMAL(5,2) NULL, cylinder_r DECIMAL(5,2) NULL, axis_r INTEGER NULL,
    sphere_l DECIMAL(5,2) NULL, cylinder_l DECIMAL(5,2) NULL, axis_l INTEGER NULL,
    axial_length_r DECIMAL(4,2) NULL, axial_length_l DECIMAL(4,2) NULL,
    not_testable_reason VARCHAR(500) NULL,
    se_r DECIMAL(6,3) NULL, se_l DECIMAL(6,3) NULL,
    poor_vision VARCHAR(32) NULL,
    myopic BOOL NULL,
    myopia_grade VARCHAR(32) NULL,
    valid BOOL NOT NULL,
    follow_up BOOL NOT NULL,
    below_age_norm BOOL NOT NULL,
    needs_referral BOOL NOT NULL,
    rule_set VARCHAR(200) NOT NULL,
    input_hash CHAR(64) NOT NULL,
    version INTEGER NOT NULL,
    source VARCHAR(32) NOT NULL,
    entered_by_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    entered_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    entered_at DATETIME(6) NOT NULL,
    superseded_at DATETIME(6) NOT NULL,
    PRIMARY KEY (round_id, corp_id, student_user_id, version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Counts per round, class, sex and age, rebuilt for a class whenever one of its records changes: every statistic
-- is a sum over these cells, never a scan of the records.
CREATE TABLE vision_stat_cells (
    round_id BIGINT NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    class_id BIGINT NOT NULL,
    sex VARCHAR(32) NOT NULL,
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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE vision_imports (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    round_id BIGINT NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    file_sha256 CHAR(64) NOT NULL,
    file_name VARCHAR(200) NOT NULL,
    mode VARCHAR(32) NOT NULL,
    total_rows INTEGER NOT NULL,
    bad_rows INTEGER NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    errors MEDIUMTEXT NOT NULL,
    imported_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    imported_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE vision_referrals (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    round_id BIGINT NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    student_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    class_id BIGINT NOT NULL,
    reason VARCHAR(500) NOT NULL,
    status VARCHAR(32) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    acknowledged_at DATETIME(6) NULL,
    acknowledged_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    visit_date DATE NULL,
    hospital VARCHAR(200) NULL,
    diagnosis VARCHAR(500) NULL,
    prescription VARCHAR(500) NULL,
    reported_at DATETIME(6) NULL,
    last_reminded_at DATETIME(6) NULL,
    cancelled_at DATETIME(6) NULL,
    UNIQUE (round_id, corp_id, student_user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX ix_vision_referrals_class ON vision_referrals (corp_id, class_id, status);

-- 明眸 classrooms: eye-care lighting and height-adjustable desks per classroom (seed 专栏3: 100%).
CREATE TABLE vision_classrooms (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    classroom_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    name VARCHAR(200) NOT NULL,
    lighting_renovated_on DATE NULL,
    desks INTEGER NOT NULL,
    adjustable_desks INTEGER NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    updated_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    PRIMARY KEY (corp_id, classroom_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
