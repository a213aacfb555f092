-- Encryption at rest (docs/encryption.md). data_keys holds the data keys, each wrapped by a master key from
-- configuration; the per-eye values of vision records move into one sealed column (eyes_sealed), referrals' visit
-- reports, pickup people and delegates' phones are sealed where they are. Rows from before stay readable in the clear
-- until the background re-encryption seals them; reencryption_progress lets it resume where it stopped.
CREATE TABLE data_keys (
    id VARCHAR(32) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    master_key_id VARCHAR(32) COLLATE utf8mb4_bin NOT NULL,
    wrapped VARCHAR(200) COLLATE utf8mb4_bin NOT NULL,
    created_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE reencryption_progress (
    table_name VARCHAR(64) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    key_id VARCHAR(32) COLLATE utf8mb4_bin NOT NULL,
    cursor_key TEXT NULL,
    rows_rewritten BIGINT NOT NULL,
    started_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    finished_at DATETIME(6) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE vision_records ADD COLUMN eyes_sealed TEXT NULL;
ALTER TABLE vision_record_history ADD COLUMN eyes_sealed TEXT NULL;
ALTER TABLE vision_records_transferred ADD COLUMN eyes_sealed TEXT NULL;
ALTER TABLE vision_referrals MODIFY hospital TEXT NULL, MODIFY diagnosis TEXT NULL, MODIFY prescription TEXT NULL;
ALTER TABLE care_delegates MODIFY phone VARCHAR(200) NOT NULL;
ALTER TABLE students MODIFY student_number VARCHAR(255) NULL;
