-- BBS+ (postgres dialect): keys of type Bls12381G2 (the public key is the
-- 96-byte compressed G2 point, the sealed private key the 32-byte
-- scalar), and issuer instances of format ldp_vc-bbs.

-- +goose Up
ALTER TABLE keys DROP CONSTRAINT keys_type_check;
ALTER TABLE keys ADD CONSTRAINT keys_type_check CHECK (type IN ('Ed25519', 'P-256', 'Bls12381G2'));
ALTER TABLE issuer_instances DROP CONSTRAINT issuer_instances_format_check;
ALTER TABLE issuer_instances ADD CONSTRAINT issuer_instances_format_check CHECK (format IN ('ldp_vc', 'jwt_vc_json', 'dc+sd-jwt', 'ldp_vc-bbs'));

-- +goose Down
-- Fails (CHECK constraint) while Bls12381G2 keys or ldp_vc-bbs instances exist.
ALTER TABLE issuer_instances DROP CONSTRAINT issuer_instances_format_check;
ALTER TABLE issuer_instances ADD CONSTRAINT issuer_instances_format_check CHECK (format IN ('ldp_vc', 'jwt_vc_json', 'dc+sd-jwt'));
ALTER TABLE keys DROP CONSTRAINT keys_type_check;
ALTER TABLE keys ADD CONSTRAINT keys_type_check CHECK (type IN ('Ed25519', 'P-256'));
