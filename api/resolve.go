package api

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// The representations of a resolution answer.
const (
	mediaResolution = "application/did-resolution"
	mediaDIDLD      = "application/did+ld+json"
	mediaDIDJSON    = "application/did+json"
	mediaJSON       = "application/json"
)

// ResolveDID resolves a DID (Universal Resolver driver interface).
func (s *Server) ResolveDID(c *gin.Context, rawDID string, params ResolveDIDParams) {
	accept := ""
	if params.Accept != nil {
		accept = *params.Accept
	}
	media, err := negotiate(accept)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	id, err := pathDID(rawDID)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	var opts did.ResolveOptions
	if params.VersionId != nil {
		opts.VersionID = *params.VersionId
	}
	if params.VersionTime != nil {
		opts.VersionTime = *params.VersionTime
	}
	if params.PublicKeyFormat != nil {
		opts.PublicKeyFormat = string(*params.PublicKeyFormat)
	}
	bare := media == mediaDIDLD || media == mediaDIDJSON
	res, body, err := s.resolver.ResolveEncoded(c.Request.Context(), id, opts, bare)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	if res.DocumentMetadata.Deactivated {
		s.deactivated(c, id, res)
		return
	}
	c.Data(http.StatusOK, media, body)
}

// deactivated answers 410 with the document metadata, as DID Resolution asks.
func (s *Server) deactivated(c *gin.Context, id string, res *did.Resolution) {
	p := problemFor(c, s.log, errkind.New(errkind.Gone, "%s is deactivated", id))
	p.Title = "DID deactivated"
	meta := toMap(res.DocumentMetadata)
	meta["deactivated"] = true
	p.DidDocumentMetadata = &meta
	if res.Document != nil {
		doc := toMap(res.Document)
		p.DidDocument = &doc
	}
	writeProblem(c, p)
}

func toMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return map[string]any{}
	}
	m := map[string]any{}
	_ = json.Unmarshal(b, &m)
	return m
}

// pathDID recovers the DID from the raw path segment. A DID is sent as is
// (did:web ports stay %3A); a client that percent-encoded the whole DID,
// colons included, gets it decoded once.
func pathDID(raw string) (string, error) {
	if len(raw) > 4096 {
		return "", errkind.New(errkind.Invalid, "DID of %d bytes is longer than the 4096 allowed", len(raw)).WithCode("INVALID_DID")
	}
	if len(raw) >= 6 && strings.EqualFold(raw[:6], "did%3A") {
		dec, err := url.PathUnescape(raw)
		if err != nil {
			return "", errkind.Wrap(errkind.Invalid, err, "percent-encoded DID does not decode").WithCode("INVALID_DID")
		}
		return dec, nil
	}
	return raw, nil
}

// negotiate picks the representation for an Accept header, following the
// q-values of RFC 9110. No header means a resolution result.
func negotiate(accept string) (string, error) {
	if strings.TrimSpace(accept) == "" {
		return mediaResolution, nil
	}
	type rng struct {
		media string
		q     float64
		order int
	}
	var ranges []rng
	for i, part := range strings.Split(accept, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		mt, ps, err := mime.ParseMediaType(part)
		if err != nil {
			return "", errkind.New(errkind.NotAcceptable, "Accept header %q is malformed: %v", accept, err).WithCode("REPRESENTATION_NOT_SUPPORTED")
		}
		q := 1.0
		if qs, ok := ps["q"]; ok {
			q, err = strconv.ParseFloat(qs, 64)
			if err != nil || q < 0 || q > 1 {
				return "", errkind.New(errkind.NotAcceptable, "Accept header %q has a bad q-value %q", accept, qs).WithCode("REPRESENTATION_NOT_SUPPORTED")
			}
		}
		// application/ld+json;profile="https://w3id.org/did-resolution" is
		// the older name of a resolution result.
		if mt == "application/ld+json" && strings.Contains(ps["profile"], "did-resolution") {
			mt = mediaResolution
		}
		ranges = append(ranges, rng{mt, q, i})
	}
	sort.SliceStable(ranges, func(i, j int) bool { return ranges[i].q > ranges[j].q })
	for _, r := range ranges {
		if r.q == 0 {
			continue
		}
		switch r.media {
		case mediaResolution, mediaDIDLD, mediaDIDJSON, mediaJSON:
			return r.media, nil
		case "*/*", "application/*":
			return mediaResolution, nil
		}
	}
	return "", errkind.New(errkind.NotAcceptable,
		"none of the media types in Accept %q is served; ask for %s, %s or %s", accept, mediaResolution, mediaDIDLD, mediaDIDJSON).WithCode("REPRESENTATION_NOT_SUPPORTED")
}
