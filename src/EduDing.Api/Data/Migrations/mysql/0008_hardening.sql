-- Events retried with backoff (next_attempt_at) and parked for an operator (parked_at) instead of marked processed.
ALTER TABLE dingtalk_events ADD COLUMN next_attempt_at DATETIME(6) NULL, ADD COLUMN parked_at DATETIME(6) NULL;
-- When an event last wrote the row: a full reconcile whose read began earlier leaves such rows as the event left them.
ALTER TABLE departments ADD COLUMN event_at DATETIME(6) NULL;
ALTER TABLE staff ADD COLUMN event_at DATETIME(6) NULL;
ALTER TABLE edu_nodes ADD COLUMN event_at DATETIME(6) NULL, ADD COLUMN roster_event_at DATETIME(6) NULL;
-- The refresh secret the session had before its last rotation: presenting it again is a reuse (revoke); any other
-- wrong secret proves nothing and revokes nothing.
ALTER TABLE sessions ADD COLUMN previous_refresh_hash VARCHAR(64) NULL;
