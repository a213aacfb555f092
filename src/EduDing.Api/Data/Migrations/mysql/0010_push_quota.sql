-- A corp whose monthly event pushes ran out (DingTalk answered 20001): events stop until the month turns, and the
-- mirror is kept by reconciling instead. push_paused_month is yyyymm (Asia/Shanghai).
ALTER TABLE corps ADD COLUMN push_paused_month INT NULL, ADD COLUMN push_paused_reason VARCHAR(500) NULL;
