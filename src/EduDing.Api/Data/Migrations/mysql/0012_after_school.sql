-- After-school care (docs/after-school.md). A school's calendar (only the days that differ from Mon–Fri school days
-- are stored: holidays, 调休 make-up days with the weekday they follow, cancelled days, seasonal end times); programs
-- per term or holiday with their weekday sessions and offerings (basic care groups, elective courses); guardians'
-- applications; each application's place in each offering it chose (held, enrolled, waitlisted, released, or applied
-- until an elective's lottery is drawn) with its place in the queue; and each lottery drawn, with its seed and order.
CREATE TABLE school_calendar_days (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    day DATE NOT NULL,
    kind VARCHAR(16) NOT NULL,
    follows_weekday INT NULL,
    ends_at VARCHAR(5) NULL,
    note VARCHAR(200) NULL,
    updated_at DATETIME(6) NOT NULL,
    updated_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    PRIMARY KEY (corp_id, day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE care_programs (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    name VARCHAR(100) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    signup_opens_at DATETIME(6) NOT NULL,
    signup_closes_at DATETIME(6) NOT NULL,
    grade_levels VARCHAR(64) NOT NULL,
    status VARCHAR(16) NOT NULL,
    terms TEXT NOT NULL,
    terms_version INT NOT NULL,
    fee_unit VARCHAR(16) NOT NULL,
    safety_notes VARCHAR(2000) NULL,
    created_at DATETIME(6) NOT NULL,
    created_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    KEY ix_care_programs_corp (corp_id, status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE care_program_sessions (
    program_id BIGINT NOT NULL,
    weekday INT NOT NULL,
    starts_at VARCHAR(5) NOT NULL,
    ends_at VARCHAR(5) NOT NULL,
    PRIMARY KEY (program_id, weekday)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE care_offerings (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    program_id BIGINT NOT NULL,
    kind VARCHAR(16) NOT NULL,
    name VARCHAR(100) NOT NULL,
    grade_levels VARCHAR(64) NOT NULL,
    teacher_user_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    content_type VARCHAR(16) NOT NULL,
    capacity INT NOT NULL,
    fee_cents INT NOT NULL,
    allocation VARCHAR(16) NOT NULL,
    version INT NOT NULL DEFAULT 0,
    KEY ix_care_offerings_program (program_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE care_applications (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    program_id BIGINT NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    student_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    class_id BIGINT NOT NULL,
    guardian_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    guardian_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    on_behalf_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    weekdays VARCHAR(16) NOT NULL,
    pickup TEXT NOT NULL,
    priority VARCHAR(32) NULL,
    exemption VARCHAR(32) NULL,
    terms_version INT NOT NULL,
    status VARCHAR(16) NOT NULL,
    submitted_at DATETIME(6) NOT NULL,
    decided_at DATETIME(6) NULL,
    UNIQUE KEY ux_care_applications_student (program_id, student_user_id),
    KEY ix_care_applications_guardian (guardian_corp_id, guardian_user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE care_places (
    application_id BIGINT NOT NULL,
    offering_id BIGINT NOT NULL,
    status VARCHAR(16) NOT NULL,
    queue_position BIGINT NOT NULL,
    enrolled_at DATETIME(6) NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (application_id, offering_id),
    KEY ix_care_places_offering (offering_id, status, queue_position)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE care_lotteries (
    offering_id BIGINT NOT NULL PRIMARY KEY,
    seed VARCHAR(64) NOT NULL,
    drawn TEXT NOT NULL,
    run_at DATETIME(6) NOT NULL,
    run_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
