package registry

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
)

func TestCanonical(t *testing.T) {
	type inner struct {
		Z   int             `json:"z"`
		Raw json.RawMessage `json:"raw"`
	}
	type outer struct {
		B     string            `json:"b"`
		A     json.RawMessage   `json:"a"`
		In    *inner            `json:"in,omitempty"`
		List  []json.RawMessage `json:"list,omitempty"`
		Map   map[string]any    `json:"map,omitempty"`
		Bytes []byte            `json:"bytes,omitempty"`
	}
	raw := json.RawMessage(`{ "y": 1.50, "x": [ 3, {"b":true, "a":null} ] }`)
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"raw message alone", raw, `{"x":[3,{"a":null,"b":true}],"y":1.50}`},
		{"struct order kept, raw sorted", outer{B: "b", A: raw}, `{"b":"b","a":{"x":[3,{"a":null,"b":true}],"y":1.50}}`},
		{"nested pointer", outer{A: json.RawMessage(`1e3`), In: &inner{Z: 1, Raw: json.RawMessage(`{"b":1,"a":2}`)}},
			`{"b":"","a":1e3,"in":{"z":1,"raw":{"a":2,"b":1}}}`},
		{"slice of raw", outer{A: json.RawMessage(`null`), List: []json.RawMessage{[]byte(`{"b":1, "a":2}`), []byte(` "s" `)}},
			`{"b":"","a":null,"list":[{"a":2,"b":1},"s"]}`},
		{"map with raw inside any", outer{A: json.RawMessage(`0`), Map: map[string]any{"k": json.RawMessage(`{"d":4,"c":3}`)}},
			`{"b":"","a":0,"map":{"k":{"c":3,"d":4}}}`},
		{"bytes untouched", outer{A: json.RawMessage(`[]`), Bytes: []byte("{}")}, `{"b":"","a":[],"bytes":"e30="}`},
		{"nil raw is null", outer{}, `{"b":"","a":null}`},
		{"html escaped as encoding/json does", json.RawMessage(`{"h":"<&>"}`), `{"h":"\u003c\u0026\u003e"}`},
		{"duplicate keys keep the last", json.RawMessage(`{"a":1,"a":2}`), `{"a":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonical(tt.in)
			if err != nil {
				t.Fatalf("Canonical: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s; want %s", got, tt.want)
			}
		})
	}
}

func TestCanonicalDoesNotModifyInput(t *testing.T) {
	list := []json.RawMessage{json.RawMessage(`{"b":1,"a":2}`)}
	v := struct{ L []json.RawMessage }{list}
	if _, err := Canonical(v); err != nil {
		t.Fatal(err)
	}
	if got := string(list[0]); got != `{"b":1,"a":2}` {
		t.Errorf("input changed to %s; want it untouched", got)
	}
}

func TestCanonicalRefusesBadRaw(t *testing.T) {
	for _, in := range []string{`{"a":`, `{} {}`, `nul`} {
		t.Run(in, func(t *testing.T) {
			_, err := Canonical(json.RawMessage(in))
			if !errors.Is(err, errkind.Invalid) {
				t.Errorf("got %v; want an Invalid error", err)
			}
		})
	}
}
