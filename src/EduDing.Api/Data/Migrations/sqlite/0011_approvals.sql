-- Approvals (docs/approvals.md): chains configured per kind per school (corp_id '*' holds the bureau's city default),
-- requests with the chain they follow frozen at submission, the people each opened step was resolved to, every action
-- taken, and the daily reminder digests already sent (one per approver per Beijing day, claimed here).
CREATE TABLE approval_chains (
    corp_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    steps TEXT NOT NULL,
    auto_approve INTEGER NOT NULL DEFAULT 0,
    process_code TEXT NULL,
    updated_at TEXT NOT NULL,
    updated_by_corp_id TEXT NOT NULL,
    updated_by_user_id TEXT NOT NULL,
    PRIMARY KEY (corp_id, kind)
);

CREATE TABLE approval_requests (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    corp_id TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    class_id INTEGER NULL,
    title TEXT NOT NULL,
    summary TEXT NULL,
    requester_corp_id TEXT NOT NULL,
    requester_user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    route TEXT NOT NULL,
    steps TEXT NOT NULL,
    current_step INTEGER NOT NULL,
    process_instance_id TEXT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    step_opened_at TEXT NOT NULL,
    decided_at TEXT NULL,
    outcome_applied_at TEXT NULL,
    checked_at TEXT NULL
);
CREATE UNIQUE INDEX ux_approval_requests_subject ON approval_requests (kind, subject_id);
CREATE UNIQUE INDEX ux_approval_requests_instance ON approval_requests (process_instance_id);
CREATE INDEX ix_approval_requests_requester ON approval_requests (requester_corp_id, requester_user_id, id);
CREATE INDEX ix_approval_requests_status ON approval_requests (status, route, checked_at);

CREATE TABLE approval_assignees (
    request_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    step INTEGER NOT NULL,
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    how TEXT NOT NULL,
    is_open INTEGER NOT NULL,
    decision TEXT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT NULL,
    PRIMARY KEY (request_id, step, corp_id, user_id)
);
CREATE INDEX ix_approval_assignees_inbox ON approval_assignees (corp_id, user_id, is_open, request_id);
CREATE INDEX ix_approval_assignees_inbox_kind ON approval_assignees (corp_id, user_id, is_open, kind, request_id);
CREATE INDEX ix_approval_assignees_open ON approval_assignees (is_open, opened_at);

CREATE TABLE approval_actions (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL,
    step INTEGER NOT NULL,
    actor_corp_id TEXT NOT NULL,
    actor_user_id TEXT NOT NULL,
    action TEXT NOT NULL,
    comment TEXT NULL,
    at TEXT NOT NULL
);
CREATE INDEX ix_approval_actions_request ON approval_actions (request_id, id);

CREATE TABLE approval_reminders (
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    day TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (corp_id, user_id, day)
);
