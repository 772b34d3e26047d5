package node

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmted "github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
	"github.com/urbis-id/urbis/registry"
)

// Settings are the Urbis settings of a validator home (urbis.json): where
// the REST API listens. CometBFT's own are in config/config.toml.
type Settings struct {
	APIAddr string `json:"apiAddr"`
	// ValidatorID is the registry id of this validator: the genesis's, or
	// the one the governance gives it when it joins (validator.set).
	ValidatorID string `json:"validatorId,omitempty"`
}

// Files of a validator home besides CometBFT's.
const (
	settingsFile = "urbis.json"
)

// SettingsPath returns the path of a home's urbis.json.
func SettingsPath(home string) string { return filepath.Join(home, settingsFile) }

// DataDir returns the directory of a home's Urbis database and master key.
func DataDir(home string) string { return filepath.Join(home, "urbis") }

// LoadSettings reads a home's urbis.json.
func LoadSettings(home string) (Settings, error) {
	var s Settings
	b, err := os.ReadFile(SettingsPath(home))
	if errors.Is(err, fs.ErrNotExist) {
		return s, errkind.New(errkind.NotFound, "%s is not a validator home (no %s); create one with `urbis node init --home %s`", home, settingsFile, home)
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, errkind.Wrap(errkind.Invalid, err, "%s", SettingsPath(home))
	}
	return s, nil
}

// NetOptions describe a network of validators to create.
type NetOptions struct {
	ChainID    string
	Validators int
	// Host is the address every node listens on and dials (127.0.0.1 for
	// a localnet).
	Host string
	// BasePort is node i's P2P port minus 10*i; its CometBFT RPC port is
	// one more. APIBasePort+i is its REST API port.
	BasePort, APIBasePort int
	// BlockInterval is CometBFT's timeout_commit: the pause after a block.
	BlockInterval time.Duration
	MaxBlockOps   int
	Now           time.Time
}

// Home is one validator home written by CreateNet.
type Home struct {
	Dir       string
	Validator string // registry validator id
	NodeID    string // CometBFT node id
	API       string // REST API address
	RPC       string // CometBFT RPC address
}

// Net is what CreateNet wrote.
type Net struct {
	Genesis       *registry.Genesis
	GovernanceKey string // path of the governance key file
	Homes         []Home
}

// CreateNet writes the homes of a network of o.Validators validators
// into dirs (one each, which must not hold a home yet): CometBFT's config,
// node and validator keys, and one genesis (CometBFT's, with the registry
// genesis as its app_state) shared by all; and the governance key into
// govKeyPath. Every node lists the others as persistent peers.
func CreateNet(dirs []string, govKeyPath string, o NetOptions) (*Net, error) {
	if len(dirs) != o.Validators || o.Validators < 1 {
		return nil, errkind.New(errkind.Invalid, "a network needs at least one validator and one directory per validator")
	}
	if o.MaxBlockOps == 0 {
		o.MaxBlockOps = 10_000
	}
	if o.BlockInterval <= 0 {
		o.BlockInterval = 500 * time.Millisecond
	}
	for _, d := range dirs {
		if _, err := os.Stat(SettingsPath(d)); err == nil {
			return nil, errkind.New(errkind.Conflict, "%s holds a validator home already; remove it to start over", d)
		}
	}
	govPub, govKey, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, err
	}
	gov, err := did.NewKey(govPub)
	if err != nil {
		return nil, err
	}
	g := &registry.Genesis{ChainID: o.ChainID, Time: o.Now.UTC().Truncate(time.Millisecond), Governance: []string{gov.String()},
		Params: registry.Params{BlockIntervalMillis: int(o.BlockInterval / time.Millisecond), MaxBlockOps: o.MaxBlockOps,
			SignatureRule: registry.SignatureRuleZIP215}}
	n := &Net{Genesis: g, GovernanceKey: govKeyPath}
	var pvs []*privval.FilePV
	var peers []string
	for i, d := range dirs {
		pv, nk, err := newKeys(d)
		if err != nil {
			return nil, err
		}
		mk, err := did.EncodeMultikey(ed25519.PublicKey(pv.Key.PubKey.Bytes()))
		if err != nil {
			return nil, err
		}
		id := fmt.Sprintf("node%d", i)
		g.Validators = append(g.Validators, registry.Validator{ID: id, PublicKey: mk})
		pvs = append(pvs, pv)
		p2pAddr := net.JoinHostPort(o.Host, strconv.Itoa(o.BasePort+10*i))
		h := Home{Dir: d, Validator: id, NodeID: string(nk.ID()), API: net.JoinHostPort(o.Host, strconv.Itoa(o.APIBasePort+i)),
			RPC: net.JoinHostPort(o.Host, strconv.Itoa(o.BasePort+10*i+1))}
		n.Homes = append(n.Homes, h)
		peers = append(peers, h.NodeID+"@"+p2pAddr)
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	appState, err := json.Marshal(g)
	if err != nil {
		return nil, err
	}
	doc := &cmttypes.GenesisDoc{GenesisTime: g.Time, ChainID: g.ChainID, InitialHeight: 1,
		ConsensusParams: cmttypes.DefaultConsensusParams(), AppState: appState}
	for i, pv := range pvs {
		doc.Validators = append(doc.Validators, cmttypes.GenesisValidator{Address: pv.Key.PubKey.Address(), PubKey: pv.Key.PubKey, Power: GenesisPower, Name: g.Validators[i].ID})
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, err
	}
	for i, h := range n.Homes {
		var others []string
		for j, p := range peers {
			if j != i {
				others = append(others, p)
			}
		}
		if err := writeHome(h, net.JoinHostPort(o.Host, strconv.Itoa(o.BasePort+10*i)), others, doc, g, o); err != nil {
			return nil, err
		}
	}
	if err := registry.WriteKeyFile(govKeyPath, govKey); err != nil {
		return nil, err
	}
	return n, nil
}

// homeKeys reads the genesis (the registry's, from CometBFT's app_state)
// and the validator key of a home.
func homeKeys(conf *cmtcfg.Config) (*cmttypes.GenesisDoc, *registry.Genesis, *privval.FilePV, error) {
	doc, err := cmttypes.GenesisDocFromFile(conf.GenesisFile())
	if err != nil {
		return nil, nil, nil, err
	}
	g, err := registryGenesis(doc, conf.GenesisFile())
	if err != nil {
		return nil, nil, nil, err
	}
	for _, f := range []string{conf.PrivValidatorKeyFile(), conf.PrivValidatorStateFile(), conf.NodeKeyFile()} {
		if _, err := os.Stat(f); err != nil {
			return nil, nil, nil, fmt.Errorf("validator home %s: %w", conf.RootDir, err)
		}
	}
	pv := privval.LoadFilePV(conf.PrivValidatorKeyFile(), conf.PrivValidatorStateFile())
	if _, ok := pv.Key.PrivKey.(cmted.PrivKey); !ok {
		return nil, nil, nil, fmt.Errorf("%s: the validator key must be Ed25519", conf.PrivValidatorKeyFile())
	}
	return doc, g, pv, nil
}

// ValidatorKey returns the public CometBFT validator key of a home.
func ValidatorKey(home string) ([]byte, error) {
	conf := cmtcfg.DefaultConfig()
	conf.SetRoot(home)
	if _, err := os.Stat(conf.PrivValidatorKeyFile()); err != nil {
		return nil, fmt.Errorf("validator home %s: %w", home, err)
	}
	pv := privval.LoadFilePVEmptyState(conf.PrivValidatorKeyFile(), "")
	if _, ok := pv.Key.PrivKey.(cmted.PrivKey); !ok {
		return nil, fmt.Errorf("%s: the validator key must be Ed25519", conf.PrivValidatorKeyFile())
	}
	return pv.Key.PubKey.Bytes(), nil
}

// writeHome writes the configuration, genesis and settings of a home
// whose keys exist: CometBFT listens for peers on p2pAddr and dials peers.
func writeHome(h Home, p2pAddr string, peers []string, doc *cmttypes.GenesisDoc, g *registry.Genesis, o NetOptions) error {
	conf := cmtcfg.DefaultConfig()
	conf.SetRoot(h.Dir)
	conf.Moniker = h.Validator
	conf.P2P.ListenAddress = "tcp://" + p2pAddr
	conf.P2P.ExternalAddress = conf.P2P.ListenAddress
	conf.RPC.ListenAddress = "tcp://" + h.RPC
	conf.P2P.PersistentPeers = strings.Join(peers, ",")
	conf.P2P.AddrBookStrict = false
	conf.P2P.AllowDuplicateIP = true
	conf.P2P.PexReactor = false
	conf.Consensus.TimeoutCommit = o.BlockInterval
	conf.Consensus.TimeoutPropose = time.Second
	conf.Consensus.CreateEmptyBlocks = false
	conf.Mempool.Size = 50_000
	conf.Mempool.MaxTxsBytes = 256 << 20
	conf.Instrumentation.Prometheus = false
	conf.TxIndex.Indexer = "kv" // urbis node proof finds an operation's block by its hash
	cmtcfg.WriteConfigFile(filepath.Join(h.Dir, "config", "config.toml"), conf)
	if err := doc.SaveAs(conf.GenesisFile()); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(Settings{APIAddr: h.API, ValidatorID: h.Validator}, "", "  ")
	if err := os.WriteFile(SettingsPath(h.Dir), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.MkdirAll(DataDir(h.Dir), 0o700); err != nil {
		return err
	}
	// The registry genesis, for the commands that read it from a data
	// directory (urbis governance accredit, urbis registry verify).
	return g.Write(filepath.Join(DataDir(h.Dir), "genesis.json"))
}

// newKeys makes the directories, validator key and node key of a home.
func newKeys(dir string) (*privval.FilePV, *p2p.NodeKey, error) {
	conf := cmtcfg.DefaultConfig()
	conf.SetRoot(dir)
	for _, sub := range []string{"config", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, nil, err
		}
	}
	pv, err := privval.GenFilePV(conf.PrivValidatorKeyFile(), conf.PrivValidatorStateFile(), nil)
	if err != nil {
		return nil, nil, err
	}
	pv.Save()
	nk, err := p2p.LoadOrGenNodeKey(conf.NodeKeyFile())
	return pv, nk, err
}

// JoinNet writes the home of a validator that joins a running network:
// new keys, the network's genesis (genesisFile, CometBFT's), and peers
// (node-id@host:port). It starts as a full node; it becomes a validator
// once the governance adds its key (validator.set, urbis node
// set-validator) under id. It returns the home and the validator key as
// a Multikey.
func JoinNet(dir, genesisFile string, peers []string, id string, o NetOptions) (*Home, string, error) {
	if _, err := os.Stat(SettingsPath(dir)); err == nil {
		return nil, "", errkind.New(errkind.Conflict, "%s holds a validator home already; remove it to start over", dir)
	}
	if o.BlockInterval <= 0 {
		o.BlockInterval = 500 * time.Millisecond
	}
	doc, err := cmttypes.GenesisDocFromFile(genesisFile)
	if err != nil {
		return nil, "", err
	}
	g, err := registryGenesis(doc, genesisFile)
	if err != nil {
		return nil, "", err
	}
	pv, nk, err := newKeys(dir)
	if err != nil {
		return nil, "", err
	}
	mk, err := did.EncodeMultikey(ed25519.PublicKey(pv.Key.PubKey.Bytes()))
	if err != nil {
		return nil, "", err
	}
	h := &Home{Dir: dir, Validator: id, NodeID: string(nk.ID()), API: net.JoinHostPort(o.Host, strconv.Itoa(o.APIBasePort)),
		RPC: net.JoinHostPort(o.Host, strconv.Itoa(o.BasePort+1))}
	if err := writeHome(*h, net.JoinHostPort(o.Host, strconv.Itoa(o.BasePort)), peers, doc, g, o); err != nil {
		return nil, "", err
	}
	return h, mk, nil
}

// registryGenesis returns the registry genesis in a CometBFT genesis's app_state.
func registryGenesis(doc *cmttypes.GenesisDoc, file string) (*registry.Genesis, error) {
	var g registry.Genesis
	if err := json.Unmarshal(doc.AppState, &g); err != nil {
		return nil, fmt.Errorf("%s: app_state is not a registry genesis: %w", file, err)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("%s: app_state: %w", file, err)
	}
	if g.ChainID != doc.ChainID {
		return nil, fmt.Errorf("%s: chain_id %q differs from the registry genesis chain %q", file, doc.ChainID, g.ChainID)
	}
	return &g, nil
}
