-- Bitstring Status Lists, SQLite dialect: one row per list, its status
-- bits and the set of indexes handed out, each a BLOB of size/8 bytes in
-- the specification's order (index 0 is the most significant bit of the
-- first byte). At most one list per issuer and purpose is open, so that
-- concurrent OpenList calls agree on it. Times are DATETIME in UTC with
-- microseconds, as in 00001.

-- +goose Up
CREATE TABLE status_lists (
    id      TEXT     NOT NULL PRIMARY KEY,
    purpose TEXT     NOT NULL,
    issuer  TEXT     NOT NULL, -- the issuer DID
    size    INTEGER  NOT NULL CHECK (size > 0 AND size % 8 = 0),
    bits    BLOB     NOT NULL CHECK (length(bits) * 8 = size), -- status bits
    used    BLOB     NOT NULL CHECK (length(used) * 8 = size), -- bit i set once index i is handed out
    closed  BOOLEAN  NOT NULL CHECK (closed IN (0, 1)),
    version INTEGER  NOT NULL CHECK (version >= 0), -- bumped when a status bit changes
    updated DATETIME NOT NULL -- creation, or the last change of a status bit
);
CREATE UNIQUE INDEX status_lists_open ON status_lists (issuer, purpose) WHERE NOT closed;

-- +goose Down
DROP TABLE status_lists;
