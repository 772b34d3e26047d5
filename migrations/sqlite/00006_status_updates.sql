-- Status changes anchored on the registry chain (status.update), SQLite
-- dialect: one row per change of one bit of a status list, in the order
-- the chain applied them (seq), so that "what was this bit at time t"
-- has an answer. The first row of a list binds the list to its issuer.

-- +goose Up
CREATE TABLE status_updates (
    seq     INTEGER  NOT NULL PRIMARY KEY CHECK (seq > 0), -- application order, 1, 2, ...
    list    TEXT     NOT NULL, -- URL of the status list credential
    idx     INTEGER  NOT NULL CHECK (idx >= 0),
    purpose TEXT     NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    value   BOOLEAN  NOT NULL CHECK (value IN (0, 1)),
    issuer  TEXT     NOT NULL,
    height  INTEGER  NOT NULL,
    time    DATETIME NOT NULL,
    op_hash TEXT     NOT NULL UNIQUE
);
CREATE INDEX status_updates_bit ON status_updates (list, idx, purpose, seq);

-- +goose Down
DROP TABLE status_updates;
