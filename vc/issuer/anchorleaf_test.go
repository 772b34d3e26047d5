package issuer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
)

func TestJCS(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// RFC 8785 §3.2.2 example.
		{"rfc 8785 sample", `{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}`,
			`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`},
		// RFC 8785 §3.2.3: members sorted by UTF-16 code units.
		{"rfc 8785 sorting", `{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}`,
			"{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\",\"\U0001F600\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"},
		{"no html escaping", `{"b":"<a&b>","a":"\u2028"}`, `{"a":"` + "\u2028" + `","b":"<a&b>"}`},
		{"nested", `{"z":{"y":[1,{"b":2,"a":-0.5}]},"a":[]}`, `{"a":[],"z":{"y":[1,{"a":-0.5,"b":2}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(tt.in), &v); err != nil {
				t.Fatal(err)
			}
			got, err := JCS(v)
			if err != nil || string(got) != tt.want {
				t.Errorf("got %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestLeafOf(t *testing.T) {
	sum := func(s string) string {
		h := sha256.Sum256([]byte(s))
		return hex.EncodeToString(h[:])
	}
	tests := []struct {
		name string
		in   Issued
		want string
	}{
		{"jwt", Issued{Token: "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJ4In0.c2ln"}, sum("eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJ4In0.c2ln")},
		{"sd-jwt with disclosures", Issued{Token: "eyJ.eyJ.c2ln~WyJzYWx0IiwibmFtZSIsIkFsaWNlIl0~"}, sum("eyJ.eyJ.c2ln~WyJzYWx0IiwibmFtZSIsIkFsaWNlIl0~")},
		{"ldp_vc", Issued{Credential: map[string]any{"proof": map[string]any{"type": "DataIntegrityProof"}, "id": "urn:uuid:1", "@context": []any{"https://www.w3.org/ns/credentials/v2"}}},
			sum(`{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"urn:uuid:1","proof":{"type":"DataIntegrityProof"}}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := LeafOf(tt.in); err != nil || got != tt.want {
				t.Errorf("got %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}
