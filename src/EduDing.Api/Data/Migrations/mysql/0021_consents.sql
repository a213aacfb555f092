-- Processing notices (专门的儿童个人信息处理规则) and guardians' per-purpose consent (docs/privacy.md). Notices are
-- versioned per scope (a school's corp id, or 'city'); consent_records is the append-only history the service never
-- updates or deletes (kept at least 3 years); consent_states is each child's latest answer per purpose. channel is
-- 'mini-app' (the guardian answered; guardian_user_id) or 'paper' (an adviser recorded a paper form for a family not on
-- DingTalk; guardian_user_id is null); recorded_by_* is who entered it.
CREATE TABLE privacy_notices (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    scope VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    version INT NOT NULL,
    title VARCHAR(200) NOT NULL,
    body MEDIUMTEXT NOT NULL,
    purposes VARCHAR(500) COLLATE utf8mb4_bin NOT NULL,
    requires_new_consent TINYINT NOT NULL,
    published_at DATETIME(6) NOT NULL,
    published_by_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    published_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    UNIQUE KEY ux_privacy_notices_scope_version (scope, version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE consent_records (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    student_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    purpose VARCHAR(40) COLLATE utf8mb4_bin NOT NULL,
    decision VARCHAR(20) COLLATE utf8mb4_bin NOT NULL,
    notice_id BIGINT NOT NULL,
    notice_version INT NOT NULL,
    channel VARCHAR(20) COLLATE utf8mb4_bin NOT NULL,
    guardian_user_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    recorded_by_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    recorded_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    at DATETIME(6) NOT NULL,
    INDEX ix_consent_records_student (corp_id, student_user_id, purpose, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE consent_states (
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    student_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    purpose VARCHAR(40) COLLATE utf8mb4_bin NOT NULL,
    decision VARCHAR(20) COLLATE utf8mb4_bin NOT NULL,
    notice_id BIGINT NOT NULL,
    record_id BIGINT NOT NULL,
    at DATETIME(6) NOT NULL,
    PRIMARY KEY (corp_id, purpose, student_user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
