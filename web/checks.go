package web

import (
	"encoding/json"
	"html/template"
	"strconv"
)

// checkWords are the plain words for the named checks of a verification
// (docs/CREDENTIALS.md "The checks", docs/OID4VP.md "What is checked"):
// what a passed check means, and what a failed one means. The verifier's
// page renders them on the server for the paste box and hands them to
// checks.js (as JSON in the page) for the OpenID4VP answers it polls.
var checkWords = map[string][2]string{
	"credential":    {"The credential is well formed.", "The credential is not well formed"},
	"proof":         {"The signature is genuine: the credential is exactly as its issuer signed it.", "The signature does not verify: the credential was changed, or its issuer did not sign it"},
	"issuer":        {"The issuer is who it says: its DID resolves and holds the key that signed.", "The issuer could not be confirmed"},
	"accreditation": {"The issuer was accredited by the city for this kind of credential when it issued it.", "The issuer was not accredited for this kind of credential when it issued it"},
	"schema":        {"The contents have the form the city registered for this kind of credential.", "The contents do not have the registered form"},
	"validity":      {"It is within its validity period.", "It is not within its validity period"},
	"status":        {"It has not been revoked or suspended.", "It has been revoked or suspended, or its status could not be read"},
	"presentation":  {"The presentation is well formed.", "The presentation is not well formed"},
	"challenge":     {"It answers this very request (its one-time nonce), so it is not a replay.", "It does not answer this request's nonce: it may be a replay"},
	"domain":        {"It was made for this service.", "It was made for another service"},
	"holder":        {"The holder signed the presentation.", "The holder's signature does not verify"},
	"credentials":   {"Every credential in it verifies.", "A credential in it does not verify"},
	"holderBinding": {"The credentials belong to the person who presented them.", "The credentials are not bound to the person who presented them"},
	"format":        {"It is in the format asked for.", "It is not in the format asked for"},
	"query":         {"It is the kind of credential asked for and shows what was asked.", "It is not what was asked for"},
	"request":       {"Everything the request asked for was answered.", "Not everything the request asked for was answered"},
	"wallet":        {"The wallet answered.", "The wallet declined to answer"},
	"expiry":        {"The wallet answered in time.", "The request expired before the wallet answered"},
}

// checkWordsJSON is checkWords for checks.js, which reads it from a
// non-executable JSON script element (no inline script runs).
func checkWordsJSON() template.JS {
	b, _ := json.Marshal(checkWords) // a map of strings always encodes
	return template.JS(b)
}

// verification is what POST /credentials/verify and /presentations/verify
// answer, as far as the pages show it.
type verification struct {
	Verified    bool           `json:"verified"`
	Checks      []string       `json:"checks"`
	Errors      []checkProblem `json:"errors"`
	Warnings    []checkProblem `json:"warnings"`
	Credentials []struct {
		Verified bool           `json:"verified"`
		Errors   []checkProblem `json:"errors"`
	} `json:"credentials"`
}

type checkProblem struct {
	Check  string `json:"check"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Query  string `json:"query"`
}

// checkItem is one line of a list of checks: pass, fail or skip.
type checkItem struct {
	Class, Check, Text, Detail string
}

// checkItems lists v's checks in plain words, as checks.js does.
func checkItems(v verification) []checkItem {
	var out []checkItem
	for _, c := range v.Checks {
		text := "Check “" + c + "” passed."
		if w, ok := checkWords[c]; ok {
			text = w[0]
		}
		out = append(out, checkItem{Class: "pass", Check: c, Text: text})
	}
	for _, e := range v.Errors {
		text := "Check “" + e.Check + "” failed"
		if w, ok := checkWords[e.Check]; ok {
			text = w[1]
		}
		if e.Query != "" {
			text += " (" + e.Query + ")"
		}
		out = append(out, checkItem{Class: "fail", Check: e.Check, Text: text + ":", Detail: firstOf(e.Detail, e.Title)})
	}
	for _, e := range v.Warnings {
		out = append(out, checkItem{Class: "skip", Check: e.Check, Text: "Note on “" + e.Check + "”:", Detail: firstOf(e.Detail, e.Title)})
	}
	for i, c := range v.Credentials {
		it := checkItem{Class: "pass", Check: "credentials", Text: "Credential " + strconv.Itoa(i+1) + " in the presentation: verified"}
		if !c.Verified {
			it.Class, it.Text = "fail", "Credential "+strconv.Itoa(i+1)+" in the presentation: not verified:"
			if len(c.Errors) > 0 {
				it.Detail = c.Errors[0].Detail
			}
		}
		out = append(out, it)
	}
	return out
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
