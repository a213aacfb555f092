-- A notice's outbox is queued in parts, every school's first batch first (docs/notices.md "Queued in parts"):
-- audience_queued stays false from the first part until the last, so that an instance that died in between is
-- followed by another that queues what is missing, and a notice is never complete before its whole audience is queued.
ALTER TABLE notices ADD COLUMN audience_queued INTEGER NOT NULL DEFAULT 1;
CREATE INDEX ix_notices_partly_queued ON notices (status, audience_queued);

-- Which part of its notice's queueing a batch came in (NULL for batches re-queued or split off later, and reminders).
ALTER TABLE notice_batches ADD COLUMN queue_part INTEGER NULL;
CREATE INDEX ix_notice_batches_part ON notice_batches (notice_id, queue_part);
