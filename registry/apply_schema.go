package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// schemaRels are the relationships whose keys may register schemas and
// anchor roots.
var schemaRels = []did.Relationship{did.CapabilityInvocation, did.AssertionMethod}

// schemaRegister applies schema.register: the signer holds an active
// accreditation for the type at block time; the schema is a JSON object
// that compiles as a self-contained JSON Schema (draft 2020-12 unless
// $schema says otherwise); its id is the hex SHA-256 of its canonical
// form and is registered once.
func (c *call) schemaRegister(ctx context.Context) error {
	body := c.p.body.(*SchemaRegister)
	if body.Type == "" || len(body.Type) > maxNameLen {
		return errkind.Field(errkind.Invalid, "type", "type must be 1 to %d characters", maxNameLen)
	}
	content, err := Canonical(body.Schema)
	if err != nil || !bytes.HasPrefix(content, []byte("{")) {
		return errkind.Field(errkind.Invalid, "schema", "schema must be a JSON object")
	}
	if err := compileSchema(content); err != nil {
		return err
	}
	if err := c.authorise(ctx, schemaRels...); err != nil {
		return err
	}
	if err := c.checkNonce(ctx); err != nil {
		return err
	}
	if err := c.requireAccreditation(ctx, body.Type); err != nil {
		return err
	}
	sum := sha256.Sum256(content)
	id := hex.EncodeToString(sum[:])
	old, err := c.tx.Schema(ctx, id)
	switch {
	case err == nil:
		return errkind.New(errkind.Conflict, "schema %s is already registered (type %q, by %s at block %d)", id, old.Type, old.Issuer, old.Height)
	case !errors.Is(err, errkind.NotFound):
		return err
	}
	s := Schema{ID: id, Type: body.Type, Issuer: c.p.signerDID, Content: content, Height: c.h.Height, Time: c.t, OpHash: c.p.Hash}
	if err := c.tx.PutSchema(ctx, s); err != nil {
		return err
	}
	c.eff.Schema = &s
	return nil
}

// schemaURL is where a schema being checked is registered in the compiler.
const schemaURL = "urn:urbis:schema"

// refuseLoader refuses every external reference, so that a schema's
// verdict depends on nothing but its bytes.
type refuseLoader struct{}

func (refuseLoader) Load(url string) (any, error) {
	return nil, errkind.New(errkind.Invalid, "schema refers to %s; registered schemas must be self-contained", url)
}

// compileSchema checks that content is a JSON Schema that compiles.
func compileSchema(content []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(content))
	if err != nil {
		return errkind.Wrap(errkind.Invalid, err, "schema")
	}
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft2020)
	comp.UseLoader(refuseLoader{})
	if err := comp.AddResource(schemaURL, doc); err != nil {
		return errkind.Wrap(errkind.Invalid, err, "schema")
	}
	if _, err := comp.Compile(schemaURL); err != nil {
		return errkind.Wrap(errkind.Invalid, err, "schema is not a valid JSON Schema")
	}
	return nil
}

// anchor applies anchor: any DID that can sign operations anchors a
// root once; a typed anchor (Type set) needs an active accreditation for
// that type at block time, so that the chain says the root holds
// credentials of a type only when the signer may issue it. Untyped
// anchors let issuers of ungoverned types prove when they issued.
func (c *call) anchor(ctx context.Context) error {
	body := c.p.body.(*AnchorPayload)
	if !isHash(body.Root) {
		return errkind.Field(errkind.Invalid, "root", "root %q must be 64 lowercase hex characters (a SHA-256 hash or Merkle root)", body.Root)
	}
	if body.Count < 0 {
		return errkind.Field(errkind.Invalid, "count", "count %d is negative", body.Count)
	}
	if len(body.Type) > maxNameLen {
		return errkind.Field(errkind.Invalid, "type", "type has %d bytes; at most %d", len(body.Type), maxNameLen)
	}
	if err := c.authorise(ctx, schemaRels...); err != nil {
		return err
	}
	if err := c.checkNonce(ctx); err != nil {
		return err
	}
	if body.Type != "" {
		if err := c.requireAccreditation(ctx, body.Type); err != nil {
			return err
		}
	}
	old, err := c.tx.Anchor(ctx, body.Root)
	switch {
	case err == nil:
		return errkind.New(errkind.Conflict, "root %s is already anchored (by %s at block %d)", body.Root, old.Issuer, old.Height)
	case !errors.Is(err, errkind.NotFound):
		return err
	}
	a := Anchor{Root: body.Root, Issuer: c.p.signerDID, Count: body.Count, Type: body.Type, Height: c.h.Height, Time: c.t, OpHash: c.p.Hash}
	if err := c.tx.PutAnchor(ctx, a); err != nil {
		return err
	}
	c.eff.Anchor = &a
	return nil
}

// requireAccreditation refuses a signer without an active accreditation
// for typ (any type if empty) at block time.
func (c *call) requireAccreditation(ctx context.Context, typ string) error {
	ok, err := c.accreditedFor(ctx, c.p.signerDID, typ)
	if err != nil || ok {
		return err
	}
	what := "any credential type"
	if typ != "" {
		what = "type " + jsonString(typ)
	}
	return errkind.New(errkind.Forbidden, "signer %s holds no accreditation active at %s for %s", c.p.signerDID, c.t.Format("2006-01-02T15:04:05Z07:00"), what)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
