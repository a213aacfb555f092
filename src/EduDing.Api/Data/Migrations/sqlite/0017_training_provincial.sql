-- The provincial platform's records (docs/training.md): imported as credits of source 'provincial', each with the key
-- of its row (the teacher's account and the platform's project code) so that a re-import updates instead of adding,
-- and the training level (省/市/县/校). A local credit that a provincial record replaces is 'superseded' by it.
ALTER TABLE training_credits ADD COLUMN provincial_key TEXT NULL;
ALTER TABLE training_credits ADD COLUMN training_level TEXT NULL;
ALTER TABLE training_credits ADD COLUMN superseded_by INTEGER NULL;
CREATE UNIQUE INDEX ux_training_credits_provincial ON training_credits (provincial_key);

CREATE TABLE training_imports (
    id INTEGER PRIMARY KEY,
    corp_id TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    total_rows INTEGER NOT NULL,
    good_rows INTEGER NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    superseded INTEGER NOT NULL,
    imported_by_corp_id TEXT NOT NULL,
    imported_by_user_id TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE INDEX ix_training_imports_corp ON training_imports (corp_id, imported_at);
