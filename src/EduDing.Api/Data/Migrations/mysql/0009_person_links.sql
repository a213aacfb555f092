-- One person's accounts in two corps, linked by an explicit, verified act (never by name): the person proving both
-- accounts with two 免登 codes, or a school admin after checking. Unlinking keeps the row (audit), with who and when.
CREATE TABLE person_links (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    corp_id_a VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id_a VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    corp_id_b VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    user_id_b VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    method VARCHAR(32) NOT NULL,
    evidence VARCHAR(500) NULL,
    created_by_corp_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    created_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    created_at DATETIME(6) NOT NULL,
    unlinked_at DATETIME(6) NULL,
    unlinked_by_corp_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    unlinked_by_user_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
    KEY ix_person_links_a (corp_id_a, user_id_a),
    KEY ix_person_links_b (corp_id_b, user_id_b)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
