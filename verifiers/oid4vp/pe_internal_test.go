package oid4vp

import (
	"reflect"
	"testing"
)

func TestParseJSONPath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []any // nil: refused
	}{
		{"$", []any{}},
		{"$.credentialSubject.district", []any{"credentialSubject", "district"}},
		{"$['credentialSubject']['given name']", []any{"credentialSubject", "given name"}},
		{`$["vct"]`, []any{"vct"}},
		{"$.type[0]", []any{"type", float64(0)}},
		{"$.nationalities[*]", []any{"nationalities", nil}},
		{"$.a.*", []any{"a", nil}},
		{"$.@context", []any{"@context"}},
		{"credentialSubject.district", nil},
		{"$..district", nil},
		{"$.a[?(@.b=='c')]", nil},
		{"$.a[1:2]", nil},
		{"$.a[-1]", nil},
		{"$['a", nil},
		{"$.", nil},
	} {
		got, err := parseJSONPath(tc.in)
		if tc.want == nil {
			if err == nil {
				t.Errorf("parseJSONPath(%q) = %v; want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseJSONPath(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	def, err := ParseDefinition([]byte(`{"id":"d","input_descriptors":[{"id":"eu.europa.ec.eudi.pid.1","constraints":{"fields":[
		{"path":["$.vct","$.type"],"filter":{"type":"string","const":"ResidentCredential"}},
		{"path":["$.age_equal_or_over.18"],"filter":{"type":"boolean","const":true}},
		{"path":["$.nickname"],"optional":true},
		{"path":["$.nationalities[*]"],"filter":{"type":"array","contains":{"const":"DE"}}}]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	d := &def.Descriptors[0]
	doc := map[string]any{"vct": "ResidentCredential", "age_equal_or_over": map[string]any{"18": true}, "nationalities": []any{"FR", "DE"}}
	got, err := d.Evaluate(doc)
	want := []ClaimValue{{Path: []any{"vct"}, Value: "ResidentCredential"}, {Path: []any{"age_equal_or_over", "18"}, Value: true},
		{Path: []any{"nationalities", nil}, Value: []any{"FR", "DE"}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Evaluate = %v, %v; want %v", got, err, want)
	}
	doc["age_equal_or_over"] = map[string]any{"18": false}
	if _, err := d.Evaluate(doc); err == nil {
		t.Errorf("Evaluate with age_equal_or_over.18 false: no error; want field 1 refused")
	}
	delete(doc, "vct")
	doc["age_equal_or_over"] = map[string]any{"18": true}
	if _, err := d.Evaluate(doc); err == nil {
		t.Errorf("Evaluate without vct nor type: no error; want field 0 refused")
	}
}
