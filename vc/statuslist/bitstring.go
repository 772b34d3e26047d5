package statuslist

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"io"
	"math/bits"

	"github.com/urbis-id/urbis/internal/errkind"
)

// Size limits of a bitstring, in bits.
const (
	// MinSize is the specification's minimum length (16 KiB), which gives
	// herd privacy: a verifier fetching the list learns little about which
	// credential it checks.
	MinSize = 131072
	// MaxSize bounds a decoded list (16 MiB) so that a small gzip body
	// cannot expand without limit.
	MaxSize = (16 << 20) * 8
)

// maxEncodedLen bounds the encodedList string before it is decoded: the
// base64url form of MaxSize/8 bytes that do not compress, with room for
// gzip headers and stored-block overhead, plus the multibase prefix.
var maxEncodedLen = 1 + base64.RawURLEncoding.EncodedLen(MaxSize/8+MaxSize/8/1000+1024)

// Bitstring is a fixed-length string of bits. Index 0 is the left-most
// (most significant) bit of the first byte, as the specification orders
// it. It is not safe for concurrent mutation.
type Bitstring struct {
	b []byte
}

// NewBitstring returns an all-zero bitstring of size bits. The size must
// be a multiple of 8 between MinSize and MaxSize.
func NewBitstring(size int) (*Bitstring, error) {
	if err := checkSize(size); err != nil {
		return nil, err
	}
	return &Bitstring{b: make([]byte, size/8)}, nil
}

// FromBytes returns a bitstring over a copy of b, the raw (uncompressed)
// form that Bytes returns; len(b)*8 must be a valid size.
func FromBytes(b []byte) (*Bitstring, error) {
	if len(b) > MaxSize/8 {
		return nil, errkind.New(errkind.TooLarge, "bitstring of %d bytes exceeds the limit of %d bytes", len(b), MaxSize/8)
	}
	if err := checkSize(len(b) * 8); err != nil {
		return nil, err
	}
	return &Bitstring{b: bytes.Clone(b)}, nil
}

func checkSize(size int) error {
	switch {
	case size < MinSize:
		return errkind.New(errkind.Invalid, "bitstring size %d is below the minimum of %d bits", size, MinSize).WithCode(CodeListLength)
	case size > MaxSize:
		return errkind.New(errkind.TooLarge, "bitstring size %d exceeds the limit of %d bits", size, MaxSize)
	case size%8 != 0:
		return errkind.New(errkind.Invalid, "bitstring size %d is not a multiple of 8", size)
	}
	return nil
}

// Len returns the length in bits.
func (s *Bitstring) Len() int { return len(s.b) * 8 }

// Bytes returns a copy of the raw bits, for storage.
func (s *Bitstring) Bytes() []byte { return bytes.Clone(s.b) }

// Clone returns an independent copy.
func (s *Bitstring) Clone() *Bitstring { return &Bitstring{b: bytes.Clone(s.b)} }

// Count returns the number of set bits.
func (s *Bitstring) Count() int {
	n := 0
	for _, c := range s.b {
		n += bits.OnesCount8(c)
	}
	return n
}

// Get returns the bit at index i: the status of entry i when the status
// size is 1.
func (s *Bitstring) Get(i int) (bool, error) {
	v, err := s.Value(i, 1)
	return v == 1, err
}

// Set sets the bit at index i to v.
func (s *Bitstring) Set(i int, v bool) error {
	var x uint64
	if v {
		x = 1
	}
	return s.SetValue(i, 1, x)
}

// Entries returns how many status entries of size bits the string holds.
func (s *Bitstring) Entries(size int) int {
	if size < 1 {
		return 0
	}
	return s.Len() / size
}

// Value returns entry i of a list whose entries are size bits wide
// (statusSize): bits i*size to i*size+size-1, read as a big-endian
// unsigned integer. Size is between 1 and 64.
func (s *Bitstring) Value(i, size int) (uint64, error) {
	if err := s.checkEntry(i, size); err != nil {
		return 0, err
	}
	var v uint64
	for p := i * size; p < (i+1)*size; p++ {
		v = v<<1 | uint64(s.b[p/8]>>(7-p%8)&1)
	}
	return v, nil
}

// SetValue sets entry i of size bits to v; v must fit in size bits.
func (s *Bitstring) SetValue(i, size int, v uint64) error {
	if err := s.checkEntry(i, size); err != nil {
		return err
	}
	if size < 64 && v>>size != 0 {
		return errkind.New(errkind.Invalid, "status value %d does not fit in %d bits", v, size)
	}
	for p := (i+1)*size - 1; p >= i*size; p-- {
		mask := byte(1) << (7 - p%8)
		if v&1 == 1 {
			s.b[p/8] |= mask
		} else {
			s.b[p/8] &^= mask
		}
		v >>= 1
	}
	return nil
}

func (s *Bitstring) checkEntry(i, size int) error {
	if size < 1 || size > 64 {
		return errkind.New(errkind.Unsupported, "status size %d; supported sizes are 1 to 64 bits", size)
	}
	if n := s.Entries(size); i < 0 || i >= n {
		return errkind.New(errkind.Invalid, "index %d is outside the list of %d entries", i, n).WithCode(CodeRange)
	}
	return nil
}

// Encode returns the encodedList form: the bits GZIP-compressed, then
// base64url without padding, behind the multibase prefix "u".
func (s *Bitstring) Encode() (string, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "statuslist: gzip")
	}
	if _, err := zw.Write(s.b); err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "statuslist: gzip")
	}
	if err := zw.Close(); err != nil {
		return "", errkind.Wrap(errkind.Internal, err, "statuslist: gzip")
	}
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// Decode parses an encodedList. It refuses a missing or wrong multibase
// prefix, bad base64url, data that is not gzip or is corrupt, lists
// shorter than MinSize (STATUS_LIST_LENGTH_ERROR) and lists that
// decompress to more than MaxSize bits (TooLarge).
func Decode(s string) (*Bitstring, error) {
	const field = "encodedList"
	if s == "" {
		return nil, errkind.Field(errkind.Invalid, field, "empty").WithCode(CodeMalformed)
	}
	if len(s) > maxEncodedLen {
		return nil, errkind.Field(errkind.TooLarge, field, "%d characters exceed the limit of %d", len(s), maxEncodedLen)
	}
	if s[0] != 'u' {
		return nil, errkind.Field(errkind.Invalid, field, "multibase prefix %q; want \"u\" (base64url, no padding)", s[:1]).WithCode(CodeMalformed)
	}
	z, err := base64.RawURLEncoding.Strict().DecodeString(s[1:])
	if err != nil {
		return nil, errkind.Field(errkind.Invalid, field, "not base64url without padding: %v", err).WithCode(CodeMalformed)
	}
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, errkind.Field(errkind.Invalid, field, "not gzip data: %v", err).WithCode(CodeMalformed)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, MaxSize/8+1))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("truncated")
		}
		return nil, errkind.Field(errkind.Invalid, field, "corrupt gzip data: %v", err).WithCode(CodeMalformed)
	}
	if len(raw) > MaxSize/8 {
		return nil, errkind.Field(errkind.TooLarge, field, "decompresses to more than %d bytes", MaxSize/8)
	}
	if len(raw)*8 < MinSize {
		return nil, errkind.Field(errkind.Invalid, field, "list of %d bits is shorter than the minimum of %d", len(raw)*8, MinSize).WithCode(CodeListLength)
	}
	return &Bitstring{b: raw}, nil
}
