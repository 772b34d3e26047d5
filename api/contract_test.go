package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	urbis "github.com/urbis-id/urbis"
	"github.com/urbis-id/urbis/api"
	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/registry"
)

func init() {
	for _, ct := range []string{"application/did-resolution", "application/did+json", "application/did+ld+json", "application/problem+json"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.JSONBodyDecoder)
	}
}

// contract loads openapi.yaml and a router over it.
func contract(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(urbis.OpenAPI)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not valid OpenAPI: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, router
}

// exchange sends req to the server and validates both the request and the
// response against openapi.yaml. It returns the response status and body.
//
// Bad-input tests send requests that break the contract on purpose; they
// pass validRequest false, and only the response is checked. A request
// whose URL does not parse cannot be routed, so its response is checked by
// the caller alone.
func exchange(t *testing.T, e *env, router routers.Router, req *http.Request, body []byte, validRequest bool) (int, []byte) {
	t.Helper()
	ctx := context.Background()
	// Validate against the documented server URL, then send to the test server.
	docReq := req.Clone(ctx)
	var in *openapi3filter.RequestValidationInput
	if u, err := url.Parse("http://127.0.0.1:8080" + req.URL.RequestURI()); err == nil {
		docReq.URL = u
		docReq.Body = io.NopCloser(bytes.NewReader(body))
		route, pathParams, err := router.FindRoute(docReq)
		if err != nil {
			t.Fatalf("%s %s: not in openapi.yaml: %v", req.Method, req.URL.Path, err)
		}
		in = &openapi3filter.RequestValidationInput{
			Request: docReq, PathParams: pathParams, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		}
		err = openapi3filter.ValidateRequest(ctx, in)
		if validRequest && err != nil {
			t.Errorf("%s %s: request does not match openapi.yaml: %v", req.Method, req.URL.Path, err)
		}
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	ct := resp.Header.Get("Content-Type")
	if in == nil {
		return resp.StatusCode, got
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true}
	if !strings.Contains(ct, "json") && !strings.HasPrefix(ct, "application/did-resolution") {
		opts.ExcludeResponseBody = true // HTML, YAML and Prometheus text: status and media type only
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(got)), Options: opts,
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("%s %s: response %d %s does not match openapi.yaml: %v\nbody: %s", req.Method, req.URL.Path, resp.StatusCode, ct, err, got)
	}
	return resp.StatusCode, got
}

// TestEveryRouteExample runs every operation of openapi.yaml, with each of
// its request examples, through the real server, and validates requests
// and responses against the document.
func TestEveryRouteExample(t *testing.T) {
	doc, router := contract(t)
	for _, e := range newEnvs(t, api.Config{}) {
		t.Run(e.name, func(t *testing.T) {
			// A DID of the test agency for the routes about one's own DIDs.
			_, b := e.do(t, http.MethodPost, "/dids", e.key, `{"method":"key","keyType":"Ed25519"}`)
			var own struct{ Did string }
			if err := json.Unmarshal(b, &own); err != nil || own.Did == "" {
				t.Fatalf("create DID: %s", b)
			}
			fx := chainFixture(t, e)
			cf := credentialFixture(t, e)
			of := oid4vciFixture(t, e)
			vf := vpContractFixture(t, e)
			lf := landContractFixture(t, e)
			zf := newCivicFixture(t, e)
			ef := newElectionFixture(t, e)
			paths := doc.Paths.InMatchingOrder()
			sort.Strings(paths)
			ran := 0
			for _, p := range paths {
				for method, op := range doc.Paths.Value(p).Operations() {
					bodies := map[string][]byte{"no body": nil}
					if op.RequestBody != nil {
						bodies = map[string][]byte{}
						for _, mt := range op.RequestBody.Value.Content {
							for name, ex := range mt.Examples {
								bodies[name], _ = json.Marshal(ex.Value.Value)
							}
						}
						if len(bodies) == 0 {
							t.Errorf("%s %s has a request body but no examples", method, p)
						}
					}
					for name, body := range bodies {
						t.Run(op.OperationID+"/"+name, func(t *testing.T) {
							path := p
							for _, prm := range op.Parameters {
								if prm.Value.In != "path" {
									continue
								}
								v := fmt.Sprint(prm.Value.Example)
								// Examples that name things must name things that exist here.
								switch {
								case strings.HasPrefix(p, "/elections/"):
									v = ef.pathParam(p, prm.Value.Name)
								case strings.HasPrefix(p, "/dids/"):
									v = own.Did
								case prm.Value.Name == "hash":
									v = fx.opHash
								case strings.HasPrefix(p, "/schemas/"):
									v = fx.schemaID
								case strings.HasPrefix(p, "/trust/issuers/"):
									v = fx.issuer
								case strings.HasSuffix(p, "/anchor"):
									v = url.PathEscape(cf.anchored)
								case prm.Value.Name == "issuerId":
									v = cf.ldpID
								case prm.Value.Name == "listId":
									v = cf.listID
								case prm.Value.Name == "offerId":
									v = of.offerRef
								case prm.Value.Name == "requestId":
									v = vf.id
								case prm.Value.Name == "parcelId":
									v = lf.parcel(op.OperationID)
								case zf.param(prm.Value.Name) != "":
									v = zf.param(prm.Value.Name)
								}
								if v == "" {
									t.Fatalf("path parameter %s of %s has no example", prm.Value.Name, p)
								}
								path = strings.ReplaceAll(path, "{"+prm.Value.Name+"}", v)
							}
							// Required query parameters take their example.
							q := url.Values{}
							for _, prm := range op.Parameters {
								if prm.Value.In == "query" && prm.Value.Required {
									q.Set(prm.Value.Name, fmt.Sprint(prm.Value.Example))
								}
							}
							if len(q) > 0 {
								path += "?" + q.Encode()
							}
							switch op.OperationID {
							case "submitOperation":
								body = fx.freshOperation(t)
							case "registerSchema":
								body = e.schemaExample(t, body)
							}
							body = cf.rewrite(t, op.OperationID, name, body)
							body = vf.rewrite(t, op.OperationID, body)
							body = lf.rewrite(t, op.OperationID, body)
							body = zf.rewrite(t, op.OperationID, body)
							body = ef.rewrite(t, e, op.OperationID, body)
							req, err := http.NewRequest(method, e.srv.URL+path, nil)
							if err != nil {
								t.Fatal(err)
							}
							if body != nil {
								ct := "application/json"
								if op.RequestBody.Value.Content.Get("application/x-www-form-urlencoded") != nil {
									ct = "application/x-www-form-urlencoded"
								}
								req.Header.Set("Content-Type", ct)
							}
							if op.Security != nil && len(*op.Security) > 0 {
								req.Header.Set("Authorization", "Bearer "+e.key)
							}
							body = of.prepare(t, op.OperationID, req, body)
							status, got := exchange(t, e, router, req, body, true)
							if status >= 300 {
								t.Errorf("got %d %s; want a 2xx answer to the documented example", status, got)
							}
							ran++
						})
					}
				}
			}
			if ran < 24 {
				t.Errorf("ran %d examples; want every operation (at least 24)", ran)
			}
		})
	}
}

// fixture is chain state for the examples: a wallet's did:urbis, accredited
// for a type, with a schema registered.
type fixture struct {
	chain    *testChain
	issuer   string
	opHash   string
	schemaID string
}

func chainFixture(t *testing.T, e *env) *fixture {
	t.Helper()
	w := newTestWallet(t, e.chain)
	e.chain.commit(t, e.chain.gov, e.chain.govSigner(), registry.KindTrustAccredit,
		registry.TrustAccredit{Issuer: w.did, Types: []string{"ExampleCredential"}})
	schema := json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}}}`)
	st := e.chain.commit(t, w.key, w.signer(), registry.KindSchemaRegister, registry.SchemaRegister{Type: "ExampleCredential", Schema: schema})
	canon, err := registry.Canonical(schema)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(canon)
	return &fixture{chain: e.chain, issuer: w.did, opHash: st.Hash, schemaID: hex.EncodeToString(sum[:])}
}

// freshOperation is the body of a valid submission: a new wallet's did.create.
func (f *fixture) freshOperation(t *testing.T) []byte {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	spec := oneKeySpec(t, pub)
	id, payload, err := registry.NewDIDCreate(spec)
	if err != nil {
		t.Fatal(err)
	}
	op, err := registry.NewOperation(f.chain.genesis.ChainID, registry.KindDIDCreate, id+"#key-1", 1, payload)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := registry.Sign(op, priv)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"operation": signed.JWS})
	return b
}

// testWallet is a did:urbis whose key the test holds.
type testWallet struct {
	did string
	key ed25519.PrivateKey
}

func (w *testWallet) signer() string { return w.did + "#key-1" }

func oneKeySpec(t *testing.T, pub ed25519.PublicKey) registry.DocumentSpec {
	t.Helper()
	mk, err := did.EncodeMultikey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return registry.DocumentSpec{
		VerificationMethod:   []registry.MethodSpec{{ID: "#key-1", Type: did.TypeMultikey, PublicKeyMultibase: mk}},
		AssertionMethod:      []string{"#key-1"},
		CapabilityInvocation: []string{"#key-1"},
	}
}

func newTestWallet(t *testing.T, c *testChain) *testWallet {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	id, payload, err := registry.NewDIDCreate(oneKeySpec(t, pub))
	if err != nil {
		t.Fatal(err)
	}
	c.commit(t, priv, id+"#key-1", registry.KindDIDCreate, payload)
	return &testWallet{did: id, key: priv}
}
