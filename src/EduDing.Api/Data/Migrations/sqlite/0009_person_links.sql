-- One person's accounts in two corps, linked by an explicit, verified act (never by name): the person proving both
-- accounts with two 免登 codes, or a school admin after checking. Unlinking keeps the row (audit), with who and when.
CREATE TABLE person_links (
    id INTEGER PRIMARY KEY,
    corp_id_a TEXT NOT NULL,
    user_id_a TEXT NOT NULL,
    corp_id_b TEXT NOT NULL,
    user_id_b TEXT NOT NULL,
    method TEXT NOT NULL,
    evidence TEXT NULL,
    created_by_corp_id TEXT NOT NULL,
    created_by_user_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    unlinked_at TEXT NULL,
    unlinked_by_corp_id TEXT NULL,
    unlinked_by_user_id TEXT NULL
);
CREATE INDEX ix_person_links_a ON person_links (corp_id_a, user_id_a);
CREATE INDEX ix_person_links_b ON person_links (corp_id_b, user_id_b);
