package registry

import (
	"context"
	"errors"
	"slices"

	"github.com/urbis-id/urbis/internal/errkind"
)

// maxProgReads bounds the program state reads a block remembers.
const maxProgReads = 50_000

// progRead is a program state key's value before the block.
type progRead struct {
	value  []byte
	absent bool
}

// ProgramGet implements StateReader. A key no operation of the block
// has written holds the value it held before the block, so the first
// read of it is remembered for the rest of the block (an election read
// by each of thousands of ballots); a key the block wrote, even in an
// operation rolled back since, is read from the transaction.
func (b *blockState) ProgramGet(ctx context.Context, key string) ([]byte, error) {
	if r, ok := b.reads[key]; ok {
		if r.absent {
			return nil, errkind.New(errkind.NotFound, "state key %s not found", key)
		}
		return slices.Clone(r.value), nil
	}
	v, err := b.BlockTx.ProgramGet(ctx, key)
	if b.written[key] || len(b.reads) >= maxProgReads {
		return v, err
	}
	switch {
	case err == nil:
		b.reads[key] = progRead{value: slices.Clone(v)}
	case errors.Is(err, errkind.NotFound):
		b.reads[key] = progRead{absent: true}
	}
	return v, err
}

// ProgramPut implements StateTx.
func (b *blockState) ProgramPut(ctx context.Context, key string, value []byte) error {
	b.wrote(key)
	return b.BlockTx.ProgramPut(ctx, key, value)
}

// ProgramDelete implements StateTx.
func (b *blockState) ProgramDelete(ctx context.Context, key string) error {
	b.wrote(key)
	return b.BlockTx.ProgramDelete(ctx, key)
}

func (b *blockState) wrote(key string) {
	delete(b.reads, key)
	b.written[key] = true
}
