-- did_versions loses its (did, time) index. Block times never go back, so
-- a DID's versions are in time order, and the version in force at a time
-- is found by a binary search over the (did, version) primary key
-- (store.DIDVersionAt). The index cost every DID version a random-key
-- entry, written by the sequencer inside each block.

-- +goose Up
DROP INDEX did_versions_did_time;

-- +goose Down
CREATE INDEX did_versions_did_time ON did_versions (did, time);
