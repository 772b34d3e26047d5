package agency

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
)

// The service on a real chain and database is tested in api (schemas_test.go).

func TestRegisterSchemaRejectsBadInputBeforeTheChain(t *testing.T) {
	s := NewService(nil, nil, nil) // a nil store or registry would panic if reached
	tests := []struct {
		name, typ, schema, field string
		kind                     errkind.Kind
	}{
		{"empty type", "", `{}`, "type", errkind.Invalid},
		{"blank type", "  ", `{}`, "type", errkind.Invalid},
		{"no schema", "T", ``, "schema", errkind.Invalid},
		{"array schema", "T", `[1]`, "schema", errkind.Invalid},
		{"string schema", "T", `"s"`, "schema", errkind.Invalid},
		{"no registry", "T", `{}`, "", errkind.Unsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.RegisterSchema(t.Context(), "agy_x", "did:key:z6Mk", tt.typ, json.RawMessage(tt.schema))
			var e *errkind.Error
			if !errors.As(err, &e) || e.Kind != tt.kind || e.Field != tt.field {
				t.Errorf("got %v; want %s about %q", err, tt.kind, tt.field)
			}
		})
	}
}

func TestRefusal(t *testing.T) {
	tests := []struct {
		name      string
		in        error
		kind      errkind.Kind
		field     string
		keepsText bool
	}{
		{"forbidden passes", errkind.New(errkind.Forbidden, "no accreditation"), errkind.Forbidden, "", true},
		{"conflict passes", errkind.New(errkind.Conflict, "already registered"), errkind.Conflict, "", true},
		{"invalid schema is unprocessable", errkind.Field(errkind.Invalid, "schema", "bad"), errkind.Unprocessable, "schema", true},
		{"invalid type keeps its field", errkind.Field(errkind.Invalid, "type", "too long"), errkind.Unprocessable, "type", true},
		{"invalid without field names the schema", errkind.New(errkind.Invalid, "bad"), errkind.Unprocessable, "schema", true},
		{"not found is a conflict, not 404", errkind.New(errkind.NotFound, "signer unknown"), errkind.Conflict, "", true},
		{"internal passes", errkind.New(errkind.Internal, "disk"), errkind.Internal, "", true},
		{"too large names the schema", errkind.New(errkind.TooLarge, "signed operation is 70000 bytes; the limit is 65536"), errkind.TooLarge, "schema", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := refusal(tt.in)
			var e *errkind.Error
			if !errors.As(got, &e) {
				t.Fatalf("got %v; want an errkind.Error", got)
			}
			if errkind.KindOf(got) != tt.kind || e.Field != tt.field {
				t.Errorf("got %s about %q (%v); want %s about %q", errkind.KindOf(got), e.Field, got, tt.kind, tt.field)
			}
			if tt.keepsText && len(got.Error()) < len(tt.in.Error()) {
				t.Errorf("got %q; want the chain's reason %q kept", got, tt.in)
			}
		})
	}
}
