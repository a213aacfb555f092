-- Org mirror: DingTalk organizations and 家校通讯录, keyed by corp and DingTalk ids. Nothing is hard-deleted:
-- removed_at marks what disappeared from DingTalk; synced_at is when a row was last confirmed.
CREATE TABLE corps (
    corp_id TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    last_full_sync_at TEXT NULL,
    sync_requested_at TEXT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE departments (
    corp_id TEXT NOT NULL,
    dept_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    parent_dept_id INTEGER NOT NULL,
    synced_at TEXT NOT NULL,
    removed_at TEXT NULL,
    PRIMARY KEY (corp_id, dept_id)
);

CREATE TABLE staff (
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    union_id TEXT NULL,
    name TEXT NOT NULL,
    title TEXT NULL,
    job_number TEXT NULL,
    is_admin INTEGER NOT NULL,
    is_boss INTEGER NOT NULL,
    synced_at TEXT NOT NULL,
    removed_at TEXT NULL,
    PRIMARY KEY (corp_id, user_id)
);
CREATE INDEX ix_staff_union ON staff (union_id);

CREATE TABLE staff_departments (
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    dept_id INTEGER NOT NULL,
    is_leader INTEGER NOT NULL,
    PRIMARY KEY (corp_id, user_id, dept_id)
);

CREATE TABLE edu_nodes (
    corp_id TEXT NOT NULL,
    node_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    nick TEXT NULL,
    parent_node_id INTEGER NULL,
    node_type TEXT NOT NULL,
    grade_level INTEGER NULL,
    start_year TEXT NULL,
    synced_at TEXT NOT NULL,
    roster_synced_at TEXT NULL,
    removed_at TEXT NULL,
    PRIMARY KEY (corp_id, node_id)
);

CREATE TABLE students (
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    union_id TEXT NULL,
    name TEXT NOT NULL,
    student_number TEXT NULL,
    synced_at TEXT NOT NULL,
    removed_at TEXT NULL,
    PRIMARY KEY (corp_id, user_id)
);
CREATE INDEX ix_students_union ON students (union_id);

CREATE TABLE guardians (
    corp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    union_id TEXT NULL,
    name TEXT NOT NULL,
    synced_at TEXT NOT NULL,
    removed_at TEXT NULL,
    PRIMARY KEY (corp_id, user_id)
);
CREATE INDEX ix_guardians_union ON guardians (union_id);

-- Who is in a class and as what: role is teacher, student or guardian (DingTalk's lower-case words).
CREATE TABLE class_members (
    corp_id TEXT NOT NULL,
    class_id INTEGER NOT NULL,
    role TEXT NOT NULL,
    user_id TEXT NOT NULL,
    is_adviser INTEGER NOT NULL,
    PRIMARY KEY (corp_id, class_id, role, user_id)
);
CREATE INDEX ix_class_members_user ON class_members (corp_id, user_id);

CREATE TABLE guardian_students (
    corp_id TEXT NOT NULL,
    class_id INTEGER NOT NULL,
    guardian_user_id TEXT NOT NULL,
    student_user_id TEXT NOT NULL,
    relation_code TEXT NOT NULL,
    PRIMARY KEY (corp_id, class_id, guardian_user_id, student_user_id)
);

CREATE TABLE sync_runs (
    id INTEGER PRIMARY KEY,
    corp_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    trigger_reason TEXT NOT NULL,
    status TEXT NOT NULL,
    phase TEXT NOT NULL,
    holder TEXT NOT NULL,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT NULL,
    counts TEXT NOT NULL,
    calls TEXT NOT NULL,
    note TEXT NULL,
    error TEXT NULL
);
CREATE INDEX ix_sync_runs_corp ON sync_runs (corp_id, id);

-- The inbox: every event DingTalk delivered, once per key (event id, else a hash of the content).
CREATE TABLE dingtalk_events (
    id INTEGER PRIMARY KEY,
    corp_id TEXT NOT NULL,
    event_key TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    source TEXT NOT NULL,
    received_at TEXT NOT NULL,
    processed_at TEXT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NULL,
    UNIQUE (corp_id, event_key)
);
CREATE INDEX ix_dingtalk_events_pending ON dingtalk_events (corp_id, processed_at, id);

-- Metered DingTalk calls per corp per month (Asia/Shanghai, yyyymm), against the monthly quota.
CREATE TABLE dingtalk_call_usage (
    corp_id TEXT NOT NULL,
    month INTEGER NOT NULL,
    api TEXT NOT NULL,
    calls INTEGER NOT NULL,
    PRIMARY KEY (corp_id, month, api)
);
