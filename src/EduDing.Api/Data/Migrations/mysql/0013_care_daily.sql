-- After-school care, the daily loop (docs/after-school.md): leave reported by families, one-day delegates (代接), the
-- roll per offering and day, pickup handovers, and the alerts already sent (claimed here, one per child, day and kind).
CREATE TABLE care_leaves (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    application_id BIGINT NOT NULL,
    from_day DATE NOT NULL,
    to_day DATE NOT NULL,
    reason VARCHAR(200) NOT NULL,
    reported_by_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    reported_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    reported_at DATETIME(6) NOT NULL,
    KEY ix_care_leaves_application (application_id, from_day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE care_delegates (
    application_id BIGINT NOT NULL,
    day DATE NOT NULL,
    name VARCHAR(50) NOT NULL,
    relation VARCHAR(20) NOT NULL,
    phone VARCHAR(20) NOT NULL,
    set_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    set_at DATETIME(6) NOT NULL,
    PRIMARY KEY (application_id, day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE care_roll (
    application_id BIGINT NOT NULL,
    offering_id BIGINT NOT NULL,
    day DATE NOT NULL,
    status VARCHAR(16) NOT NULL,
    late_entry TINYINT(1) NOT NULL,
    marked_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    marked_at DATETIME(6) NOT NULL,
    PRIMARY KEY (application_id, offering_id, day),
    KEY ix_care_roll_day (offering_id, day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE care_handovers (
    application_id BIGINT NOT NULL,
    day DATE NOT NULL,
    collected_by VARCHAR(50) NOT NULL,
    relation VARCHAR(20) NOT NULL,
    listed TINYINT(1) NOT NULL,
    reason VARCHAR(200) NULL,
    recorded_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    at DATETIME(6) NOT NULL,
    PRIMARY KEY (application_id, day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE care_alerts (
    application_id BIGINT NOT NULL,
    day DATE NOT NULL,
    kind VARCHAR(16) NOT NULL,
    sent_at DATETIME(6) NOT NULL,
    PRIMARY KEY (application_id, day, kind)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
