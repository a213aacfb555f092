-- The provincial platform's records (docs/training.md): imported as credits of source 'provincial', each with the key
-- of its row (the teacher's account and the platform's project code) so that a re-import updates instead of adding,
-- and the training level (省/市/县/校). A local credit that a provincial record replaces is 'superseded' by it.
ALTER TABLE training_credits ADD COLUMN provincial_key VARCHAR(200) COLLATE utf8mb4_bin NULL;
ALTER TABLE training_credits ADD COLUMN training_level VARCHAR(16) NULL;
ALTER TABLE training_credits ADD COLUMN superseded_by BIGINT NULL;
CREATE UNIQUE INDEX ux_training_credits_provincial ON training_credits (provincial_key);

CREATE TABLE training_imports (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    file_sha256 VARCHAR(64) NOT NULL,
    file_name VARCHAR(200) NOT NULL,
    total_rows INT NOT NULL,
    good_rows INT NOT NULL,
    created INT NOT NULL,
    updated INT NOT NULL,
    unchanged INT NOT NULL,
    superseded INT NOT NULL,
    imported_by_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    imported_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    imported_at DATETIME(6) NOT NULL,
    KEY ix_training_imports_corp (corp_id, imported_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
