-- Approvals (docs/approvals.md): chains configured per kind per school (corp_id '*' holds the bureau's city default),
-- requests with the chain they follow frozen at submission, the people each opened step was resolved to, every action
-- taken, and the daily reminder digests already sent (one per approver per Beijing day, claimed here).
CREATE TABLE approval_chains (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    kind VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    steps TEXT NOT NULL,
    auto_approve TINYINT(1) NOT NULL DEFAULT 0,
    process_code VARCHAR(128) NULL,
    updated_at DATETIME(6) NOT NULL,
    updated_by_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    updated_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    PRIMARY KEY (corp_id, kind)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE approval_requests (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    subject_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    class_id BIGINT NULL,
    title VARCHAR(200) NOT NULL,
    summary VARCHAR(2000) NULL,
    requester_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    requester_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    status VARCHAR(16) NOT NULL,
    route VARCHAR(16) NOT NULL,
    steps TEXT NOT NULL,
    current_step INT NOT NULL,
    process_instance_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    version INT NOT NULL DEFAULT 0,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    step_opened_at DATETIME(6) NOT NULL,
    decided_at DATETIME(6) NULL,
    outcome_applied_at DATETIME(6) NULL,
    checked_at DATETIME(6) NULL,
    UNIQUE KEY ux_approval_requests_subject (kind, subject_id),
    UNIQUE KEY ux_approval_requests_instance (process_instance_id),
    KEY ix_approval_requests_requester (requester_corp_id, requester_user_id, id),
    KEY ix_approval_requests_status (status, route, checked_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE approval_assignees (
    request_id BIGINT NOT NULL,
    kind VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    step INT NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    name VARCHAR(100) NOT NULL,
    how VARCHAR(16) NOT NULL,
    is_open TINYINT(1) NOT NULL,
    decision VARCHAR(16) NULL,
    opened_at DATETIME(6) NOT NULL,
    closed_at DATETIME(6) NULL,
    PRIMARY KEY (request_id, step, corp_id, user_id),
    KEY ix_approval_assignees_inbox (corp_id, user_id, is_open, request_id),
    KEY ix_approval_assignees_inbox_kind (corp_id, user_id, is_open, kind, request_id),
    KEY ix_approval_assignees_open (is_open, opened_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE approval_actions (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    request_id BIGINT NOT NULL,
    step INT NOT NULL,
    actor_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    actor_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    action VARCHAR(32) NOT NULL,
    comment VARCHAR(500) NULL,
    at DATETIME(6) NOT NULL,
    KEY ix_approval_actions_request (request_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE approval_reminders (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    day DATE NOT NULL,
    sent_at DATETIME(6) NOT NULL,
    PRIMARY KEY (corp_id, user_id, day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
