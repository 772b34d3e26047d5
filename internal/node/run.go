package node

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/proxy"
	"github.com/cometbft/cometbft/rpc/client/local"
	"github.com/spf13/viper"

	"github.com/urbis-id/urbis/registry"
)

// Config configures a validator node.
type Config struct {
	Home     string
	Store    registry.ChainStore
	Programs []registry.Program
	Logger   *slog.Logger
}

// Node is a running validator: CometBFT consensus in process, with the
// registry application and the engine the REST API submits to.
type Node struct {
	Genesis *registry.Genesis
	App     *App
	Engine  *Engine
	cmt     *nm.Node
	halt    *halt
}

// halt records a consensus failure: CometBFT stops consensus (and logs
// "CONSENSUS FAILURE!!!") when, for one, the network commits a block
// whose app hash is not the one this node computed, that is, when this
// node's state differs from the others'.
type halt struct {
	once sync.Once
	ch   chan struct{}
	err  error
}

func (h *halt) fail(msg string, kv ...any) {
	h.once.Do(func() {
		h.err = fmt.Errorf("this validator halted: its state disagrees with the network's or consensus failed (%s %v); "+
			"if its app hash differs, its database was altered or it runs different software: "+
			"restore its urbis/ and data/ from a backup (docs/DEPLOYMENT.md)", msg, kv)
		close(h.ch)
	})
}

// LoadConfig reads the CometBFT configuration of a home
// (config/config.toml), with CometBFT's defaults for what it omits.
func LoadConfig(home string) (*cmtcfg.Config, error) {
	conf := cmtcfg.DefaultConfig()
	v := viper.New()
	v.SetConfigFile(filepath.Join(home, "config", "config.toml"))
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("read the CometBFT config of %s: %w (create the home with `urbis node init`)", home, err)
	}
	if err := v.Unmarshal(conf); err != nil {
		return nil, fmt.Errorf("%s: %w", v.ConfigFileUsed(), err)
	}
	conf.SetRoot(home)
	if err := conf.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("%s: %w", v.ConfigFileUsed(), err)
	}
	return conf, nil
}

// Start starts the validator of cfg.Home and returns once CometBFT runs
// (it may still be catching up). Stop it with Stop.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	conf, err := LoadConfig(cfg.Home)
	if err != nil {
		return nil, err
	}
	_, g, pv, err := homeKeys(conf)
	if err != nil {
		return nil, err
	}
	key := ed25519.PrivateKey(pv.Key.PrivKey.Bytes())
	settings, err := LoadSettings(cfg.Home)
	if err != nil {
		return nil, err
	}
	valID := settings.ValidatorID
	for _, v := range g.Validators {
		if pub, err := validatorPub(v); err == nil && pub.Equal(key.Public()) {
			if valID != "" && valID != v.ID {
				return nil, fmt.Errorf("%s names the validator %q, but the genesis gives its key to %q", SettingsPath(cfg.Home), valID, v.ID)
			}
			valID = v.ID
		}
	}
	if valID == "" {
		valID = "node-" + Address(key.Public().(ed25519.PublicKey))[:8]
	}
	app, err := NewApp(ctx, AppConfig{Store: cfg.Store, Genesis: g, Programs: cfg.Programs, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	h := &halt{ch: make(chan struct{})}
	nodeKey, err := p2p.LoadNodeKey(conf.NodeKeyFile())
	if err != nil {
		return nil, err
	}
	cmt, err := nm.NewNode(ctx, conf, pv, nodeKey, proxy.NewLocalClientCreator(app), nm.DefaultGenesisDocProviderFunc(conf),
		cmtcfg.DefaultDBProvider, nm.DefaultMetricsProvider(conf.Instrumentation), cometLogger{cfg.Logger.With("module", "cometbft"), h.fail})
	if err != nil {
		return nil, fmt.Errorf("start CometBFT: %w", err)
	}
	if err := cmt.Start(); err != nil {
		return nil, fmt.Errorf("start CometBFT: %w", err)
	}
	n := &Node{Genesis: g, App: app, cmt: cmt, halt: h}
	n.Engine = newEngine(app, cfg.Store, local.New(cmt))
	if r, ok := cmt.MempoolReactor().(interface{ WaitSync() bool }); ok {
		n.Engine.syncing = r.WaitSync
	}
	cfg.Logger.Info("validator started", "validator", valID, "chain", g.ChainID, "node_id", nodeKey.ID(),
		"p2p", conf.P2P.ListenAddress, "rpc", conf.RPC.ListenAddress)
	return n, nil
}

// Stop stops consensus and rolls back a block finalized but not
// committed. It returns why the node halted, if it did.
func (n *Node) Stop() error {
	err := n.cmt.Stop()
	n.cmt.Wait()
	n.App.Close()
	select {
	case <-n.halt.ch:
		return n.halt.err
	default:
	}
	return err
}

// Quit is closed when the node stops or halts by itself; Stop then
// says why.
func (n *Node) Quit() <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		select {
		case <-n.cmt.Quit():
		case <-n.halt.ch:
		}
		close(ch)
	}()
	return ch
}

// cometLogger writes CometBFT's logs through slog: its chatty info lines
// at debug level, its errors as warnings (CometBFT logs peers going
// away as errors).
// A consensus failure is an error, and halts the node (see halt).
type cometLogger struct {
	l    *slog.Logger
	fail func(msg string, kv ...any)
}

func (c cometLogger) Debug(msg string, kv ...any) { c.l.Debug(msg, kv...) }
func (c cometLogger) Info(msg string, kv ...any)  { c.l.Debug(msg, kv...) }
func (c cometLogger) Error(msg string, kv ...any) {
	if strings.HasPrefix(msg, "CONSENSUS FAILURE") {
		c.l.Error(msg, kv...)
		c.fail(msg, errOnly(kv))
		return
	}
	c.l.Warn(msg, kv...)
}
func (c cometLogger) With(kv ...any) cmtlog.Logger {
	return cometLogger{c.l.With(kv...), c.fail}
}

// errOnly returns the "err" value of CometBFT's key-value pairs.
func errOnly(kv []any) any {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == "err" {
			return kv[i+1]
		}
	}
	return nil
}
