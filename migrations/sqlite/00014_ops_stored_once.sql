-- A committed operation is stored once, in block_ops, which now keeps its
-- kind; op_status keeps only the operations the chain rejected (and the
-- CometBFT application's own record). Reading an operation's status looks
-- in block_ops first: a commit wins over an earlier or later rejection.
-- Each operation used to cost two rows and two random-key index entries.

-- +goose Up
ALTER TABLE block_ops ADD COLUMN kind TEXT NOT NULL DEFAULT '';
UPDATE block_ops SET kind = COALESCE((SELECT kind FROM op_status WHERE op_status.hash = block_ops.hash), '');
DELETE FROM op_status WHERE status = 'committed';

-- +goose Down
INSERT INTO op_status (hash, status, height, idx, kind, reason, time)
SELECT o.hash, 'committed', o.height, o.idx, o.kind, '', b.time FROM block_ops o JOIN blocks b ON b.height = o.height WHERE true
ON CONFLICT (hash) DO UPDATE SET status = excluded.status, height = excluded.height, idx = excluded.idx,
    kind = excluded.kind, reason = excluded.reason, time = excluded.time;
ALTER TABLE block_ops DROP COLUMN kind;
