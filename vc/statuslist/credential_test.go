package statuslist

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/urbis-id/urbis/internal/errkind"
)

const testURL = "https://status.urbis.example/lists/7"

func TestEntry(t *testing.T) {
	got := Entry(testURL, 94567, PurposeRevocation)
	want := map[string]any{
		"id":                   testURL + "#94567",
		"type":                 "BitstringStatusListEntry",
		"statusPurpose":        "revocation",
		"statusListIndex":      "94567",
		"statusListCredential": testURL,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Entry() = %v; want %v", got, want)
	}
}

func TestListCredential(t *testing.T) {
	bits, _ := NewBitstring(MinSize)
	from := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	got, err := ListCredential(testURL, "did:urbis:agency", PurposeSuspension, bits, from)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := bits.Encode()
	want := map[string]any{
		"@context":  []any{"https://www.w3.org/ns/credentials/v2"},
		"id":        testURL,
		"type":      []any{"VerifiableCredential", "BitstringStatusListCredential"},
		"issuer":    "did:urbis:agency",
		"validFrom": "2026-03-01T11:00:00Z",
		"credentialSubject": map[string]any{
			"id":            testURL + "#list",
			"type":          "BitstringStatusList",
			"statusPurpose": "suspension",
			"encodedList":   enc,
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListCredential() = %v; want %v", got, want)
	}

	errs := []struct {
		name, url, issuer, purpose string
		bits                       *Bitstring
		from                       time.Time
		kind                       errkind.Kind
		msg                        string
	}{
		{"relative url", "/lists/7", "did:x", PurposeRevocation, bits, from, errkind.Invalid, "listURL: \"/lists/7\" is not an absolute URL"},
		{"url with fragment", testURL + "#list", "did:x", PurposeRevocation, bits, from, errkind.Invalid, "has a fragment"},
		{"no issuer", testURL, "", PurposeRevocation, bits, from, errkind.Invalid, "issuer: missing"},
		{"message purpose", testURL, "did:x", "message", bits, from, errkind.Unsupported, "\"message\" lists are not issued here"},
		{"unknown purpose", testURL, "did:x", "expiry", bits, from, errkind.Invalid, "unknown purpose \"expiry\""},
		{"no bits", testURL, "did:x", PurposeRevocation, nil, from, errkind.Invalid, "bits: missing"},
		{"no validFrom", testURL, "did:x", PurposeRevocation, bits, time.Time{}, errkind.Invalid, "validFrom: missing"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ListCredential(tt.url, tt.issuer, tt.purpose, tt.bits, tt.from)
			wantErr(t, err, tt.kind, "")
			if err != nil && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got error %q; want it to contain %q", err, tt.msg)
			}
		})
	}
}

// viaJSON returns v after a JSON round trip, as a verifier sees it.
func viaJSON(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCheck(t *testing.T) {
	bits, _ := NewBitstring(MinSize)
	_ = bits.Set(42, true)
	_ = bits.Set(MinSize-1, true)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	list, err := ListCredential(testURL, "did:urbis:agency", PurposeRevocation, bits, from)
	if err != nil {
		t.Fatal(err)
	}
	list = viaJSON(t, list)

	entry := func(edit func(map[string]any)) map[string]any {
		e := viaJSON(t, Entry(testURL, 42, PurposeRevocation))
		if edit != nil {
			edit(e)
		}
		return e
	}
	listWith := func(edit func(cred, subj map[string]any)) map[string]any {
		c := viaJSON(t, list)
		edit(c, c["credentialSubject"].(map[string]any))
		return c
	}
	set := func(k string, v any) func(map[string]any) { return func(e map[string]any) { e[k] = v } }
	del := func(k string) func(map[string]any) { return func(e map[string]any) { delete(e, k) } }

	tests := []struct {
		name  string
		entry map[string]any
		list  map[string]any
		want  bool
		kind  errkind.Kind // "" for success
		code  string
		msg   string
	}{
		{name: "set", entry: entry(nil), list: list, want: true},
		{name: "last index set", entry: entry(set("statusListIndex", "131071")), list: list, want: true},
		{name: "unset", entry: entry(set("statusListIndex", "43")), list: list, want: false},
		{name: "index zero unset", entry: entry(set("statusListIndex", "0")), list: list, want: false},
		{name: "no entry id", entry: entry(del("id")), list: list, want: true},
		{name: "statusSize 1", entry: entry(set("statusSize", 1.0)), list: list, want: true},
		{name: "list with several purposes", entry: entry(nil), want: true,
			list: listWith(func(_, s map[string]any) { s["statusPurpose"] = []any{"suspension", "revocation"} })},
		{name: "subject in an array", entry: entry(nil), want: true,
			list: listWith(func(c, s map[string]any) { c["credentialSubject"] = []any{s} })},

		{name: "mismatched purpose", entry: entry(set("statusPurpose", "suspension")), list: list,
			kind: errkind.Invalid, code: CodeVerification, msg: `listCredential.credentialSubject.statusPurpose: got "revocation"; want "suspension"`},
		{name: "out of range", entry: entry(set("statusListIndex", "131072")), list: list,
			kind: errkind.Invalid, code: CodeRange, msg: "credentialStatus.statusListIndex: index 131072 is outside the list of 131072 entries"},
		{name: "beyond any list", entry: entry(set("statusListIndex", "99999999999999999999999")), list: list,
			kind: errkind.Invalid, code: CodeRange, msg: "beyond any list"},
		{name: "negative index", entry: entry(set("statusListIndex", "-1")), list: list,
			kind: errkind.Invalid, code: CodeMalformed, msg: `"-1" is not a non-negative base-10 integer`},
		{name: "hex index", entry: entry(set("statusListIndex", "0x2a")), list: list,
			kind: errkind.Invalid, code: CodeMalformed, msg: "not a non-negative base-10 integer"},
		{name: "numeric index", entry: entry(set("statusListIndex", 42.0)), list: list,
			kind: errkind.Invalid, code: CodeMalformed, msg: "statusListIndex: got 42; want a non-empty string"},
		{name: "missing index", entry: entry(del("statusListIndex")), list: list,
			kind: errkind.Invalid, code: CodeMalformed, msg: "credentialStatus.statusListIndex: missing"},
		{name: "list URL mismatch", entry: entry(set("statusListCredential", testURL+"x")), list: list,
			kind: errkind.Invalid, code: CodeVerification, msg: `listCredential.id: got "` + testURL + `"; want "` + testURL + `x"`},
		{name: "relative list URL", entry: entry(set("statusListCredential", "lists/7")), list: list,
			kind: errkind.Invalid, code: CodeMalformed, msg: "not an absolute URL"},
		{name: "entry id is the list URL", entry: entry(set("id", testURL)), list: list,
			kind: errkind.Invalid, code: CodeMalformed, msg: "credentialStatus.id: must not be the status list credential URL"},
		{name: "wrong entry type", entry: entry(set("type", "StatusList2021Entry")), list: list,
			kind: errkind.Invalid, code: CodeMalformed, msg: `credentialStatus.type: got "StatusList2021Entry"; want "BitstringStatusListEntry"`},
		{name: "statusSize 2", entry: entry(set("statusSize", 2.0)), list: list,
			kind: errkind.Unsupported, msg: "status size 2; only 1 is supported"},
		{name: "statusSize 0", entry: entry(set("statusSize", 0.0)), list: list,
			kind: errkind.Invalid, code: CodeMalformed, msg: "want an integer greater than zero"},
		{name: "no entry", entry: nil, list: list, kind: errkind.Invalid, code: CodeMalformed, msg: "credentialStatus: missing"},
		{name: "no list", entry: entry(nil), list: nil, kind: errkind.Invalid, code: CodeRetrieval, msg: "listCredential: missing"},
		{name: "list not a status list credential", entry: entry(nil),
			list: listWith(func(c, _ map[string]any) { c["type"] = []any{"VerifiableCredential"} }),
			kind: errkind.Invalid, code: CodeMalformed, msg: "listCredential.type: got [\"VerifiableCredential\"]"},
		{name: "list without id", entry: entry(nil), list: listWith(func(c, _ map[string]any) { delete(c, "id") }),
			kind: errkind.Invalid, code: CodeMalformed, msg: "listCredential.id: missing"},
		{name: "wrong subject type", entry: entry(nil), list: listWith(func(_, s map[string]any) { s["type"] = "StatusList2021" }),
			kind: errkind.Invalid, code: CodeMalformed, msg: "listCredential.credentialSubject.type"},
		{name: "two subjects", entry: entry(nil), list: listWith(func(c, s map[string]any) { c["credentialSubject"] = []any{s, s} }),
			kind: errkind.Invalid, code: CodeMalformed, msg: "2 subjects; want one"},
		{name: "bad encodedList", entry: entry(nil), list: listWith(func(_, s map[string]any) { s["encodedList"] = "zabc" }),
			kind: errkind.Invalid, code: CodeMalformed, msg: "listCredential.credentialSubject.encodedList: multibase prefix \"z\""},
		{name: "short encodedList", entry: entry(nil), list: listWith(func(_, s map[string]any) { s["encodedList"] = "uH4sIAAAAAAAA_wMAAAAAAAAAAAA" }),
			kind: errkind.Invalid, code: CodeListLength, msg: "shorter than the minimum"},
	}
	// Each case runs through Check and, twice (decoding, then remembering),
	// through one shared Decoder.
	var d Decoder
	checks := []struct {
		name  string
		check func(entry, list map[string]any) (bool, error)
	}{{"Check", Check}, {"Decoder", d.Check}, {"Decoder again", d.Check}}
	for _, c := range checks {
		for _, tt := range tests {
			t.Run(c.name+"/"+tt.name, func(t *testing.T) {
				checkCase(t, c.check, tt.entry, tt.list, tt.want, tt.kind, tt.code, tt.msg)
			})
		}
	}
}

func checkCase(t *testing.T, check func(entry, list map[string]any) (bool, error), entry, list map[string]any, want bool, kind errkind.Kind, code, msg string) {
	t.Helper()
	got, err := check(entry, list)
	if kind == "" {
		if err != nil || got != want {
			t.Errorf("Check() = %v, %v; want %v, nil", got, err, want)
		}
		return
	}
	wantErr(t, err, kind, code)
	if err != nil && !strings.Contains(err.Error(), msg) {
		t.Errorf("got error %q; want it to contain %q", err, msg)
	}
	if got {
		t.Errorf("got set = true with an error; want false")
	}
}

func TestCheckSpecExample(t *testing.T) {
	list := map[string]any{
		"@context": []any{ContextV2},
		"id":       "https://example.com/credentials/status/3",
		"type":     []any{"VerifiableCredential", "BitstringStatusListCredential"},
		"issuer":   "did:example:12345",
		"credentialSubject": map[string]any{
			"id":            "https://example.com/status/3#list",
			"type":          "BitstringStatusList",
			"statusPurpose": "revocation",
			"encodedList":   specExample,
		},
	}
	entry := map[string]any{
		"id":                   "https://example.com/credentials/status/3#94567",
		"type":                 "BitstringStatusListEntry",
		"statusPurpose":        "revocation",
		"statusListIndex":      "94567",
		"statusListCredential": "https://example.com/credentials/status/3",
	}
	if set, err := Check(entry, list); err != nil || set {
		t.Errorf("Check(spec example) = %v, %v; want false, nil", set, err)
	}
}
