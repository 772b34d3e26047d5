-- OpenID4VP presentation requests, postgres dialect (verifiers/oid4vp). One row
-- per request: the signed request object the wallet fetches, the nonce and
-- state (unique, single use), the DCQL query, and once answered the outcome
-- as JSON and the requested claims only, never the presentations. The claims
-- (their own column, so that erasing them and recording a webhook delivery
-- never overwrite each other) are erased when the owner reads them or a webhook delivers them; the row
-- is deleted a while after the request expires (oid4vp.Service.Purge).
-- A request is answered once: the store moves it from pending with a
-- conditional UPDATE. Times are TIMESTAMPTZ in UTC, as in 00001.

-- +goose Up
CREATE TABLE vp_requests (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    agency_id   TEXT NOT NULL REFERENCES agencies (id),
    did         TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    nonce       TEXT NOT NULL UNIQUE,
    state       TEXT NOT NULL UNIQUE,
    query       TEXT NOT NULL, -- the DCQL query, JSON
    template    TEXT NOT NULL DEFAULT '',
    webhook_url TEXT NOT NULL DEFAULT '',
    object      TEXT NOT NULL, -- the signed request object, compact JWS
    status      TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'failed')),
    outcome     TEXT,          -- JSON, once answered: checks and errors
    claims      TEXT,          -- JSON, the verified claims until read, delivered or purged
    webhook     TEXT NOT NULL DEFAULT '', -- 'delivered', or why delivery failed
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX vp_requests_expires_at ON vp_requests (expires_at);

-- +goose Down
DROP TABLE vp_requests;
