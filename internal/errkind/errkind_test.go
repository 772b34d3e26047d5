package errkind

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindOf(t *testing.T) {
	cause := errors.New("disk on fire")
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"plain error", cause, Internal},
		{"new", New(NotFound, "no agency %q", "x"), NotFound},
		{"wrapped twice", fmt.Errorf("outer: %w", Field(Invalid, "method", "unknown")), Invalid},
		{"bare kind", fmt.Errorf("ctx: %w", Conflict), Conflict},
		{"wrap keeps cause", Wrap(Unavailable, cause, "database"), Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf(%v) = %q; want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrorIsAndMessage(t *testing.T) {
	cause := errors.New("timeout")
	err := fmt.Errorf("resolve: %w", Wrap(Unavailable, cause, "fetch did.json").WithCode("NOT_FOUND"))
	if !errors.Is(err, Unavailable) {
		t.Errorf("errors.Is(err, Unavailable) = false; want true")
	}
	if !errors.Is(err, cause) {
		t.Errorf("errors.Is(err, cause) = false; want true")
	}
	if errors.Is(err, NotFound) {
		t.Errorf("errors.Is(err, NotFound) = true; want false")
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != "NOT_FOUND" {
		t.Fatalf("errors.As code = %v; want NOT_FOUND", e)
	}
	if got, want := err.Error(), "resolve: fetch did.json: timeout"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
	if got, want := Field(Invalid, "keyType", "must be Ed25519 or P-256").Error(), "keyType: must be Ed25519 or P-256"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
}
