-- Anchoring of issued credentials, PostgreSQL dialect: one row per issued
-- credential, holding only the hex SHA-256 of the credential as issued
-- (the leaf), never the credential. The issuance's own transaction (with
-- its status entries) appends the row to issued_leaves, which has no
-- secondary index, so that it costs the issuance path one sequential
-- page; every anchoring round first moves those rows, in one transaction,
-- to credential_anchors, indexed for lookups. The anchorer then batches a
-- DID's unanchored leaves in seq order into a Merkle tree, anchors its
-- root on the registry chain (an `anchor` operation), and sets
-- batch_root, leaf_index, batch_size and op_hash on the batch's rows in
-- one transaction. Rows with batch_root NULL are pending. Times as in
-- 00001.

-- +goose Up
CREATE TABLE issued_leaves (
    seq           BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- issuance order
    agency_id     TEXT        NOT NULL REFERENCES agencies (id),
    issuer_id     TEXT        NOT NULL REFERENCES issuer_instances (id),
    issuer_did    TEXT        COLLATE "C" NOT NULL,
    credential_id TEXT        COLLATE "C", -- the credential's id (jti), NULL if it has none
    leaf          TEXT        COLLATE "C" NOT NULL CHECK (length(leaf) = 64),
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE credential_anchors (
    seq           BIGINT      NOT NULL PRIMARY KEY, -- issued_leaves.seq
    agency_id     TEXT        NOT NULL REFERENCES agencies (id),
    issuer_id     TEXT        NOT NULL REFERENCES issuer_instances (id),
    issuer_did    TEXT        COLLATE "C" NOT NULL,
    credential_id TEXT        COLLATE "C", -- the credential's id (jti), NULL if it has none
    leaf          TEXT        COLLATE "C" NOT NULL CHECK (length(leaf) = 64),
    created_at    TIMESTAMPTZ NOT NULL,
    batch_root    TEXT        COLLATE "C" CHECK (batch_root IS NULL OR length(batch_root) = 64),
    leaf_index    BIGINT      CHECK (leaf_index >= 0),
    batch_size    BIGINT      CHECK (batch_size > 0),
    op_hash       TEXT,
    CHECK ((batch_root IS NULL) = (op_hash IS NULL))
);
CREATE INDEX credential_anchors_credential ON credential_anchors (agency_id, credential_id);
CREATE INDEX credential_anchors_leaf ON credential_anchors (agency_id, leaf);
CREATE INDEX credential_anchors_batch ON credential_anchors (batch_root, leaf_index);
CREATE INDEX credential_anchors_pending ON credential_anchors (agency_id, issuer_did, seq) WHERE batch_root IS NULL;

-- +goose Down
DROP TABLE credential_anchors;
DROP TABLE issued_leaves;
