-- Issued credentials in the agency console, sqlite dialect: the reason
-- an agency gave with the last change of a status entry
-- (POST /credentials/status, kept off chain, never published) and when it
-- was made; and an index for listing an agency's credentials newest first
-- (GET /credentials). Times as in 00001.

-- +goose Up
ALTER TABLE credential_statuses ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE credential_statuses ADD COLUMN changed_at DATETIME;
CREATE INDEX credential_statuses_agency ON credential_statuses (agency_id, created_at);

-- +goose Down
DROP INDEX credential_statuses_agency;
ALTER TABLE credential_statuses DROP COLUMN changed_at;
ALTER TABLE credential_statuses DROP COLUMN reason;
