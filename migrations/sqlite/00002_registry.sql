-- Registry chain, SQLite dialect: the blocks and what became of each
-- operation, and the state the blocks' operations built (DID versions,
-- nonces, accreditations and their history, schemas, anchors).
-- Heights, versions and nonces are unsigned in Go and stored as INTEGER
-- (the store refuses values above 2^63-1). JSON is stored as TEXT, byte
-- for byte as the store encoded it, so that both dialects hold the same
-- bytes and StateDigest agrees across them. Times are DATETIME in UTC with
-- microseconds, as in 00001. State rows do not reference blocks: the state
-- of a block is written before the block itself, in the same transaction.

-- +goose Up
CREATE TABLE blocks (
    height     INTEGER  NOT NULL PRIMARY KEY CHECK (height > 0),
    hash       TEXT     NOT NULL UNIQUE, -- SHA-256 hex of header
    previous   TEXT     NOT NULL,
    time       DATETIME NOT NULL,
    op_count   INTEGER  NOT NULL CHECK (op_count >= 0),
    ops_root   TEXT     NOT NULL,
    state_root TEXT     NOT NULL,
    proposer   TEXT     NOT NULL,
    header     TEXT     NOT NULL, -- the header's canonical JSON, as signed
    signatures TEXT     NOT NULL  -- JSON array of validator signatures
);

CREATE TABLE block_ops (
    hash   TEXT    NOT NULL PRIMARY KEY, -- SHA-256 hex of jws
    height INTEGER NOT NULL REFERENCES blocks (height),
    idx    INTEGER NOT NULL CHECK (idx >= 0),
    jws    TEXT    NOT NULL,
    UNIQUE (height, idx)
);

-- What became of each operation the chain has seen: committed (in a
-- block) or rejected (in none). Pending operations are not stored.
CREATE TABLE op_status (
    hash   TEXT     NOT NULL PRIMARY KEY,
    status TEXT     NOT NULL CHECK (status IN ('committed', 'rejected')),
    height INTEGER  REFERENCES blocks (height),
    idx    INTEGER  CHECK (idx >= 0),
    kind   TEXT     NOT NULL,
    reason TEXT     NOT NULL DEFAULT '',
    time   DATETIME NOT NULL,
    CHECK ((status = 'committed') = (height IS NOT NULL AND idx IS NOT NULL))
);

CREATE TABLE did_versions (
    did         TEXT     NOT NULL,
    version     INTEGER  NOT NULL CHECK (version > 0),
    document    TEXT     NOT NULL, -- JSON of the registry.DocumentSpec
    deactivated BOOLEAN  NOT NULL CHECK (deactivated IN (0, 1)),
    height      INTEGER  NOT NULL,
    time        DATETIME NOT NULL,
    op_hash     TEXT     NOT NULL,
    PRIMARY KEY (did, version)
);
CREATE INDEX did_versions_did_time ON did_versions (did, time);

CREATE TABLE nonces (
    signer TEXT    NOT NULL PRIMARY KEY, -- the signer's DID
    nonce  INTEGER NOT NULL CHECK (nonce >= 0)
);

CREATE TABLE accreditations (
    id           TEXT     NOT NULL PRIMARY KEY, -- hash of the trust.accredit operation
    seq          INTEGER  NOT NULL UNIQUE,      -- creation order, 1, 2, ...: Accreditations lists oldest first
    issuer       TEXT     NOT NULL,
    accreditor   TEXT     NOT NULL,
    types        TEXT     NOT NULL, -- JSON array
    districts    TEXT     NOT NULL, -- JSON array or null
    valid_from   DATETIME NOT NULL,
    valid_until  DATETIME,          -- NULL: open-ended
    may_delegate BOOLEAN  NOT NULL CHECK (may_delegate IN (0, 1)),
    delegated    BOOLEAN  NOT NULL CHECK (delegated IN (0, 1)),
    status       TEXT     NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
    height       INTEGER  NOT NULL, -- last change
    time         DATETIME NOT NULL
);
CREATE INDEX accreditations_issuer ON accreditations (issuer, seq);

CREATE TABLE accreditation_events (
    id            INTEGER  NOT NULL PRIMARY KEY, -- the rowid: insertion order, never reused
    accreditation TEXT     NOT NULL,
    kind          TEXT     NOT NULL,
    by_did        TEXT     NOT NULL,
    reason        TEXT     NOT NULL DEFAULT '',
    height        INTEGER  NOT NULL,
    time          DATETIME NOT NULL,
    op_hash       TEXT     NOT NULL
);
CREATE INDEX accreditation_events_accreditation ON accreditation_events (accreditation, id);

CREATE TABLE schemas (
    id      TEXT     NOT NULL PRIMARY KEY, -- SHA-256 hex of the canonical schema
    type    TEXT     NOT NULL,
    issuer  TEXT     NOT NULL,
    content TEXT     NOT NULL, -- the JSON Schema, as registered
    height  INTEGER  NOT NULL,
    time    DATETIME NOT NULL,
    op_hash TEXT     NOT NULL
);

CREATE TABLE anchors (
    root    TEXT     NOT NULL PRIMARY KEY,
    issuer  TEXT     NOT NULL,
    count   INTEGER  NOT NULL,
    type    TEXT     NOT NULL,
    height  INTEGER  NOT NULL,
    time    DATETIME NOT NULL,
    op_hash TEXT     NOT NULL
);

-- +goose Down
DROP TABLE anchors;
DROP TABLE schemas;
DROP TABLE accreditation_events;
DROP TABLE accreditations;
DROP TABLE nonces;
DROP TABLE did_versions;
DROP TABLE op_status;
DROP TABLE block_ops;
DROP TABLE blocks;
