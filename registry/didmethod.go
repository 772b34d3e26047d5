package registry

import (
	"context"
	"crypto/sha256"
	"errors"
	"strconv"
	"time"

	"github.com/btcsuite/btcutil/base58"

	"github.com/urbis-id/urbis/did"
	"github.com/urbis-id/urbis/internal/errkind"
)

// didMethod resolves did:urbis from chain state.
type didMethod struct {
	st StateReader
}

// NewDIDMethod returns the did:urbis method, resolving from st: the
// current version, or the one named by the versionId option (a decimal
// version number) or in force at the versionTime option. The document
// metadata gives created (version 1's block time), updated (this
// version's), versionId, nextVersionId and nextUpdate when a later
// version exists, deactivated, blockHeight (the block that made this
// version), and compromised: every verification method declared
// compromised by the current version or an earlier one, whatever version
// was asked for, so that a verifier resolving the version in force when a
// credential was issued learns of a compromise declared later. A
// deactivated DID resolves with its last document. Times are RFC 3339 in
// UTC, to the second.
func NewDIDMethod(st StateReader) did.Method {
	return didMethod{st: st}
}

// Method returns "urbis".
func (didMethod) Method() string { return MethodURBIS }

// Resolve resolves id.
func (m didMethod) Resolve(ctx context.Context, id did.DID, opts did.ResolveOptions) (*did.Resolution, error) {
	if id.Method != MethodURBIS {
		return nil, errkind.New(errkind.Invalid, "%q is not a did:urbis", id.String()).WithCode(did.CodeInvalidDID)
	}
	if raw := base58.Decode(id.ID); len(raw) != sha256.Size || base58.Encode(raw) != id.ID {
		return nil, errkind.New(errkind.Invalid, "%s: the method-specific id must be the base58btc encoding of 32 bytes", id).WithCode(did.CodeInvalidDID)
	}
	if f := opts.PublicKeyFormat; f != "" && f != did.FormatMultikey {
		return nil, errkind.New(errkind.Invalid, "publicKeyFormat %q is not supported for did:urbis; want %q", f, did.FormatMultikey).WithCode(did.CodeUnsupportedPublicKeyType)
	}
	v, err := m.version(ctx, id.String(), opts)
	if err != nil {
		return nil, err
	}
	md := did.DocumentMetadata{
		Updated:     stamp(v.Time),
		VersionID:   strconv.FormatUint(v.Version, 10),
		Deactivated: v.Deactivated,
		BlockHeight: v.Height,
	}
	md.Created = md.Updated
	if v.Version > 1 {
		first, err := m.st.DIDVersion(ctx, v.DID, 1)
		if err != nil {
			return nil, resolveErr(err, id)
		}
		md.Created = stamp(first.Time)
	}
	if opts.VersionID == "" && opts.VersionTime == "" {
		// The current version has no next one: no second lookup, which
		// could also see a version committed after the first.
		md.Compromised = compromised(v)
		return m.resolution(v, md), nil
	}
	next, err := m.st.DIDVersion(ctx, v.DID, v.Version+1)
	switch {
	case err == nil:
		md.NextVersionID = strconv.FormatUint(next.Version, 10)
		md.NextUpdate = stamp(next.Time)
		latest, err := m.st.LatestDIDVersion(ctx, v.DID)
		if err != nil {
			return nil, resolveErr(err, id)
		}
		md.Compromised = compromised(latest)
	case !errors.Is(err, errkind.NotFound):
		return nil, resolveErr(err, id)
	default:
		md.Compromised = compromised(v)
	}
	return m.resolution(v, md), nil
}

// resolution is the answer for version v with metadata md.
func (didMethod) resolution(v DIDVersion, md did.DocumentMetadata) *did.Resolution {
	return &did.Resolution{
		Document:           v.Document.Expand(v.DID),
		ResolutionMetadata: did.ResolutionMetadata{ContentType: did.ContentTypeDIDLDJSON},
		DocumentMetadata:   md,
	}
}

// version returns the version opts ask for.
func (m didMethod) version(ctx context.Context, id string, opts did.ResolveOptions) (DIDVersion, error) {
	var v DIDVersion
	var err error
	switch {
	case opts.VersionID != "" && opts.VersionTime != "":
		return v, errkind.New(errkind.Invalid, "give versionId or versionTime, not both").WithCode(did.CodeInvalidOptions)
	case opts.VersionID != "":
		n, perr := strconv.ParseUint(opts.VersionID, 10, 64)
		if perr != nil || n == 0 || strconv.FormatUint(n, 10) != opts.VersionID {
			return v, errkind.New(errkind.Invalid, "versionId %q is not a did:urbis version: want a decimal number from 1, such as \"2\"", opts.VersionID).WithCode(did.CodeInvalidOptions)
		}
		v, err = m.st.DIDVersion(ctx, id, n)
		if errors.Is(err, errkind.NotFound) {
			if _, lerr := m.st.LatestDIDVersion(ctx, id); lerr == nil {
				return v, errkind.New(errkind.NotFound, "%s has no version %d", id, n).WithCode(did.CodeNotFound)
			}
		}
	case opts.VersionTime != "":
		t, perr := did.ParseVersionTime(opts.VersionTime)
		if perr != nil {
			return v, errkind.New(errkind.Invalid, "versionTime %q is not an XML datetime such as 2002-10-10T17:00:00Z", opts.VersionTime).WithCode(did.CodeInvalidOptions)
		}
		v, err = m.st.DIDVersionAt(ctx, id, t)
		if errors.Is(err, errkind.NotFound) {
			if _, lerr := m.st.LatestDIDVersion(ctx, id); lerr == nil {
				return v, errkind.New(errkind.NotFound, "%s did not exist yet at %s", id, opts.VersionTime).WithCode(did.CodeNotFound)
			}
		}
	default:
		v, err = m.st.LatestDIDVersion(ctx, id)
	}
	if err != nil {
		return v, resolveErr(err, did.DID{Method: MethodURBIS, ID: id[len("did:urbis:"):]})
	}
	return v, nil
}

// compromised lists the compromised keys of v as resolution metadata.
func compromised(v DIDVersion) []did.CompromisedMethod {
	var out []did.CompromisedMethod
	for _, k := range v.Compromised {
		out = append(out, did.CompromisedMethod{
			ID: v.DID + k.ID, PublicKeyMultibase: k.PublicKeyMultibase,
			Since: stamp(k.Time), VersionID: strconv.FormatUint(k.Version, 10),
		})
	}
	return out
}

// resolveErr turns a state error into a resolution error.
func resolveErr(err error, id did.DID) error {
	if errors.Is(err, errkind.NotFound) {
		return errkind.New(errkind.NotFound, "%s is not on this chain", id).WithCode(did.CodeNotFound)
	}
	return errkind.Wrap(errkind.KindOf(err), err, "resolve %s", id).WithCode(did.CodeInternalError)
}

// stamp formats a block time for DID document metadata.
func stamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
