package land_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/urbis-id/urbis/civic/land"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/store"
	"github.com/urbis-id/urbis/internal/store/storetest"
	"github.com/urbis-id/urbis/registry"
)

// actor is a did:key and its key.
type actor struct {
	did, kid string
	key      ed25519.PrivateKey
}

func newActor(t *testing.T) actor {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := did.NewKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	s := id.String()
	return actor{did: s, kid: s + "#" + strings.TrimPrefix(s, "did:key:"), key: key}
}

// consent is a's signature on a transfer of parcel under title to buyers.
func (a actor) consent(t *testing.T, parcel, title string, buyers []land.Owner) string {
	t.Helper()
	return a.sign(t, land.Consent{Parcel: parcel, Title: title, Buyers: buyers})
}

// mortgage is a's consent to lender's mortgage enc on parcel under title.
func (a actor) mortgage(t *testing.T, parcel, title, enc string, lender actor) string {
	t.Helper()
	return a.sign(t, land.MortgageConsent{Parcel: parcel, Title: title, Encumbrance: enc, Lender: lender.did})
}

// sign is a compact JWS of v by a's key.
func (a actor) sign(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, a.kid)
	out, err := jws.Sign(b, jws.WithKey(jwa.EdDSA, a.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// chain is a running solo engine with the land program over a real database.
type chain struct {
	g   *registry.Genesis
	gov actor
	eng *registry.Solo
	db  *store.DB
}

func startChain(t *testing.T, db *store.DB) *chain {
	t.Helper()
	g, gov, val, err := registry.NewDevGenesis("urbis-test", time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	eng, err := registry.NewSolo(registry.SoloConfig{
		Store: db, Genesis: g, ValidatorID: g.Validators[0].ID, ValidatorKey: val,
		Interval: 20 * time.Millisecond, MaxOps: 1000, Clock: time.Now, Programs: []registry.Program{land.Program{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	govDID := g.Governance[0]
	return &chain{g: g, gov: actor{did: govDID, kid: govDID + "#" + strings.TrimPrefix(govDID, "did:key:"), key: gov}, eng: eng, db: db}
}

// signed signs an operation of a with nonce n (the next one if 0).
func (c *chain) signed(t *testing.T, a actor, kind string, n uint64, payload any) registry.SignedOp {
	t.Helper()
	if n == 0 {
		cur, err := c.db.Nonce(context.Background(), a.did)
		if err != nil {
			t.Fatal(err)
		}
		n = cur + 1
	}
	op, err := registry.NewOperation(c.g.ChainID, registry.Kind(kind), a.kid, n, payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := registry.Sign(op, a.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run submits op and waits for its block; err is a refusal at submission.
func (c *chain) run(t *testing.T, op registry.SignedOp) (registry.OpStatus, error) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.eng.Submit(ctx, op.JWS); err != nil {
		return registry.OpStatus{}, err
	}
	st, err := c.eng.Wait(ctx, op.Hash)
	if err != nil {
		t.Fatal(err)
	}
	return st, nil
}

func (c *chain) must(t *testing.T, a actor, kind string, payload any) registry.OpStatus {
	t.Helper()
	st, err := c.run(t, c.signed(t, a, kind, 0, payload))
	if err != nil || st.Status != registry.StatusCommitted {
		t.Fatalf("%s: got %+v, %v; want committed", kind, st, err)
	}
	return st
}

// refused checks that the operation is rejected (at submission or in its
// block) with a reason that contains want.
func (c *chain) refused(t *testing.T, a actor, kind string, payload any, want string) {
	t.Helper()
	st, err := c.run(t, c.signed(t, a, kind, 0, payload))
	reason := st.Reason
	if err != nil {
		reason = err.Error()
	} else if st.Status != registry.StatusRejected {
		t.Fatalf("%s: got %s; want rejected (%s)", kind, st.Status, want)
	}
	if !strings.Contains(reason, want) {
		t.Errorf("%s: got reason %q; want it to contain %q", kind, reason, want)
	}
}

func (c *chain) accredit(t *testing.T, a actor, types ...string) {
	t.Helper()
	c.must(t, c.gov, string(registry.KindTrustAccredit), registry.TrustAccredit{Issuer: a.did, Types: types})
}

func (c *chain) parcel(t *testing.T, id string) land.Parcel {
	t.Helper()
	b, err := c.db.ProgramGet(context.Background(), land.ParcelKey(id))
	if err != nil {
		t.Fatal(err)
	}
	var p land.Parcel
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func owners(as ...actor) []land.Owner {
	out := make([]land.Owner, len(as))
	for i, a := range as {
		out[i] = land.Owner{DID: a.did, Share: 1}
	}
	return out
}

// TestTitleRules walks a parcel through registration, refused and
// accepted transfers, a mortgage that blocks a transfer, and its
// release, on the real engine over each test database.
func TestTitleRules(t *testing.T) {
	for _, db := range storetest.Open(t) {
		t.Run(db.Dialect(), func(t *testing.T) {
			c := startChain(t, db)
			reg, rogue, bank, otherBank := newActor(t), newActor(t), newActor(t), newActor(t)
			alice, bob, carol, dave := newActor(t), newActor(t), newActor(t), newActor(t)
			c.accredit(t, reg, land.TitleType)
			c.accredit(t, bank, land.MortgageType)
			c.accredit(t, otherBank, land.MortgageType)

			t1, t2, t3 := hash("title 1"), hash("title 2"), hash("title 3")
			register := land.RegisterPayload{Parcel: "P-1", Cadastral: "08019A001", Title: t1, TitleID: "urn:t1", Owners: []land.Owner{{DID: alice.did, Share: 1}, {DID: bob.did, Share: 1}}}
			c.refused(t, rogue, land.KindRegister, register, "holds no active accreditation for LandTitle")
			c.must(t, reg, land.KindRegister, register)
			c.refused(t, reg, land.KindRegister, register, "parcel P-1 is already registered")
			c.refused(t, reg, land.KindRegister, land.RegisterPayload{Parcel: "P/2", Cadastral: "x", Title: t1, TitleID: "u", Owners: owners(alice)}, "parcel: \"P/2\" holds '/'")
			c.refused(t, reg, land.KindRegister, land.RegisterPayload{Parcel: "P-2", Cadastral: "x", Title: t1, TitleID: "u", Owners: []land.Owner{{DID: "did:web:example.com", Share: 1}}}, "owners/0/did")

			buyers := owners(carol)
			transfer := func(title, newTitle string, consents ...string) land.TransferPayload {
				return land.TransferPayload{Parcel: "P-1", Title: title, NewTitle: newTitle, NewTitleID: "urn:" + newTitle[:8], Buyers: buyers, Consents: consents}
			}
			good := []string{alice.consent(t, "P-1", t1, buyers), bob.consent(t, "P-1", t1, buyers)}
			c.refused(t, rogue, land.KindTransfer, transfer(t1, t2, good...), "holds no active accreditation for LandTitle")
			c.refused(t, reg, land.KindTransfer, transfer(t3, t2, good...), "is not the current title of parcel P-1")
			c.refused(t, reg, land.KindTransfer, transfer(t1, t2, good[0]), "owner "+bob.did+" of parcel P-1 has not consented")
			c.refused(t, reg, land.KindTransfer, transfer(t1, t2, good[0], dave.consent(t, "P-1", t1, buyers)), "signed by "+dave.did+", who is not an owner")
			c.refused(t, reg, land.KindTransfer, transfer(t1, t2, good[0], bob.consent(t, "P-1", t1, owners(dave))), "consented to something else; the consent must name this parcel, its current title and exactly these buyers")
			c.refused(t, reg, land.KindTransfer, transfer(t1, t2, good[0], good[0]), "consents twice")
			c.refused(t, reg, land.KindTransfer, transfer(t1, t2, good[0], bob.mortgage(t, "P-1", t1, "m-1", bank)), "consented to something else")
			forged := good[1][:len(good[1])-4] + "AAAA"
			c.refused(t, reg, land.KindTransfer, transfer(t1, t2, good[0], forged), "signature does not verify")

			// A mortgage blocks the transfer until its lender releases it.
			// ... and needs every owner's consent to that mortgage.
			encumber := func(consents ...string) land.EncumberPayload {
				return land.EncumberPayload{Parcel: "P-1", Encumbrance: "m-1", Credential: hash("mortgage"), CredentialID: "urn:m1", Consents: consents}
			}
			mortgage := []string{alice.mortgage(t, "P-1", t1, "m-1", bank), bob.mortgage(t, "P-1", t1, "m-1", bank)}
			enc := encumber(mortgage...)
			c.refused(t, rogue, land.KindEncumber, enc, "holds no active accreditation for Mortgage")
			c.refused(t, bank, land.KindEncumber, encumber(mortgage[0]), "owner "+bob.did+" of parcel P-1 has not consented")
			c.refused(t, otherBank, land.KindEncumber, enc, "consented to something else; the consent must name this parcel, its current title, this mortgage id and this lender")
			c.refused(t, bank, land.KindEncumber, encumber(mortgage[0], good[1]), "consented to something else")
			c.refused(t, bank, land.KindEncumber, encumber(mortgage[0], dave.mortgage(t, "P-1", t1, "m-1", bank)), "who is not an owner")
			c.must(t, bank, land.KindEncumber, enc)
			c.refused(t, bank, land.KindEncumber, enc, "already has encumbrance m-1")
			c.refused(t, reg, land.KindTransfer, transfer(t1, t2, good...), "parcel P-1 is encumbered by mortgage m-1 of "+bank.did)
			c.refused(t, otherBank, land.KindRelease, land.ReleasePayload{Parcel: "P-1", Encumbrance: "m-1"}, "only that lender may release it")
			c.must(t, bank, land.KindRelease, land.ReleasePayload{Parcel: "P-1", Encumbrance: "m-1"})
			c.refused(t, bank, land.KindRelease, land.ReleasePayload{Parcel: "P-1", Encumbrance: "m-1"}, "has no active encumbrance m-1")

			c.must(t, reg, land.KindTransfer, transfer(t1, t2, good...))
			// The old title, and the old owners' consents, are spent.
			c.refused(t, reg, land.KindTransfer, transfer(t1, t3, good...), "is not the current title")
			c.refused(t, reg, land.KindTransfer, transfer(t2, t3, good...), "signed by "+alice.did+", who is not an owner")

			p := c.parcel(t, "P-1")
			if p.Title != t2 || len(p.Owners) != 1 || p.Owners[0].DID != carol.did || len(p.Encumbrances) != 0 {
				t.Errorf("parcel: got title %s, owners %v, encumbrances %v; want %s, carol only, none", p.Title, p.Owners, p.Encumbrances, t2)
			}
			hist, err := db.ProgramScan(context.Background(), land.HistoryPrefix("P-1"), "", 100)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, e := range hist {
				var ev land.Event
				if err := json.Unmarshal(e.Value, &ev); err != nil {
					t.Fatal(err)
				}
				kinds = append(kinds, ev.Kind)
				st, err := c.eng.Status(context.Background(), ev.Operation)
				if err != nil || st.Status != registry.StatusCommitted || st.Height != ev.Height {
					t.Errorf("history entry %s: operation %s is %+v, %v; want committed in block %d", e.Key, ev.Operation, st, err, ev.Height)
					continue
				}
				proof, err := c.eng.Proof(context.Background(), ev.Operation)
				if err != nil {
					t.Fatal(err)
				}
				if err := registry.CheckProof(proof, c.g); err != nil {
					t.Errorf("proof of %s: %v", ev.Operation, err)
				}
			}
			if got, want := strings.Join(kinds, " "), "title.register title.encumber title.release title.transfer"; got != want {
				t.Errorf("history: got %s; want %s", got, want)
			}
			// The land rules are deterministic: replaying the chain from
			// genesis, refusals included, gives the same state roots and
			// the same parcels.
			fresh := storetest.Open(t)[0]
			if err := registry.Verify(context.Background(), db, fresh, c.g, nil, land.Program{}); err != nil {
				t.Errorf("replay: %v", err)
			}
		})
	}
}

// TestTwoTransfersOneWins sends two transfers of the same parcel, both
// valid against its current title, at the same moment, many times over:
// from two accredited registries, and from one registry with consecutive
// nonces (so both land in one block). Exactly one commits each time; the
// other is rejected because its title is no longer current, and the
// parcel has the winner's buyers.
func TestTwoTransfersOneWins(t *testing.T) {
	for _, db := range storetest.Open(t) {
		t.Run(db.Dialect(), func(t *testing.T) {
			c := startChain(t, db)
			regA, regB, seller := newActor(t), newActor(t), newActor(t)
			c.accredit(t, regA, land.TitleType)
			c.accredit(t, regB, land.TitleType)
			const rounds = 6
			for i := range rounds {
				parcel := fmt.Sprintf("P-%d", i)
				title := hash(parcel)
				c.must(t, regA, land.KindRegister, land.RegisterPayload{Parcel: parcel, Cadastral: "c", Title: title, TitleID: "urn:" + parcel, Owners: owners(seller)})
				buyerA, buyerB := newActor(t), newActor(t)
				op := func(reg, buyer actor, nonce uint64) registry.SignedOp {
					b := owners(buyer)
					newTitle := hash(parcel + buyer.did)
					return c.signed(t, reg, land.KindTransfer, nonce, land.TransferPayload{Parcel: parcel, Title: title, NewTitle: newTitle,
						NewTitleID: "urn:" + newTitle, Buyers: b, Consents: []string{seller.consent(t, parcel, title, b)}})
				}
				var ops [2]registry.SignedOp
				if i%2 == 0 {
					ops = [2]registry.SignedOp{op(regA, buyerA, 0), op(regB, buyerB, 0)}
				} else {
					n, err := db.Nonce(context.Background(), regA.did)
					if err != nil {
						t.Fatal(err)
					}
					ops = [2]registry.SignedOp{op(regA, buyerA, n+1), op(regA, buyerB, n+2)}
				}
				var (
					wg  sync.WaitGroup
					sts [2]registry.OpStatus
					ers [2]error
				)
				if i%2 == 0 {
					// Two signers: both race to the engine.
					start := make(chan struct{})
					for j := range ops {
						wg.Go(func() {
							<-start
							sts[j], ers[j] = c.run(t, ops[j])
						})
					}
					close(start)
				} else {
					// One signer: its nonces order the two, which are
					// queued before either block is made.
					for j := range ops {
						if _, ers[j] = c.eng.Submit(context.Background(), ops[j].JWS); ers[j] != nil {
							continue
						}
						wg.Go(func() {
							var err error
							if sts[j], err = c.eng.Wait(context.Background(), ops[j].Hash); err != nil {
								ers[j] = err
							}
						})
					}
				}
				wg.Wait()
				committed := 0
				for j := range ops {
					switch {
					case ers[j] != nil:
						t.Errorf("round %d transfer %d: refused at submission: %v", i, j, ers[j])
					case sts[j].Status == registry.StatusCommitted:
						committed++
					case !strings.Contains(sts[j].Reason, "is not the current title of parcel "+parcel):
						t.Errorf("round %d transfer %d: got %s (%s); want committed, or rejected for a stale title", i, j, sts[j].Status, sts[j].Reason)
					}
				}
				if committed != 1 {
					t.Fatalf("round %d: got %d transfers committed; want exactly 1", i, committed)
				}
				p := c.parcel(t, parcel)
				want := buyerA.did
				if sts[1].Status == registry.StatusCommitted {
					want = buyerB.did
				}
				if len(p.Owners) != 1 || p.Owners[0].DID != want {
					t.Errorf("round %d: parcel owners %v; want the winner's buyer %s only", i, p.Owners, want)
				}
			}
		})
	}
}
