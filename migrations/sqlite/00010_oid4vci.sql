-- OpenID4VCI offers and spent c_nonces, sqlite dialect. An offer holds the
-- subject's claims until every offered credential is issued or the offer
-- (and its access token) expires: then claims is NULL, and rows past
-- purge_at are deleted by the sweep. The offer's reference, its
-- pre-authorized code, its transaction code and its access token are
-- stored only as hex SHA-256 hashes. Single use is decided here: redeeming
-- a code and issuing a configuration are conditional UPDATEs, spending a
-- nonce is an INSERT into oid4vci_nonces keyed by its hash. Times are
-- DATETIME in UTC with microseconds, as in 00001.

-- +goose Up
CREATE TABLE oid4vci_offers (
    id                TEXT     NOT NULL PRIMARY KEY, -- SHA-256 of the offer reference
    agency_id         TEXT     NOT NULL REFERENCES agencies (id),
    issuer_id         TEXT     NOT NULL REFERENCES issuer_instances (id),
    format            TEXT     NOT NULL,
    configuration_ids TEXT     NOT NULL, -- JSON array
    claims            TEXT,              -- JSON object; NULL once no longer needed
    code_hash         TEXT     NOT NULL UNIQUE,
    tx_code_hash      TEXT     NOT NULL, -- '' without a transaction code
    tx_code_length    INTEGER  NOT NULL,
    tx_code_text      TEXT     NOT NULL, -- the description shown to the holder
    tx_attempts       INTEGER  NOT NULL,
    expires_at        DATETIME NOT NULL,
    redeemed          BOOLEAN  NOT NULL CHECK (redeemed IN (0, 1)),
    token_hash        TEXT     UNIQUE,
    token_expires_at  DATETIME,
    issued            TEXT     NOT NULL, -- JSON array of issued configuration ids
    purge_at          DATETIME NOT NULL,
    created_at        DATETIME NOT NULL
);
CREATE INDEX oid4vci_offers_purge_at ON oid4vci_offers (purge_at);

CREATE TABLE oid4vci_nonces (
    hash       TEXT     NOT NULL PRIMARY KEY, -- SHA-256 of a spent c_nonce
    expires_at DATETIME NOT NULL
);
CREATE INDEX oid4vci_nonces_expires_at ON oid4vci_nonces (expires_at);

-- +goose Down
DROP TABLE oid4vci_nonces;
DROP TABLE oid4vci_offers;
