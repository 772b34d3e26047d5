-- Credential status, sqlite dialect: the status purposes an issuer instance
-- puts in credentialStatus (a JSON array of "revocation" and
-- "suspension"), and, for each credential issued with a status entry, the
-- list and index of each purpose, so the issuing agency can change its
-- status (POST /credentials/status). Times as in 00001.

-- +goose Up
ALTER TABLE issuer_instances ADD COLUMN status_purposes TEXT NOT NULL DEFAULT '["revocation"]';

CREATE TABLE credential_statuses (
    credential_id TEXT NOT NULL, -- the credential's id
    purpose       TEXT NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    list_id       TEXT NOT NULL REFERENCES status_lists (id),
    idx           INTEGER NOT NULL CHECK (idx >= 0),
    agency_id     TEXT NOT NULL REFERENCES agencies (id),
    issuer_id     TEXT NOT NULL REFERENCES issuer_instances (id),
    created_at    DATETIME NOT NULL,
    PRIMARY KEY (credential_id, purpose)
);
CREATE INDEX credential_statuses_list ON credential_statuses (list_id);

-- +goose Down
DROP TABLE credential_statuses;
ALTER TABLE issuer_instances DROP COLUMN status_purposes;
