-- Encryption at rest (docs/encryption.md). data_keys holds the data keys, each wrapped by a master key from
-- configuration; the per-eye values of vision records move into one sealed column (eyes_sealed), referrals' visit
-- reports, pickup people and delegates' phones are sealed where they are. Rows from before stay readable in the clear
-- until the background re-encryption seals them; reencryption_progress lets it resume where it stopped.
CREATE TABLE data_keys (
    id TEXT NOT NULL PRIMARY KEY,
    master_key_id TEXT NOT NULL,
    wrapped TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE reencryption_progress (
    table_name TEXT NOT NULL PRIMARY KEY,
    key_id TEXT NOT NULL,
    cursor_key TEXT NULL,
    rows_rewritten INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT NULL
);

ALTER TABLE vision_records ADD COLUMN eyes_sealed TEXT NULL;
ALTER TABLE vision_record_history ADD COLUMN eyes_sealed TEXT NULL;
ALTER TABLE vision_records_transferred ADD COLUMN eyes_sealed TEXT NULL;
