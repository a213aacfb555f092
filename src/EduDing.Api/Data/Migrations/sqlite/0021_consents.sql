-- Processing notices (专门的儿童个人信息处理规则) and guardians' per-purpose consent (docs/privacy.md). Notices are
-- versioned per scope (a school's corp id, or 'city'); consent_records is the append-only history the service never
-- updates or deletes (kept at least 3 years); consent_states is each child's latest answer per purpose. channel is
-- 'mini-app' (the guardian answered; guardian_user_id) or 'paper' (an adviser recorded a paper form for a family not on
-- DingTalk; guardian_user_id is null); recorded_by_* is who entered it.
CREATE TABLE privacy_notices (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    purposes TEXT NOT NULL,
    requires_new_consent INTEGER NOT NULL,
    published_at TEXT NOT NULL,
    published_by_corp_id TEXT NOT NULL,
    published_by_user_id TEXT NOT NULL
);
CREATE UNIQUE INDEX ux_privacy_notices_scope_version ON privacy_notices (scope, version);

CREATE TABLE consent_records (
    id INTEGER PRIMARY KEY,
    corp_id TEXT NOT NULL,
    student_user_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    decision TEXT NOT NULL,
    notice_id INTEGER NOT NULL,
    notice_version INTEGER NOT NULL,
    channel TEXT NOT NULL,
    guardian_user_id TEXT NULL,
    recorded_by_corp_id TEXT NOT NULL,
    recorded_by_user_id TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX ix_consent_records_student ON consent_records (corp_id, student_user_id, purpose, id);

CREATE TABLE consent_states (
    corp_id TEXT NOT NULL,
    student_user_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    decision TEXT NOT NULL,
    notice_id INTEGER NOT NULL,
    record_id INTEGER NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (corp_id, purpose, student_user_id)
);
