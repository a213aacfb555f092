-- A notice's outbox is queued in parts, the largest schools first (docs/notices.md "Queued school by school"):
-- audience_queued stays false from the first part until the last, so that an instance that died in between is
-- followed by another that queues what is missing, and a notice is never complete before its whole audience is queued.
ALTER TABLE notices ADD COLUMN audience_queued INTEGER NOT NULL DEFAULT 1;
CREATE INDEX ix_notices_partly_queued ON notices (status, audience_queued);
