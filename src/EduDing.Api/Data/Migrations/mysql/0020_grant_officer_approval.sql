-- A grant of access to children's identifiable records takes effect only once the child-data officer approved it
-- (docs/privacy.md): confirmed_at is that approval, refused_at the officer's refusal, approval_id the request decided.
-- Grants made before this migration were given under the old rule and stay in force until they end.
ALTER TABLE access_grants
    ADD COLUMN confirmed_at DATETIME(6) NULL,
    ADD COLUMN refused_at DATETIME(6) NULL,
    ADD COLUMN approval_id BIGINT NULL;
UPDATE access_grants SET confirmed_at = granted_at;
