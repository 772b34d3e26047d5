-- Registry chain, PostgreSQL dialect: the blocks and what became of each
-- operation, and the state the blocks' operations built (DID versions,
-- nonces, accreditations and their history, schemas, anchors).
-- Heights, versions and nonces are unsigned in Go and stored as BIGINT
-- (the store refuses values above 2^63-1). JSON is stored as TEXT, not
-- JSONB, byte for byte as the store encoded it, so that both dialects hold
-- the same bytes and StateDigest agrees across them. Key columns are
-- COLLATE "C": byte order, as SQLite sorts, whatever the database's
-- collation. State rows do not reference blocks: the state of a block is
-- written before the block itself, in the same transaction.

-- +goose Up
CREATE TABLE blocks (
    height     BIGINT      NOT NULL PRIMARY KEY CHECK (height > 0),
    hash       TEXT        COLLATE "C" NOT NULL UNIQUE, -- SHA-256 hex of header
    previous   TEXT        NOT NULL,
    time       TIMESTAMPTZ NOT NULL,
    op_count   INTEGER     NOT NULL CHECK (op_count >= 0),
    ops_root   TEXT        NOT NULL,
    state_root TEXT        NOT NULL,
    proposer   TEXT        NOT NULL,
    header     TEXT        NOT NULL, -- the header's canonical JSON, as signed
    signatures TEXT        NOT NULL  -- JSON array of validator signatures
);

CREATE TABLE block_ops (
    hash   TEXT    COLLATE "C" NOT NULL PRIMARY KEY, -- SHA-256 hex of jws
    height BIGINT  NOT NULL REFERENCES blocks (height),
    idx    INTEGER NOT NULL CHECK (idx >= 0),
    jws    TEXT    NOT NULL,
    UNIQUE (height, idx)
);

-- What became of each operation the chain has seen: committed (in a
-- block) or rejected (in none). Pending operations are not stored.
CREATE TABLE op_status (
    hash   TEXT        COLLATE "C" NOT NULL PRIMARY KEY,
    status TEXT        NOT NULL CHECK (status IN ('committed', 'rejected')),
    height BIGINT      REFERENCES blocks (height),
    idx    INTEGER     CHECK (idx >= 0),
    kind   TEXT        NOT NULL,
    reason TEXT        NOT NULL DEFAULT '',
    time   TIMESTAMPTZ NOT NULL,
    CHECK ((status = 'committed') = (height IS NOT NULL AND idx IS NOT NULL))
);

CREATE TABLE did_versions (
    did         TEXT        COLLATE "C" NOT NULL,
    version     BIGINT      NOT NULL CHECK (version > 0),
    document    TEXT        NOT NULL, -- JSON of the registry.DocumentSpec
    deactivated BOOLEAN     NOT NULL,
    height      BIGINT      NOT NULL,
    time        TIMESTAMPTZ NOT NULL,
    op_hash     TEXT        NOT NULL,
    PRIMARY KEY (did, version)
);
CREATE INDEX did_versions_did_time ON did_versions (did, time);

CREATE TABLE nonces (
    signer TEXT   COLLATE "C" NOT NULL PRIMARY KEY, -- the signer's DID
    nonce  BIGINT NOT NULL CHECK (nonce >= 0)
);

CREATE TABLE accreditations (
    id           TEXT        COLLATE "C" NOT NULL PRIMARY KEY, -- hash of the trust.accredit operation
    seq          BIGINT      NOT NULL UNIQUE, -- creation order, 1, 2, ...: Accreditations lists oldest first
    issuer       TEXT        COLLATE "C" NOT NULL,
    accreditor   TEXT        NOT NULL,
    types        TEXT        NOT NULL, -- JSON array
    districts    TEXT        NOT NULL, -- JSON array or null
    valid_from   TIMESTAMPTZ NOT NULL,
    valid_until  TIMESTAMPTZ,          -- NULL: open-ended
    may_delegate BOOLEAN     NOT NULL,
    delegated    BOOLEAN     NOT NULL,
    status       TEXT        NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
    height       BIGINT      NOT NULL, -- last change
    time         TIMESTAMPTZ NOT NULL
);
CREATE INDEX accreditations_issuer ON accreditations (issuer, seq);

CREATE TABLE accreditation_events (
    id            BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- insertion order
    accreditation TEXT        COLLATE "C" NOT NULL,
    kind          TEXT        NOT NULL,
    by_did        TEXT        NOT NULL,
    reason        TEXT        NOT NULL DEFAULT '',
    height        BIGINT      NOT NULL,
    time          TIMESTAMPTZ NOT NULL,
    op_hash       TEXT        NOT NULL
);
CREATE INDEX accreditation_events_accreditation ON accreditation_events (accreditation, id);

CREATE TABLE schemas (
    id      TEXT        COLLATE "C" NOT NULL PRIMARY KEY, -- SHA-256 hex of the canonical schema
    type    TEXT        NOT NULL,
    issuer  TEXT        NOT NULL,
    content TEXT        NOT NULL, -- the JSON Schema, as registered
    height  BIGINT      NOT NULL,
    time    TIMESTAMPTZ NOT NULL,
    op_hash TEXT        NOT NULL
);

CREATE TABLE anchors (
    root    TEXT        COLLATE "C" NOT NULL PRIMARY KEY,
    issuer  TEXT        NOT NULL,
    count   BIGINT      NOT NULL,
    type    TEXT        NOT NULL,
    height  BIGINT      NOT NULL,
    time    TIMESTAMPTZ NOT NULL,
    op_hash TEXT        NOT NULL
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
