package vote

import (
	"strings"
	"testing"
	"time"
)

func TestRuleMeets(t *testing.T) {
	opens := time.Date(2027, 5, 1, 8, 0, 0, 0, time.UTC)
	rule := Rule{CredentialType: "ResidentCredential", Districts: []string{"Eixample", "Gràcia"}, MinAge: 16}
	cases := []struct {
		name   string
		claims map[string]any
		want   string // "" for eligible, else part of the reason
	}{
		{"16 on the opening day", map[string]any{"district": "Gràcia", "birthDate": "2011-05-01"}, ""},
		{"16 the day after", map[string]any{"district": "Gràcia", "birthDate": "2011-05-02"}, "under 16"},
		{"older", map[string]any{"district": "Eixample", "birthDate": "1950-12-31"}, ""},
		{"age_equal_or_over true", map[string]any{"district": "Eixample", "age_equal_or_over": map[string]any{"16": true}}, ""},
		{"age_equal_or_over false", map[string]any{"district": "Eixample", "age_equal_or_over": map[string]any{"16": false}}, "under 16"},
		{"age_equal_or_over of another age", map[string]any{"district": "Eixample", "age_equal_or_over": map[string]any{"18": true}}, "neither birthDate"},
		{"other district", map[string]any{"district": "Sants", "birthDate": "1990-01-01"}, `district "Sants"`},
		{"no district", map[string]any{"birthDate": "1990-01-01"}, `district ""`},
		{"bad birthDate", map[string]any{"district": "Eixample", "birthDate": "01/01/1990"}, "neither birthDate"},
	}
	for _, tc := range cases {
		err := rule.meets(tc.claims, opens)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: got %v; want eligible", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v; want a refusal with %q", tc.name, err, tc.want)
		}
	}
	if err := (Rule{CredentialType: "ResidentCredential"}).meets(map[string]any{}, opens); err != nil {
		t.Errorf("a rule without districts or age: got %v; want eligible", err)
	}
}
