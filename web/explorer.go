package web

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/urbis-id/urbis/api"
)

// recentBlocks is how many blocks the explorer's front page lists.
const recentBlocks = 10

// maxVersions is how many versions of a DID the explorer lists.
const maxVersions = 50

func (s *Site) routes(m *http.ServeMux) {
	m.HandleFunc("GET /explorer", s.explorer)
	m.HandleFunc("GET /explorer/search", s.search)
	m.HandleFunc("GET /explorer/blocks/{height}", s.block)
	m.HandleFunc("GET /explorer/operations/{hash}", s.operation)
	m.HandleFunc("GET /explorer/proof", s.proofPaste)
	m.HandleFunc("GET /explorer/dids/", s.didPage)
	m.HandleFunc("GET /explorer/issuers/", s.issuerPage)
	m.HandleFunc("GET /explorer/parcels/{id}", s.parcel)
	m.HandleFunc("GET /explorer/elections/{id}", s.election)
	m.HandleFunc("GET /verify", s.verify)
	m.HandleFunc("POST /verify", s.verifyPaste)
	m.HandleFunc("POST /verify/key", s.verifyKey)
	m.HandleFunc("POST /verify/requests", s.verifyRequest)
}

type explorerData struct {
	Head   api.Head
	Blocks []blockRow
	Query  string
}

type blockRow struct {
	Height  int64
	Hash    string
	Time    string
	OpCount int
}

// explorer is the front page: the chain head and the latest blocks, from
// one call of GET /registry/blocks.
func (s *Site) explorer(w http.ResponseWriter, r *http.Request) {
	var list api.BlockList
	if err := s.api.get(r, "/registry/blocks?limit="+strconv.Itoa(recentBlocks), &list); err != nil {
		s.fail(w, r, err, "/")
		return
	}
	d := explorerData{Head: api.Head{Chain: list.Chain, Height: list.Height}}
	for i, b := range list.Items {
		if i == 0 && b.Header.Height == list.Height {
			hash, header := b.Hash, b.Header
			d.Head.Hash, d.Head.Header = &hash, &header
		}
		d.Blocks = append(d.Blocks, blockRow{Height: b.Header.Height, Hash: b.Hash, Time: stamp(b.Header.Time), OpCount: b.Header.OpCount})
	}
	s.render(w, r, http.StatusOK, "explorer", page{Title: "Registry explorer", Nav: "explorer", Data: d})
}

var (
	hexHash = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// idChars are the characters of parcel and election ids; anything
	// else is not one.
	idChars = regexp.MustCompile(`^[A-Za-z0-9._:~-]{1,200}$`)
)

// search sends the query to the page it names: a DID, a block height, an
// operation hash, or a parcel or election id (the API is asked which).
func (s *Site) search(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	switch {
	case q == "":
		http.Redirect(w, r, "/explorer", http.StatusSeeOther)
		return
	case strings.HasPrefix(q, "did:"):
		if strings.ContainsAny(q, "/?# ") {
			s.searchAgain(w, r, "Not a DID", "A DID has no '/', '?', '#' or spaces; give the DID alone.")
			return
		}
		http.Redirect(w, r, "/explorer/dids/"+q, http.StatusSeeOther)
		return
	case isHeight(q):
		http.Redirect(w, r, "/explorer/blocks/"+q, http.StatusSeeOther)
		return
	case hexHash.MatchString(strings.ToLower(q)):
		http.Redirect(w, r, "/explorer/operations/"+strings.ToLower(q), http.StatusSeeOther)
		return
	case !idChars.MatchString(q):
		s.searchAgain(w, r, "Nothing to search for", "Search for a DID (did:…), a block height, an operation hash (64 hex characters), a parcel id or an election id.")
		return
	}
	id := url.PathEscape(q)
	var p api.Parcel
	err := s.api.get(r, "/land/parcels/"+id, &p)
	if err == nil {
		http.Redirect(w, r, "/explorer/parcels/"+id, http.StatusSeeOther)
		return
	}
	if !isStatus(err, http.StatusNotFound, http.StatusBadRequest, http.StatusNotImplemented) {
		s.fail(w, r, err, "/explorer")
		return
	}
	var e api.Election
	err = s.api.get(r, "/elections/"+id, &e)
	if err == nil {
		http.Redirect(w, r, "/explorer/elections/"+id, http.StatusSeeOther)
		return
	}
	if !isStatus(err, http.StatusNotFound, http.StatusBadRequest, http.StatusNotImplemented) {
		s.fail(w, r, err, "/explorer")
		return
	}
	s.searchAgain(w, r, "Nothing found", fmt.Sprintf("%q is neither a parcel nor an election this registry knows.", q))
}

// searchAgain answers a search that found nothing, or that is no DID,
// height, hash or id, with a page that says so. It is an answer, not a
// failed request: its status is 200, as a form sent back with what to
// fix, so the browser logs no error (a link to something that does not
// exist, as /explorer/blocks/999999, stays a 404).
func (s *Site) searchAgain(w http.ResponseWriter, r *http.Request, title, detail string) {
	s.render(w, r, http.StatusOK, "error", page{Title: title, Nav: "explorer", Data: problemPage{
		Title: title, Detail: detail, Back: "/explorer",
	}})
}

func isHeight(q string) bool {
	n, err := strconv.ParseInt(q, 10, 64)
	return err == nil && n >= 0 && len(q) < 19
}

func isStatus(err error, codes ...int) bool {
	var pe *problemError
	if !errors.As(err, &pe) {
		return false
	}
	for _, c := range codes {
		if pe.Status == c {
			return true
		}
	}
	return false
}

type blockData struct {
	Block api.Block
	Ops   []opRow
	Prev  int64
	Next  int64 // 0 when this is the head
}

// opRow is an operation as the explorer lists it: read from the signed
// operation itself (its JWS payload), which the block carries.
type opRow struct {
	Index  int
	Hash   string
	Kind   string
	Signer string
	Nonce  uint64
}

func summarize(i int, compact string) opRow {
	sum := sha256.Sum256([]byte(compact))
	row := opRow{Index: i, Hash: hex.EncodeToString(sum[:]), Kind: "(unreadable)"}
	parts := strings.Split(compact, ".")
	if len(parts) != 3 {
		return row
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return row
	}
	var op struct {
		Kind   string `json:"kind"`
		Signer string `json:"signer"`
		Nonce  uint64 `json:"nonce"`
	}
	if json.Unmarshal(raw, &op) == nil {
		row.Kind, row.Signer, row.Nonce = op.Kind, op.Signer, op.Nonce
	}
	return row
}

func (s *Site) block(w http.ResponseWriter, r *http.Request) {
	hs := r.PathValue("height")
	h, err := strconv.ParseInt(hs, 10, 64)
	if err != nil || h < 1 {
		s.badRequest(w, r, fmt.Sprintf("%q is not a block height: heights are whole numbers from 1.", hs), "/explorer")
		return
	}
	var b api.Block
	if err := s.api.get(r, "/registry/blocks/"+strconv.FormatInt(h, 10), &b); err != nil {
		if isStatus(err, http.StatusNotFound) {
			s.render(w, r, http.StatusNotFound, "error", page{Title: "No such block", Nav: "explorer", Data: problemPage{
				Status: http.StatusNotFound, Title: "No such block",
				Detail: fmt.Sprintf("The chain has no block %d yet.", h), Back: "/explorer",
			}})
			return
		}
		s.fail(w, r, err, "/explorer")
		return
	}
	d := blockData{Block: b, Prev: h - 1}
	for i, op := range b.Operations {
		d.Ops = append(d.Ops, summarize(i, op))
	}
	var head api.Head
	if err := s.api.get(r, "/registry/head", &head); err == nil && head.Height > h {
		d.Next = h + 1
	}
	s.render(w, r, http.StatusOK, "block", page{Title: fmt.Sprintf("Block %d", h), Nav: "explorer", Data: d})
}

type operationData struct {
	Status api.OperationStatus
}

func (s *Site) operation(w http.ResponseWriter, r *http.Request) {
	hash := strings.ToLower(r.PathValue("hash"))
	if !hexHash.MatchString(hash) {
		s.badRequest(w, r, "An operation hash is 64 hexadecimal characters (the SHA-256 of the signed operation).", "/explorer")
		return
	}
	var st api.OperationStatus
	if err := s.api.get(r, "/registry/operations/"+hash, &st); err != nil {
		if isStatus(err, http.StatusNotFound) {
			s.render(w, r, http.StatusNotFound, "error", page{Title: "No such operation", Nav: "explorer", Data: problemPage{
				Status: http.StatusNotFound, Title: "No such operation",
				Detail: "This registry has no operation with hash " + hash + ".", Back: "/explorer",
			}})
			return
		}
		s.fail(w, r, err, "/explorer")
		return
	}
	s.render(w, r, http.StatusOK, "operation", page{Title: "Operation " + hash[:12] + "…", Nav: "explorer",
		Scripts: []string{"proof.js"}, Data: operationData{Status: st}})
}

func (s *Site) proofPaste(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "proof", page{Title: "Check an inclusion proof", Nav: "explorer", Scripts: []string{"proof.js"}})
}

// rawRest returns the escaped path after prefix, as the visitor sent it
// (a did:web DID keeps its %3A), or "" when it is not one path segment.
func rawRest(r *http.Request, prefix string) string {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), prefix)
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return ""
	}
	return rest
}

type didVersion struct {
	VersionID   string
	Updated     string
	BlockHeight int64
	Deactivated bool
	Methods     []didMethodRow
	Services    []didServiceRow
}

type didMethodRow struct{ ID, Type, Key string }
type didServiceRow struct{ ID, Type, Endpoint string }

type didData struct {
	DID      string
	Method   string
	Created  string
	Versions []didVersion // newest first
	Capped   bool
}

// resolution is what the explorer reads of a DID resolution result.
type resolution struct {
	DidDocument *struct {
		VerificationMethod []struct {
			ID                 string         `json:"id"`
			Type               string         `json:"type"`
			PublicKeyMultibase string         `json:"publicKeyMultibase"`
			PublicKeyJwk       map[string]any `json:"publicKeyJwk"`
		} `json:"verificationMethod"`
		Service []struct {
			ID              string `json:"id"`
			Type            any    `json:"type"`
			ServiceEndpoint any    `json:"serviceEndpoint"`
		} `json:"service"`
	} `json:"didDocument"`
	DidDocumentMetadata struct {
		Created     string `json:"created"`
		Updated     string `json:"updated"`
		VersionID   string `json:"versionId"`
		Deactivated bool   `json:"deactivated"`
		BlockHeight int64  `json:"blockHeight"`
	} `json:"didDocumentMetadata"`
}

func (v resolution) version() didVersion {
	m := v.DidDocumentMetadata
	out := didVersion{VersionID: m.VersionID, Updated: m.Updated, BlockHeight: m.BlockHeight, Deactivated: m.Deactivated}
	if d := v.DidDocument; d != nil {
		for _, vm := range d.VerificationMethod {
			key := vm.PublicKeyMultibase
			if key == "" && vm.PublicKeyJwk != nil {
				b, _ := json.Marshal(vm.PublicKeyJwk)
				key = string(b)
			}
			out.Methods = append(out.Methods, didMethodRow{ID: vm.ID, Type: vm.Type, Key: key})
		}
		for _, sv := range d.Service {
			out.Services = append(out.Services, didServiceRow{ID: sv.ID, Type: fmt.Sprint(sv.Type), Endpoint: fmt.Sprint(sv.ServiceEndpoint)})
		}
	}
	return out
}

func (s *Site) didPage(w http.ResponseWriter, r *http.Request) {
	raw := rawRest(r, "/explorer/dids/")
	id, err := url.PathUnescape(raw)
	if raw == "" || err != nil || !strings.HasPrefix(id, "did:") {
		s.badRequest(w, r, "Give a DID after /explorer/dids/, such as did:urbis:… or did:key:….", "/explorer")
		return
	}
	var cur resolution
	if err := s.api.get(r, "/1.0/identifiers/"+raw, &cur); err != nil {
		if isStatus(err, http.StatusGone) {
			// Deactivated: the API answers 410 with the last document's
			// metadata; the version history is still on chain.
			cur = resolution{}
			cur.DidDocumentMetadata.Deactivated = true
		} else {
			s.fail(w, r, err, "/explorer")
			return
		}
	}
	d := didData{DID: id, Method: strings.SplitN(id, ":", 3)[1], Created: cur.DidDocumentMetadata.Created}
	n, err := strconv.Atoi(cur.DidDocumentMetadata.VersionID)
	if err != nil || n < 1 || d.Method != "urbis" {
		d.Versions = []didVersion{cur.version()}
	} else {
		for v := n; v >= 1 && v > n-maxVersions; v-- {
			var res resolution
			if v == n {
				res = cur
			} else if err := s.api.get(r, "/1.0/identifiers/"+raw+"?versionId="+strconv.Itoa(v), &res); err != nil {
				s.fail(w, r, err, "/explorer")
				return
			}
			d.Versions = append(d.Versions, res.version())
		}
		d.Capped = n > maxVersions
	}
	s.render(w, r, http.StatusOK, "did", page{Title: "DID " + shortDID(id), Nav: "explorer", Data: d})
}

type issuerData struct {
	Issuer api.IssuerAccreditations
}

func (s *Site) issuerPage(w http.ResponseWriter, r *http.Request) {
	raw := rawRest(r, "/explorer/issuers/")
	id, err := url.PathUnescape(raw)
	if raw == "" || err != nil || !strings.HasPrefix(id, "did:") {
		s.badRequest(w, r, "Give an issuer's DID after /explorer/issuers/.", "/explorer")
		return
	}
	var acc api.IssuerAccreditations
	if err := s.api.get(r, "/trust/issuers/"+raw, &acc); err != nil {
		s.fail(w, r, err, "/explorer")
		return
	}
	s.render(w, r, http.StatusOK, "issuer", page{Title: "Accreditations of " + shortDID(id), Nav: "explorer", Data: issuerData{Issuer: acc}})
}

type parcelData struct {
	ID      string
	History api.ParcelHistory
}

func (s *Site) parcel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !idChars.MatchString(id) {
		s.badRequest(w, r, "A parcel id is letters, digits and . _ : ~ -.", "/explorer")
		return
	}
	var h api.ParcelHistory
	if err := s.api.get(r, "/land/parcels/"+url.PathEscape(id)+"/history", &h); err != nil {
		s.fail(w, r, err, "/explorer")
		return
	}
	s.render(w, r, http.StatusOK, "parcel", page{Title: "Parcel " + id, Nav: "explorer", Data: parcelData{ID: id, History: h}})
}

type electionData struct {
	Election api.Election
	Tally    api.ElectionTally
	Chart    chart
	Turnout  string
}

func (s *Site) election(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !idChars.MatchString(id) {
		s.badRequest(w, r, "An election id is letters, digits and . _ : ~ -.", "/explorer")
		return
	}
	var d electionData
	if err := s.api.get(r, "/elections/"+url.PathEscape(id), &d.Election); err != nil {
		s.fail(w, r, err, "/explorer")
		return
	}
	if err := s.api.get(r, "/elections/"+url.PathEscape(id)+"/tally", &d.Tally); err != nil {
		s.fail(w, r, err, "/explorer")
		return
	}
	d.Chart = barChart(d.Tally.Options, d.Tally.Counts)
	d.Turnout = turnout(d.Tally.Ballots, d.Tally.Tokens)
	s.render(w, r, http.StatusOK, "election", page{Title: d.Election.Title, Nav: "explorer", Scripts: []string{"election.js"}, Data: d})
}

// turnout is ballots cast over ballot tokens issued, in words.
func turnout(ballots, tokens int64) string {
	if tokens == 0 {
		return "no ballot tokens issued yet"
	}
	return fmt.Sprintf("%.1f%% (%s cast of %s issued)", 100*float64(ballots)/float64(tokens), count(ballots, "ballot"), count(tokens, "ballot token"))
}

// count is n things in words: "1 ballot", "2 ballots".
func count(n int64, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func shortDID(id string) string {
	if len(id) <= 40 {
		return id
	}
	return id[:32] + "…" + id[len(id)-6:]
}
