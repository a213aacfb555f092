-- Retention and 学籍 transfer (docs/privacy.md). When a student who left one school appears in another school of the same
-- unionId space within the transfer window, their vision history is copied to the receiving school
-- (vision_records_transferred, under the receiving school's ids; never part of either school's statistics) and the
-- transfer is recorded once (student_transfers). retention_runs reports what each run of the retention job did.
CREATE TABLE vision_records_transferred LIKE vision_records;
ALTER TABLE vision_records_transferred
    ADD COLUMN from_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    ADD COLUMN from_student_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    ADD COLUMN transferred_at DATETIME(6) NOT NULL,
    DROP PRIMARY KEY,
    ADD PRIMARY KEY (corp_id, student_user_id, round_id, from_corp_id);

CREATE TABLE student_transfers (
    from_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    from_student_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    to_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    to_student_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    records INT NOT NULL,
    transferred_at DATETIME(6) NOT NULL,
    PRIMARY KEY (from_corp_id, from_student_user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE retention_runs (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    started_at DATETIME(6) NOT NULL,
    finished_at DATETIME(6) NOT NULL,
    transfers INT NOT NULL,
    transferred_records INT NOT NULL,
    vision_erased INT NOT NULL,
    care_erased INT NOT NULL,
    care_held INT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE INDEX ix_students_removed ON students (removed_at);
