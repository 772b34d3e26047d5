package oid4vp

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name, query string
		field       string // "" when valid
	}{
		{"sd-jwt", `{"credentials":[{"id":"pid","format":"dc+sd-jwt","meta":{"vct_values":["ResidentCredential"]},"claims":[{"path":["district"]}]}]}`, ""},
		{"ldp with claim sets", `{"credentials":[{"id":"a","format":"ldp_vc","meta":{"type_values":[["ResidentCredential"]]},
			"claims":[{"id":"d","path":["credentialSubject","district"]},{"id":"n","path":["credentialSubject","name"]}],"claim_sets":[["d"],["n"]]}]}`, ""},
		{"credential sets", `{"credentials":[{"id":"a","format":"jwt_vc_json","meta":{}},{"id":"b","format":"dc+sd-jwt","meta":{}}],
			"credential_sets":[{"options":[["a"],["b"]]}]}`, ""},
		{"no credentials", `{"credentials":[]}`, "/credentials"},
		{"bad id", `{"credentials":[{"id":"a b","format":"ldp_vc","meta":{}}]}`, "/credentials/0/id"},
		{"duplicate id", `{"credentials":[{"id":"a","format":"ldp_vc","meta":{}},{"id":"a","format":"ldp_vc","meta":{}}]}`, "/credentials/1/id"},
		{"mdoc", `{"credentials":[{"id":"a","format":"mso_mdoc","meta":{}}]}`, "/credentials/0/format"},
		{"vct for ldp", `{"credentials":[{"id":"a","format":"ldp_vc","meta":{"vct_values":["x"]}}]}`, "/credentials/0/meta/vct_values"},
		{"empty path", `{"credentials":[{"id":"a","format":"ldp_vc","meta":{},"claims":[{"path":[]}]}]}`, "/credentials/0/claims/0/path"},
		{"negative index", `{"credentials":[{"id":"a","format":"ldp_vc","meta":{},"claims":[{"path":["x",-1]}]}]}`, "/credentials/0/claims/0/path/1"},
		{"object value", `{"credentials":[{"id":"a","format":"ldp_vc","meta":{},"claims":[{"path":["x"],"values":[{}]}]}]}`, "/credentials/0/claims/0/values/0"},
		{"claim set of unknown id", `{"credentials":[{"id":"a","format":"ldp_vc","meta":{},"claims":[{"id":"x","path":["x"]}],"claim_sets":[["y"]]}]}`, "/credentials/0/claim_sets/0"},
		{"no holder binding", `{"credentials":[{"id":"a","format":"ldp_vc","meta":{},"require_cryptographic_holder_binding":false}]}`, "/credentials/0/require_cryptographic_holder_binding"},
		{"trusted authorities", `{"credentials":[{"id":"a","format":"ldp_vc","meta":{},"trusted_authorities":[{"type":"aki","values":["x"]}]}]}`, "/credentials/0/trusted_authorities"},
		{"set names unknown query", `{"credentials":[{"id":"a","format":"ldp_vc","meta":{}}],"credential_sets":[{"options":[["b"]]}]}`, "/credential_sets/0/options/0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseQuery([]byte(tc.query))
			var e *errkind.Error
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("got %v; want a valid query", err)
			case tc.field != "" && (!errors.As(err, &e) || e.Field != tc.field):
				t.Errorf("got %v; want an error about %s", err, tc.field)
			}
		})
	}
}

func TestMatchClaims(t *testing.T) {
	claims := map[string]any{}
	json.Unmarshal([]byte(`{"district":"Mitte","name":"Alice","age_equal_or_over":{"18":true,"65":false},
		"children":[{"name":"Bo"},{"name":"Cy"}]}`), &claims)
	tests := []struct {
		name   string
		query  string
		want   string // the JSON of the matched claims, or the error's text
		failed bool
	}{
		{"one claim", `{"claims":[{"path":["district"]}]}`, `[{"path":["district"],"value":"Mitte"}]`, false},
		{"accepted value", `{"claims":[{"path":["district"],"values":["Mitte","Kreuzberg"]}]}`, `[{"path":["district"],"value":"Mitte"}]`, false},
		{"refused value", `{"claims":[{"path":["district"],"values":["Kreuzberg"]}]}`, "value the request does not accept", true},
		{"boolean under an object", `{"claims":[{"path":["age_equal_or_over","18"],"values":[true]}]}`, `[{"path":["age_equal_or_over","18"],"value":true}]`, false},
		{"false is not true", `{"claims":[{"path":["age_equal_or_over","65"],"values":[true]}]}`, "does not accept", true},
		{"missing", `{"claims":[{"path":["birthdate"]}]}`, "not disclosed", true},
		{"wildcard", `{"claims":[{"path":["children",null,"name"]}]}`, `[{"path":["children",null,"name"],"value":["Bo","Cy"]}]`, false},
		{"index", `{"claims":[{"path":["children",1,"name"]}]}`, `[{"path":["children",1,"name"],"value":"Cy"}]`, false},
		{"claim set falls back", `{"claims":[{"id":"b","path":["birthdate"]},{"id":"a","path":["age_equal_or_over","18"]}],"claim_sets":[["b"],["a"]]}`,
			`[{"path":["age_equal_or_over","18"],"value":true}]`, false},
		{"no claim set", `{"claims":[{"id":"b","path":["birthdate"]}],"claim_sets":[["b"]]}`, "no claim set", true},
		{"no claims asked", `{}`, `null`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cq CredentialQuery
			if err := json.Unmarshal([]byte(tc.query), &cq); err != nil {
				t.Fatal(err)
			}
			got, err := cq.matchClaims(claims)
			if tc.failed {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("got %v, %v; want an error with %q", got, err, tc.want)
				}
				return
			}
			b, _ := json.Marshal(got)
			if err != nil || string(b) != tc.want {
				t.Errorf("got %s, %v; want %s", b, err, tc.want)
			}
		})
	}
}

func TestSatisfied(t *testing.T) {
	optional := false
	q := &Query{
		Credentials: []CredentialQuery{{ID: "a"}, {ID: "b"}, {ID: "c"}},
		CredentialSets: []CredentialSet{
			{Options: [][]string{{"a"}, {"b"}}},
			{Options: [][]string{{"c"}}, Required: &optional},
		},
	}
	for _, tc := range []struct {
		got  []string
		want bool
	}{{[]string{"a"}, true}, {[]string{"b", "c"}, true}, {[]string{"c"}, false}, {nil, false}} {
		got := map[string]bool{}
		for _, id := range tc.got {
			got[id] = true
		}
		if err := q.satisfied(got); (err == nil) != tc.want {
			t.Errorf("satisfied(%v) = %v; want ok %v", tc.got, err, tc.want)
		}
	}
	all := &Query{Credentials: []CredentialQuery{{ID: "a"}, {ID: "b"}}}
	if err := all.satisfied(map[string]bool{"a": true}); err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("without credential sets, a alone: got %v; want b missing", err)
	}
}

func TestMatchMeta(t *testing.T) {
	sd := CredentialQuery{Format: FormatSDJWT, Meta: Meta{VCTValues: []string{"ResidentCredential"}}}
	ldp := CredentialQuery{Format: FormatLDP, Meta: Meta{TypeValues: [][]string{{"VerifiableCredential", "LandTitle"}, {"ResidentCredential"}}}}
	for _, tc := range []struct {
		q     CredentialQuery
		vct   string
		types []string
		ok    bool
	}{
		{sd, "ResidentCredential", nil, true},
		{sd, "LandTitle", nil, false},
		{ldp, "", []string{"VerifiableCredential", "LandTitle"}, true},
		{ldp, "", []string{"VerifiableCredential", "ResidentCredential"}, true},
		{ldp, "", []string{"LandTitle"}, false},
	} {
		if err := tc.q.matchMeta(tc.vct, tc.types); (err == nil) != tc.ok {
			t.Errorf("%s matchMeta(%q, %v) = %v; want ok %v", tc.q.Format, tc.vct, tc.types, err, tc.ok)
		}
	}
}

func TestTemplates(t *testing.T) {
	for _, tpl := range Templates {
		t.Run(tpl.Name, func(t *testing.T) {
			q, err := tpl.Build(tpl.Example)
			if err != nil {
				t.Fatalf("Build(example) = %v", err)
			}
			b, _ := json.Marshal(q)
			if strings.Contains(strings.ToLower(string(b)), "birth") {
				t.Errorf("query %s asks for a birth date", b)
			}
			if q.Credentials[0].Format != FormatSDJWT && tpl.Name != "agency_accreditation" {
				t.Errorf("first format %s; want dc+sd-jwt first", q.Credentials[0].Format)
			}
		})
	}
	age, _ := TemplateByName("age_over")
	q, err := age.Build(map[string]string{"threshold": "21"})
	if err != nil || q.Credentials[0].Claims[0].Path[1] != "21" || len(q.Credentials) != 1 {
		t.Errorf("age_over 21: %+v, %v; want age_equal_or_over/21 in one SD-JWT query", q, err)
	}
	for _, params := range []map[string]string{{}, {"threshold": "0"}, {"threshold": "151"}, {"threshold": "18", "x": "1"}} {
		if _, err := age.Build(params); !errors.Is(err, errkind.Invalid) {
			t.Errorf("age_over %v: got %v; want Invalid", params, err)
		}
	}
	land, _ := TemplateByName("land_parcel")
	q, _ = land.Build(map[string]string{"parcel": "MIT-1"})
	if q.Credentials[0].Claims[0].Values[0] != "MIT-1" {
		t.Errorf("land_parcel: %+v; want the parcel as the only accepted value", q.Credentials[0].Claims[0])
	}
}
