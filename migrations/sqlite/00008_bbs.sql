-- BBS+ (sqlite dialect): keys of type Bls12381G2 (the public key is the
-- 96-byte compressed G2 point, the sealed private key the 32-byte
-- scalar), and issuer instances of format ldp_vc-bbs. SQLite cannot
-- change a CHECK constraint, so both tables are rebuilt. Other tables
-- refer to them (dids to keys, credential_statuses to issuer_instances):
-- with defer_foreign_keys the references dangle only inside this
-- transaction, and putting the rows back settles them before commit.

-- +goose Up
PRAGMA defer_foreign_keys = ON;

CREATE TABLE keys_copy AS SELECT * FROM keys;
DROP TABLE keys;
CREATE TABLE keys (
    id          TEXT     NOT NULL PRIMARY KEY,
    agency_id   TEXT     NOT NULL REFERENCES agencies (id),
    type        TEXT     NOT NULL CHECK (type IN ('Ed25519', 'P-256', 'Bls12381G2')),
    public_key  BLOB     NOT NULL, -- PKIX DER; the compressed G2 point for Bls12381G2
    wrapped_dek BLOB     NOT NULL, -- data key sealed under the master key
    sealed      BLOB     NOT NULL, -- private key sealed under the data key
    created_at  DATETIME NOT NULL,
    status      TEXT     NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'rotated')),
    replaced_by TEXT     REFERENCES keys (id),
    UNIQUE (id, agency_id)
);
INSERT INTO keys (id, agency_id, type, public_key, wrapped_dek, sealed, created_at, status, replaced_by)
    SELECT id, agency_id, type, public_key, wrapped_dek, sealed, created_at, status, replaced_by FROM keys_copy;
DROP TABLE keys_copy;
CREATE INDEX keys_agency_id ON keys (agency_id);

CREATE TABLE issuer_instances_copy AS SELECT * FROM issuer_instances;
DROP TABLE issuer_instances;
CREATE TABLE issuer_instances (
    id              TEXT NOT NULL PRIMARY KEY,
    agency_id       TEXT NOT NULL REFERENCES agencies (id),
    did             TEXT NOT NULL REFERENCES dids (did),
    format          TEXT NOT NULL CHECK (format IN ('ldp_vc', 'jwt_vc_json', 'dc+sd-jwt', 'ldp_vc-bbs')),
    cryptosuite     TEXT NOT NULL, -- eddsa-rdfc-2022, Ed25519Signature2020, BbsBlsSignature2020, or the JOSE alg (EdDSA, ES256)
    types           TEXT NOT NULL, -- JSON array of credential types
    created_at      DATETIME NOT NULL,
    status_purposes TEXT NOT NULL DEFAULT '["revocation"]'
);
INSERT INTO issuer_instances (id, agency_id, did, format, cryptosuite, types, created_at, status_purposes)
    SELECT id, agency_id, did, format, cryptosuite, types, created_at, status_purposes FROM issuer_instances_copy;
DROP TABLE issuer_instances_copy;
CREATE INDEX issuer_instances_agency_id ON issuer_instances (agency_id, created_at);

-- +goose Down
-- Fails (CHECK constraint) while Bls12381G2 keys or ldp_vc-bbs instances exist.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE issuer_instances_copy AS SELECT * FROM issuer_instances;
DROP TABLE issuer_instances;
CREATE TABLE issuer_instances (
    id              TEXT NOT NULL PRIMARY KEY,
    agency_id       TEXT NOT NULL REFERENCES agencies (id),
    did             TEXT NOT NULL REFERENCES dids (did),
    format          TEXT NOT NULL CHECK (format IN ('ldp_vc', 'jwt_vc_json', 'dc+sd-jwt')),
    cryptosuite     TEXT NOT NULL, -- eddsa-rdfc-2022, or the JOSE alg (EdDSA, ES256)
    types           TEXT NOT NULL, -- JSON array of credential types
    created_at      DATETIME NOT NULL,
    status_purposes TEXT NOT NULL DEFAULT '["revocation"]'
);
INSERT INTO issuer_instances (id, agency_id, did, format, cryptosuite, types, created_at, status_purposes)
    SELECT id, agency_id, did, format, cryptosuite, types, created_at, status_purposes FROM issuer_instances_copy;
DROP TABLE issuer_instances_copy;
CREATE INDEX issuer_instances_agency_id ON issuer_instances (agency_id, created_at);

CREATE TABLE keys_copy AS SELECT * FROM keys;
DROP TABLE keys;
CREATE TABLE keys (
    id          TEXT     NOT NULL PRIMARY KEY,
    agency_id   TEXT     NOT NULL REFERENCES agencies (id),
    type        TEXT     NOT NULL CHECK (type IN ('Ed25519', 'P-256')),
    public_key  BLOB     NOT NULL, -- PKIX DER
    wrapped_dek BLOB     NOT NULL, -- data key sealed under the master key
    sealed      BLOB     NOT NULL, -- private key sealed under the data key
    created_at  DATETIME NOT NULL,
    status      TEXT     NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'rotated')),
    replaced_by TEXT     REFERENCES keys (id),
    UNIQUE (id, agency_id)
);
INSERT INTO keys (id, agency_id, type, public_key, wrapped_dek, sealed, created_at, status, replaced_by)
    SELECT id, agency_id, type, public_key, wrapped_dek, sealed, created_at, status, replaced_by FROM keys_copy;
DROP TABLE keys_copy;
CREATE INDEX keys_agency_id ON keys (agency_id);
