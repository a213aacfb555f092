-- The tamper-evident audit log (docs/audit-chain.md): each entry is linked into one chain of its Beijing day and
-- partition by a keyed hash over its content and the previous entry's hash. Entries written before this migration
-- have no chain and are reported as such by the verification.
ALTER TABLE audit_log
    ADD COLUMN chain VARCHAR(32) COLLATE utf8mb4_bin NULL,
    ADD COLUMN seq BIGINT NULL,
    ADD COLUMN prev_hash CHAR(64) COLLATE utf8mb4_bin NULL,
    ADD COLUMN hash CHAR(64) COLLATE utf8mb4_bin NULL;
CREATE UNIQUE INDEX ux_audit_log_chain ON audit_log (chain, seq);

-- Each chain's last link: locked by the writer of the next entry, so instances append one at a time per chain.
CREATE TABLE audit_chain_heads (
    chain VARCHAR(32) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    seq BIGINT NOT NULL,
    last_hash CHAR(64) COLLATE utf8mb4_bin NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
