package wallet

import "strings"

// PairwiseLabel is the label prefix of a pairwise DID: the label is
// PairwiseLabel + the verifier's client_id.
const PairwiseLabel = "pairwise:"

// PairwiseDID returns the did:key the wallet uses with the verifier
// clientID only: the one it made for it before, or a new one, remembered
// in the wallet file. created says whether it is new.
func (w *Wallet) PairwiseDID(clientID string) (d DID, created bool, err error) {
	label := PairwiseLabel + clientID
	for _, d := range w.c.DIDs {
		if d.Label == label {
			return d, false, nil
		}
	}
	d, err = w.NewDIDKey(label)
	return d, err == nil, err
}

// unbound reports whether c is a credential its issuer bound to no DID
// and no key (an ldp_vc or jwt_vc_json whose subjects have no id): the
// only kind a wallet may present as held by any of its DIDs, so the only
// kind a pairwise DID can be the holder of. An SD-JWT VC is bound to its
// cnf key and a credential with a subject id to that DID: neither can be
// re-bound by the holder.
func unbound(c Credential) bool {
	if c.Format != FormatLDP && c.Format != FormatJWT {
		return false
	}
	root, _, _, err := claimsOf(c)
	if err != nil {
		return false
	}
	if _, ok := root["cnf"]; ok {
		return false
	}
	noID := func(v any) bool {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		id, _ := m["id"].(string)
		return strings.TrimSpace(id) == ""
	}
	switch s := root["credentialSubject"].(type) {
	case map[string]any:
		return noID(s)
	case []any:
		for _, e := range s {
			if !noID(e) {
				return false
			}
		}
		return len(s) > 0
	}
	return false
}
