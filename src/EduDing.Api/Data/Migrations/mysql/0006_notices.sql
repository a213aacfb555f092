-- Notices: what was composed, who it was resolved to at send time (and why), and the outbox of DingTalk batches.
CREATE TABLE notices (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind VARCHAR(32) NOT NULL,
    category VARCHAR(64) NOT NULL,
    sender_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    sender_user_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    sender_name VARCHAR(200) NOT NULL,
    title VARCHAR(200) NOT NULL,
    body MEDIUMTEXT NOT NULL,
    links MEDIUMTEXT NOT NULL,
    audience MEDIUMTEXT NOT NULL,
    link_page VARCHAR(500) NULL,
    status VARCHAR(32) NOT NULL,
    send_at DATETIME(6) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    reviewed_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    reviewed_at DATETIME(6) NULL,
    review_comment VARCHAR(500) NULL,
    resolved_at DATETIME(6) NULL,
    completed_at DATETIME(6) NULL,
    targeted INTEGER NOT NULL DEFAULT 0,
    recalled_at DATETIME(6) NULL,
    recalled_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    last_reminded_on DATE NULL,
    reminders INTEGER NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX ix_notices_due ON notices (status, send_at);
CREATE INDEX ix_notices_sender ON notices (sender_corp_id, id);

-- One row per person a notice targets. status: pending, sent (DingTalk accepted the batch), delivered (confirmed by
-- getsendresult), failed (failure says why), cancelled (recalled before sending).
CREATE TABLE notice_recipients (
    notice_id BIGINT NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    union_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    name VARCHAR(200) NOT NULL,
    role VARCHAR(32) NOT NULL,
    class_id BIGINT NULL,
    reason VARCHAR(500) NOT NULL,
    status VARCHAR(32) NOT NULL,
    failure VARCHAR(500) NULL,
    batch_id BIGINT NULL,
    sent_at DATETIME(6) NULL,
    read_at DATETIME(6) NULL,
    PRIMARY KEY (notice_id, corp_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX ix_notice_recipients_person ON notice_recipients (corp_id, user_id, notice_id);
CREATE INDEX ix_notice_recipients_batch ON notice_recipients (batch_id);

-- The outbox: one asyncsend_v2 call each (at most 100 userids, one corp's app). message is the exact JSON sent, the
-- same on every attempt. uncertain marks a batch whose earlier attempt may have reached DingTalk (claim expired).
CREATE TABLE notice_batches (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    notice_id BIGINT NOT NULL,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    purpose VARCHAR(32) NOT NULL,
    user_ids MEDIUMTEXT NOT NULL,
    recipient_count INTEGER NOT NULL,
    message MEDIUMTEXT NOT NULL,
    status VARCHAR(32) NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6) NOT NULL,
    claimed_by VARCHAR(128) NULL,
    claim_expires_at DATETIME(6) NULL,
    uncertain BOOL NOT NULL DEFAULT FALSE,
    first_attempt_on DATE NULL,
    task_id BIGINT NULL,
    sent_at DATETIME(6) NULL,
    sent_by VARCHAR(128) NULL,
    checked_at DATETIME(6) NULL,
    last_error VARCHAR(500) NULL,
    recall_status VARCHAR(32) NULL,
    recall_claim_expires_at DATETIME(6) NULL,
    created_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX ix_notice_batches_due ON notice_batches (corp_id, status, next_attempt_at);
CREATE INDEX ix_notice_batches_notice ON notice_batches (notice_id, status);
CREATE INDEX ix_notice_batches_recall ON notice_batches (recall_status);

-- Recipients handed to DingTalk per corp (app), for the per-minute budget shared by every service instance.
CREATE TABLE notice_send_window (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    sent_at DATETIME(6) NOT NULL,
    recipients INTEGER NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX ix_notice_send_window ON notice_send_window (corp_id, sent_at);

-- A row per corp whose lock serializes batch claims, so two instances never both spend the same budget.
CREATE TABLE notice_dispatch_locks (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    locked_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Messages per person per Asia/Shanghai day (yyyymmdd), against DingTalk's per-user daily limit.
CREATE TABLE notice_user_days (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    day INTEGER NOT NULL,
    messages INTEGER NOT NULL,
    PRIMARY KEY (corp_id, user_id, day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE notice_school_settings (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    teacher_notices_need_approval BOOL NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    updated_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
