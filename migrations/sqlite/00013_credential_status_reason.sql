-- Issued credentials in the agency console, sqlite dialect: the reason an
-- agency gave with the last change of a status entry
-- (POST /credentials/status, kept off chain, never published) and when it
-- was made, one row per entry that has changed (credential_statuses keeps
-- its columns); and an index for listing an agency's credentials newest
-- first (GET /credentials). Times as in 00001.

-- +goose Up
CREATE TABLE credential_status_notes (
    credential_id TEXT NOT NULL,
    purpose       TEXT NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    agency_id     TEXT NOT NULL REFERENCES agencies (id),
    reason        TEXT NOT NULL,
    changed_at    DATETIME NOT NULL,
    PRIMARY KEY (credential_id, purpose)
);
CREATE INDEX credential_statuses_agency ON credential_statuses (agency_id, created_at);

-- +goose Down
DROP INDEX credential_statuses_agency;
DROP TABLE credential_status_notes;
