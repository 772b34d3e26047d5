package node

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	cmtcfg "github.com/cometbft/cometbft/config"
	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
)

// RunKVStore runs CometBFT's own kvstore example application (persistent,
// in the home's kvstore/ directory) on a validator home, with the same
// consensus as Start, until ctx ends: the baseline `urbis bench ops`
// measures the registry against on the same layout.
func RunKVStore(ctx context.Context, home string, log *slog.Logger) error {
	conf, err := LoadConfig(home)
	if err != nil {
		return err
	}
	pv := privval.LoadFilePV(conf.PrivValidatorKeyFile(), conf.PrivValidatorStateFile())
	nodeKey, err := p2p.LoadNodeKey(conf.NodeKeyFile())
	if err != nil {
		return err
	}
	app := kvstore.NewPersistentApplication(filepath.Join(home, "kvstore"))
	h := &halt{ch: make(chan struct{})}
	n, err := nm.NewNode(ctx, conf, pv, nodeKey, proxy.NewLocalClientCreator(app), nm.DefaultGenesisDocProviderFunc(conf),
		cmtcfg.DefaultDBProvider, nm.DefaultMetricsProvider(conf.Instrumentation), cometLogger{log.With("module", "cometbft"), h.fail})
	if err != nil {
		return fmt.Errorf("start CometBFT: %w", err)
	}
	if err := n.Start(); err != nil {
		return fmt.Errorf("start CometBFT: %w", err)
	}
	select {
	case <-ctx.Done():
	case <-h.ch:
	}
	err = n.Stop()
	n.Wait()
	select {
	case <-h.ch:
		return h.err
	default:
	}
	return err
}
