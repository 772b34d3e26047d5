-- Urbis schema, SQLite dialect.
-- Times are DATETIME so the driver returns them as time.Time; the store
-- writes them in UTC ("2006-01-02 15:04:05.999999999+00:00"), which sorts
-- as text in time order.

-- +goose Up
CREATE TABLE agencies (
    id         TEXT     NOT NULL PRIMARY KEY,
    name       TEXT     NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at DATETIME NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT     NOT NULL PRIMARY KEY,
    agency_id  TEXT     NOT NULL REFERENCES agencies (id),
    hash       TEXT     NOT NULL UNIQUE, -- sha256 hex of the key; the key itself is never stored
    prefix     TEXT     NOT NULL,        -- first characters of the key, for display
    created_at DATETIME NOT NULL,
    revoked_at DATETIME
);
CREATE INDEX api_keys_agency_id ON api_keys (agency_id);

CREATE TABLE keys (
    id          TEXT     NOT NULL PRIMARY KEY,
    agency_id   TEXT     NOT NULL REFERENCES agencies (id),
    type        TEXT     NOT NULL CHECK (type IN ('Ed25519', 'P-256')),
    public_key  BLOB     NOT NULL, -- PKIX DER
    wrapped_dek BLOB     NOT NULL, -- data key sealed under the master key
    sealed      BLOB     NOT NULL, -- private key sealed under the data key
    created_at  DATETIME NOT NULL,
    status      TEXT     NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'rotated')),
    replaced_by TEXT     REFERENCES keys (id),
    UNIQUE (id, agency_id)
);
CREATE INDEX keys_agency_id ON keys (agency_id);

CREATE TABLE dids (
    did         TEXT     NOT NULL PRIMARY KEY,
    agency_id   TEXT     NOT NULL REFERENCES agencies (id),
    method      TEXT     NOT NULL,
    key_id      TEXT     NOT NULL,
    created_at  DATETIME NOT NULL,
    status      TEXT     NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'rotated', 'deactivated')),
    replaced_by TEXT     REFERENCES dids (did),
    -- a DID can only be bound to a key of its own agency
    FOREIGN KEY (key_id, agency_id) REFERENCES keys (id, agency_id)
);
CREATE INDEX dids_agency_id ON dids (agency_id);
CREATE INDEX dids_key_id ON dids (key_id);

-- +goose Down
DROP TABLE dids;
DROP TABLE keys;
DROP TABLE api_keys;
DROP TABLE agencies;
