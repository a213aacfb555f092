-- Notices: what was composed, who it was resolved to at send time (and why), and the outbox of DingTalk batches.
CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    category TEXT NOT NULL,
    sender_corp_id TEXT NOT NULL,
    sender_user_id TEXT NULL,
    sender_name TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    links TEXT NOT NULL,
    audience TEXT NOT NULL,
    link_page TEXT NULL,
    status TEXT NOT NULL,
    send_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    reviewed_by_user_id TEXT NULL,
    reviewed_at TEXT NULL,
    review_comment TEXT NULL,
    resolved_at TEXT NULL,
    completed_at TEXT NULL,
    targeted INTEGER NOT NULL DEFAULT 0,
    recalled_at TEXT NULL,
    recalled_by_user_id TEXT NULL,
    last_reminded_on TEXT NULL,
    reminders INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_notices_due ON notices (status, send_at);
CREATE INDEX ix_notices_sender ON notices (sender_corp_id, id);

-- One row per person a notice targets. status: pending, sent (DingTalk accepted the batch), delivered (confirmed by
-- getsendresult), failed (failure says why), cancelled (recalled before sending).
CREATE TABLE notice_recipients (
    notice_id INTEGER NOT NULL,
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    union_id TEXT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    class_id INTEGER NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    failure TEXT NULL,
    batch_id INTEGER NULL,
    sent_at TEXT NULL,
    read_at TEXT NULL,
    PRIMARY KEY (notice_id, corp_id, user_id)
);
CREATE INDEX ix_notice_recipients_person ON notice_recipients (corp_id, user_id, notice_id);
CREATE INDEX ix_notice_recipients_batch ON notice_recipients (batch_id);

-- The outbox: one asyncsend_v2 call each (at most 100 userids, one corp's app). message is the exact JSON sent, the
-- same on every attempt. uncertain marks a batch whose earlier attempt may have reached DingTalk (claim expired).
CREATE TABLE notice_batches (
    id INTEGER PRIMARY KEY,
    notice_id INTEGER NOT NULL,
    corp_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    user_ids TEXT NOT NULL,
    recipient_count INTEGER NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_by TEXT NULL,
    claim_expires_at TEXT NULL,
    uncertain INTEGER NOT NULL DEFAULT 0,
    first_attempt_on TEXT NULL,
    task_id INTEGER NULL,
    sent_at TEXT NULL,
    sent_by TEXT NULL,
    checked_at TEXT NULL,
    last_error TEXT NULL,
    recall_status TEXT NULL,
    recall_claim_expires_at TEXT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ix_notice_batches_due ON notice_batches (corp_id, status, next_attempt_at);
CREATE INDEX ix_notice_batches_notice ON notice_batches (notice_id, status);
CREATE INDEX ix_notice_batches_recall ON notice_batches (recall_status);

-- Recipients handed to DingTalk per corp (app), for the per-minute budget shared by every service instance.
CREATE TABLE notice_send_window (
    id INTEGER PRIMARY KEY,
    corp_id TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    recipients INTEGER NOT NULL
);
CREATE INDEX ix_notice_send_window ON notice_send_window (corp_id, sent_at);

-- A row per corp whose lock serializes batch claims, so two instances never both spend the same budget.
CREATE TABLE notice_dispatch_locks (
    corp_id TEXT NOT NULL PRIMARY KEY,
    locked_at TEXT NOT NULL
);

-- Messages per person per Asia/Shanghai day (yyyymmdd), against DingTalk's per-user daily limit.
CREATE TABLE notice_user_days (
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    day INTEGER NOT NULL,
    messages INTEGER NOT NULL,
    PRIMARY KEY (corp_id, user_id, day)
);

CREATE TABLE notice_school_settings (
    corp_id TEXT NOT NULL PRIMARY KEY,
    teacher_notices_need_approval INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by_user_id TEXT NOT NULL
);
