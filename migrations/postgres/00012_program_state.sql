-- The civic programs' state (registry.Program), PostgreSQL dialect: one
-- ordered key-value table that programs write only through the chain's
-- state machine. Keys are printable ASCII, compared bytewise (COLLATE
-- "C"); values are canonical JSON.

-- +goose Up
CREATE TABLE program_state (
    key   TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 512),
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE program_state;
