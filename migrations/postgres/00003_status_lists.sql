-- Bitstring Status Lists, PostgreSQL dialect: one row per list, its
-- status bits and the set of indexes handed out, each a BYTEA of size/8
-- bytes in the specification's order (index 0 is the most significant bit
-- of the first byte; PostgreSQL's get_bit and set_bit number bits from the
-- least significant, so the store addresses index i as bit i # 7). At
-- most one list per issuer and purpose is open, so that concurrent
-- OpenList calls agree on it. Key columns are COLLATE "C", as in 00002.

-- +goose Up
CREATE TABLE status_lists (
    id      TEXT        COLLATE "C" NOT NULL PRIMARY KEY,
    purpose TEXT        COLLATE "C" NOT NULL,
    issuer  TEXT        COLLATE "C" NOT NULL, -- the issuer DID
    size    INTEGER     NOT NULL CHECK (size > 0 AND size % 8 = 0),
    bits    BYTEA       NOT NULL CHECK (octet_length(bits) * 8 = size), -- status bits
    used    BYTEA       NOT NULL CHECK (octet_length(used) * 8 = size), -- bit i set once index i is handed out
    closed  BOOLEAN     NOT NULL,
    version BIGINT      NOT NULL CHECK (version >= 0), -- bumped when a status bit changes
    updated TIMESTAMPTZ NOT NULL -- creation, or the last change of a status bit
);
CREATE UNIQUE INDEX status_lists_open ON status_lists (issuer, purpose) WHERE NOT closed;

-- +goose Down
DROP TABLE status_lists;
