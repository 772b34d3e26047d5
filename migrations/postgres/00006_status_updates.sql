-- Status changes anchored on the registry chain (status.update),
-- PostgreSQL dialect: one row per change of one bit of a status list, in
-- the order the chain applied them (seq), so that "what was this bit at
-- time t" has an answer. The first row of a list binds the list to its
-- issuer. seq is computed by the store, not an identity, so that it is
-- state: replays give the same seqs.

-- +goose Up
CREATE TABLE status_updates (
    seq     BIGINT      NOT NULL PRIMARY KEY CHECK (seq > 0),
    list    TEXT        COLLATE "C" NOT NULL,
    idx     BIGINT      NOT NULL CHECK (idx >= 0),
    purpose TEXT        NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    value   BOOLEAN     NOT NULL,
    issuer  TEXT        NOT NULL,
    height  BIGINT      NOT NULL,
    time    TIMESTAMPTZ NOT NULL,
    op_hash TEXT        NOT NULL UNIQUE
);
CREATE INDEX status_updates_bit ON status_updates (list, idx, purpose, seq);

-- +goose Down
DROP TABLE status_updates;
