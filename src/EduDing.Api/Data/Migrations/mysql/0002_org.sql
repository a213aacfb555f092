-- Org mirror: DingTalk organizations and 家校通讯录, keyed by corp and DingTalk ids. Nothing is hard-deleted:
-- removed_at marks what disappeared from DingTalk; synced_at is when a row was last confirmed.
-- DingTalk ids compare byte for byte (utf8mb4_bin); names use the default collation.
CREATE TABLE corps (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    kind VARCHAR(16) NOT NULL,
    name VARCHAR(200) NOT NULL,
    last_full_sync_at DATETIME(6) NULL,
    sync_requested_at DATETIME(6) NULL,
    updated_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE departments (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    dept_id BIGINT NOT NULL,
    name VARCHAR(200) NOT NULL,
    parent_dept_id BIGINT NOT NULL,
    synced_at DATETIME(6) NOT NULL,
    removed_at DATETIME(6) NULL,
    PRIMARY KEY (corp_id, dept_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE staff (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    union_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    name VARCHAR(200) NOT NULL,
    title VARCHAR(200) NULL,
    job_number VARCHAR(64) NULL,
    is_admin BOOL NOT NULL,
    is_boss BOOL NOT NULL,
    synced_at DATETIME(6) NOT NULL,
    removed_at DATETIME(6) NULL,
    PRIMARY KEY (corp_id, user_id),
    INDEX ix_staff_union (union_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE staff_departments (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    dept_id BIGINT NOT NULL,
    is_leader BOOL NOT NULL,
    PRIMARY KEY (corp_id, user_id, dept_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE edu_nodes (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    node_id BIGINT NOT NULL,
    name VARCHAR(200) NOT NULL,
    nick VARCHAR(200) NULL,
    parent_node_id BIGINT NULL,
    node_type VARCHAR(16) NOT NULL,
    grade_level INT NULL,
    start_year VARCHAR(8) NULL,
    synced_at DATETIME(6) NOT NULL,
    roster_synced_at DATETIME(6) NULL,
    removed_at DATETIME(6) NULL,
    PRIMARY KEY (corp_id, node_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE students (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    union_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    name VARCHAR(200) NOT NULL,
    student_number VARCHAR(64) NULL,
    synced_at DATETIME(6) NOT NULL,
    removed_at DATETIME(6) NULL,
    PRIMARY KEY (corp_id, user_id),
    INDEX ix_students_union (union_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE guardians (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    union_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    name VARCHAR(200) NOT NULL,
    synced_at DATETIME(6) NOT NULL,
    removed_at DATETIME(6) NULL,
    PRIMARY KEY (corp_id, user_id),
    INDEX ix_guardians_union (union_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE class_members (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    class_id BIGINT NOT NULL,
    role VARCHAR(16) NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    is_adviser BOOL NOT NULL,
    PRIMARY KEY (corp_id, class_id, role, user_id),
    INDEX ix_class_members_user (corp_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE guardian_students (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    class_id BIGINT NOT NULL,
    guardian_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    student_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    relation_code VARCHAR(8) NOT NULL,
    PRIMARY KEY (corp_id, class_id, guardian_user_id, student_user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sync_runs (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    kind VARCHAR(16) NOT NULL,
    trigger_reason VARCHAR(32) NOT NULL,
    status VARCHAR(16) NOT NULL,
    phase VARCHAR(32) NOT NULL,
    holder VARCHAR(190) NOT NULL,
    started_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    finished_at DATETIME(6) NULL,
    counts TEXT NOT NULL,
    calls TEXT NOT NULL,
    note TEXT NULL,
    error TEXT NULL,
    INDEX ix_sync_runs_corp (corp_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE dingtalk_events (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    event_key VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    event_type VARCHAR(64) NOT NULL,
    payload MEDIUMTEXT NOT NULL,
    source VARCHAR(16) NOT NULL,
    received_at DATETIME(6) NOT NULL,
    processed_at DATETIME(6) NULL,
    attempts INT NOT NULL DEFAULT 0,
    last_error TEXT NULL,
    UNIQUE KEY ux_dingtalk_events_key (corp_id, event_key),
    INDEX ix_dingtalk_events_pending (corp_id, processed_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE dingtalk_call_usage (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    month INT NOT NULL,
    api VARCHAR(64) NOT NULL,
    calls BIGINT NOT NULL,
    PRIMARY KEY (corp_id, month, api)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
