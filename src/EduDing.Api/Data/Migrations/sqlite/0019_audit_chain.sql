-- The tamper-evident audit log (docs/audit-chain.md): each entry is linked into one chain of its Beijing day and
-- partition by a keyed hash over its content and the previous entry's hash. Entries written before this migration
-- have no chain and are reported as such by the verification.
ALTER TABLE audit_log ADD COLUMN chain TEXT NULL;
ALTER TABLE audit_log ADD COLUMN seq INTEGER NULL;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT NULL;
ALTER TABLE audit_log ADD COLUMN hash TEXT NULL;
CREATE UNIQUE INDEX ux_audit_log_chain ON audit_log (chain, seq);

-- Each chain's last link: locked by the writer of the next entry, so instances append one at a time per chain.
CREATE TABLE audit_chain_heads (
    chain TEXT NOT NULL PRIMARY KEY,
    seq INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);
