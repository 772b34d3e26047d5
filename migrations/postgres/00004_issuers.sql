-- Issuer instances, postgres dialect: an agency binds one of its DIDs to a
-- proof format and the credential types it may issue with it (W3C VC-API
-- issuer instances). The signing key is the DID's current key, looked up
-- at issuance, so a did:urbis key rotation needs no change here. Times are
-- TIMESTAMPTZ in UTC with microseconds, as in 00001.

-- +goose Up
CREATE TABLE issuer_instances (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    agency_id   TEXT NOT NULL REFERENCES agencies (id),
    did         TEXT NOT NULL REFERENCES dids (did),
    format      TEXT NOT NULL CHECK (format IN ('ldp_vc', 'jwt_vc_json', 'dc+sd-jwt')),
    cryptosuite TEXT NOT NULL, -- eddsa-rdfc-2022, or the JOSE alg (EdDSA, ES256)
    types       TEXT NOT NULL, -- JSON array of credential types
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX issuer_instances_agency_id ON issuer_instances (agency_id, created_at);

-- +goose Down
DROP TABLE issuer_instances;
