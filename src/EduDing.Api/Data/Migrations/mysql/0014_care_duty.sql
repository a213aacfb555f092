-- After-school teachers' duty and fees (docs/after-school.md): the cover named for a group's session when its teacher is
-- away; each teacher's sign-in for a session with the session's length that day (the basis of hours for pay); and the
-- payment status of each application and period, as the school's finance office records it; and the end-of-term
-- parent survey, one answer per application and offering.
CREATE TABLE care_covers (
    offering_id BIGINT NOT NULL,
    day DATE NOT NULL,
    teacher_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    reason VARCHAR(200) NOT NULL,
    set_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    set_at DATETIME(6) NOT NULL,
    PRIMARY KEY (offering_id, day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE care_duty (
    offering_id BIGINT NOT NULL,
    day DATE NOT NULL,
    teacher_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    teacher_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    role VARCHAR(16) NOT NULL,
    minutes INT NOT NULL,
    signed_at DATETIME(6) NOT NULL,
    PRIMARY KEY (offering_id, day, teacher_user_id),
    KEY ix_care_duty_day (day, offering_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE care_payments (
    application_id BIGINT NOT NULL,
    period VARCHAR(16) NOT NULL,
    status VARCHAR(16) NOT NULL,
    amount_cents BIGINT NOT NULL,
    note VARCHAR(200) NULL,
    recorded_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    recorded_at DATETIME(6) NOT NULL,
    PRIMARY KEY (application_id, period)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE care_survey (
    application_id BIGINT NOT NULL,
    offering_id BIGINT NOT NULL,
    teacher_user_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    rating INT NOT NULL,
    comment VARCHAR(500) NULL,
    answered_at DATETIME(6) NOT NULL,
    PRIMARY KEY (application_id, offering_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
