package statuslist

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/urbis-id/urbis/internal/errkind"
)

// specExample is the encodedList of the specification's example: a
// 16 KiB list with no bit set.
const specExample = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"

// wantErr checks err's kind and, when code is not empty, its code.
func wantErr(t *testing.T, err error, kind errkind.Kind, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error; want %s", kind)
	}
	if got := errkind.KindOf(err); got != kind {
		t.Errorf("got kind %s (%v); want %s", got, err, kind)
	}
	var e *errkind.Error
	if code != "" && (!errors.As(err, &e) || e.Code != code) {
		t.Errorf("got error %v with code %q; want code %q", err, codeOf(err), code)
	}
}

func codeOf(err error) string {
	var e *errkind.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func TestNewBitstring(t *testing.T) {
	tests := []struct {
		size int
		kind errkind.Kind // "" for success
	}{
		{MinSize, ""},
		{MinSize * 8, ""},
		{MaxSize, ""},
		{MinSize - 8, errkind.Invalid},
		{0, errkind.Invalid},
		{-8, errkind.Invalid},
		{MinSize + 4, errkind.Invalid},
		{MaxSize + 8, errkind.TooLarge},
	}
	for _, tt := range tests {
		s, err := NewBitstring(tt.size)
		if tt.kind != "" {
			if err == nil || errkind.KindOf(err) != tt.kind {
				t.Errorf("NewBitstring(%d) error = %v; want kind %s", tt.size, err, tt.kind)
			}
			continue
		}
		if err != nil {
			t.Fatalf("NewBitstring(%d): %v", tt.size, err)
		}
		if s.Len() != tt.size || s.Count() != 0 {
			t.Errorf("NewBitstring(%d): got Len %d, Count %d; want %d, 0", tt.size, s.Len(), s.Count(), tt.size)
		}
	}
}

func TestBitOrderAndRange(t *testing.T) {
	s, _ := NewBitstring(MinSize)
	for _, i := range []int{0, 9, MinSize - 1} {
		if err := s.Set(i, true); err != nil {
			t.Fatalf("Set(%d): %v", i, err)
		}
	}
	b := s.Bytes()
	if b[0] != 0x80 || b[1] != 0x40 || b[len(b)-1] != 0x01 {
		t.Errorf("got bytes %#x %#x ... %#x; want 0x80 0x40 ... 0x01 (index 0 is the left-most bit)", b[0], b[1], b[len(b)-1])
	}
	for _, i := range []int{0, 9, MinSize - 1} {
		if v, _ := s.Get(i); !v {
			t.Errorf("Get(%d) = false; want true", i)
		}
	}
	if v, _ := s.Get(1); v {
		t.Errorf("Get(1) = true; want false")
	}
	if err := s.Set(9, false); err != nil || s.Count() != 2 {
		t.Errorf("after Set(9, false): err %v, Count %d; want nil, 2", err, s.Count())
	}
	for _, i := range []int{-1, MinSize} {
		_, err := s.Get(i)
		wantErr(t, err, errkind.Invalid, CodeRange)
		wantErr(t, s.Set(i, true), errkind.Invalid, CodeRange)
	}
}

func TestMultiBitValues(t *testing.T) {
	s, _ := NewBitstring(MinSize)
	tests := []struct {
		index, size int
		value       uint64
	}{
		{0, 2, 3}, {1, 2, 1}, {5, 3, 5}, {MinSize/8 - 1, 8, 0xa5}, {7, 64, 1<<63 | 1},
	}
	for _, tt := range tests {
		if err := s.SetValue(tt.index, tt.size, tt.value); err != nil {
			t.Fatalf("SetValue(%d, %d, %d): %v", tt.index, tt.size, tt.value, err)
		}
	}
	for _, tt := range tests {
		if got, err := s.Value(tt.index, tt.size); err != nil || got != tt.value {
			t.Errorf("Value(%d, %d) = %d, %v; want %d", tt.index, tt.size, got, err, tt.value)
		}
	}
	if b := s.Bytes(); b[0] != 0xd0 {
		t.Errorf("got first byte %#x; want 0xd0 (entries 0b11, 0b01 at the left)", b[0])
	}
	wantErr(t, s.SetValue(0, 2, 4), errkind.Invalid, "")
	_, err := s.Value(0, 65)
	wantErr(t, err, errkind.Unsupported, "")
	_, err = s.Value(MinSize/2, 2)
	wantErr(t, err, errkind.Invalid, CodeRange)
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, size := range []int{MinSize, MinSize * 4, 1 << 23} {
		s, err := NewBitstring(size)
		if err != nil {
			t.Fatal(err)
		}
		set := []int{0, 1, 7, 8, 4242, size / 3, size - 1}
		for _, i := range set {
			_ = s.Set(i, true)
		}
		enc, err := s.Encode()
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		if !strings.HasPrefix(enc, "uH4sI") {
			t.Errorf("size %d: got encoding %.10q...; want the prefix \"uH4sI\" (multibase u + gzip magic)", size, enc)
		}
		if strings.ContainsAny(enc, "+/=") {
			t.Errorf("size %d: encoding has +, / or =; want base64url without padding", size)
		}
		got, err := Decode(enc)
		if err != nil {
			t.Fatalf("size %d: Decode: %v", size, err)
		}
		if got.Len() != size || got.Count() != len(set) || !bytes.Equal(got.Bytes(), s.Bytes()) {
			t.Errorf("size %d: got Len %d, Count %d; want %d, %d and the same bits", size, got.Len(), got.Count(), size, len(set))
		}
	}
}

func TestDecodeSpecExample(t *testing.T) {
	s, err := Decode(specExample)
	if err != nil {
		t.Fatalf("Decode(spec example): %v", err)
	}
	if s.Len() != 131072 || s.Count() != 0 {
		t.Errorf("got %d bits with %d set; want 131072 with 0 set", s.Len(), s.Count())
	}
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeErrors(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	valid := gz(t, make([]byte, MinSize/8))
	bomb := gz(t, make([]byte, MaxSize/8+1))
	tests := []struct {
		name, in string
		kind     errkind.Kind
		code     string
		msg      string
	}{
		{"empty", "", errkind.Invalid, CodeMalformed, "empty"},
		{"no multibase prefix", b64(valid), errkind.Invalid, CodeMalformed, "multibase prefix \"H\""},
		{"base64 with padding multibase", "U" + b64(valid), errkind.Invalid, CodeMalformed, "multibase prefix \"U\""},
		{"base58btc prefix", "z" + b64(valid), errkind.Invalid, CodeMalformed, "multibase prefix \"z\""},
		{"standard base64 alphabet", "u" + strings.NewReplacer("-", "+", "_", "/").Replace(specExample[1:]), errkind.Invalid, CodeMalformed, "not base64url"},
		{"padding", specExample + "==", errkind.Invalid, CodeMalformed, "not base64url"},
		{"not gzip", "u" + b64([]byte("this is not gzip at all")), errkind.Invalid, CodeMalformed, "not gzip"},
		{"truncated gzip", "u" + b64(valid[:len(valid)-6]), errkind.Invalid, CodeMalformed, "corrupt gzip"},
		{"bad checksum", "u" + b64(append(bytes.Clone(valid[:len(valid)-8]), 1, 2, 3, 4, 0, 0, 2, 0)), errkind.Invalid, CodeMalformed, "corrupt gzip"},
		{"too short", "u" + b64(gz(t, make([]byte, MinSize/8-1))), errkind.Invalid, CodeListLength, "131064 bits is shorter than the minimum of 131072"},
		{"empty list", "u" + b64(gz(t, nil)), errkind.Invalid, CodeListLength, "list of 0 bits"},
		{"gzip bomb", "u" + b64(bomb), errkind.TooLarge, "", "decompresses to more than 16777216 bytes"},
		{"huge string", "u" + strings.Repeat("A", maxEncodedLen), errkind.TooLarge, "", "exceed the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.in)
			wantErr(t, err, tt.kind, tt.code)
			if err != nil && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got error %q; want it to contain %q", err, tt.msg)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "encodedList: ") {
				t.Errorf("got error %q; want it to name the field encodedList", err)
			}
		})
	}
}

func TestFromBytes(t *testing.T) {
	s, _ := NewBitstring(MinSize)
	_ = s.Set(3, true)
	got, err := FromBytes(s.Bytes())
	if err != nil || !bytes.Equal(got.Bytes(), s.Bytes()) {
		t.Errorf("FromBytes(Bytes()) = %v; want the same bits", err)
	}
	_, err = FromBytes(make([]byte, 100))
	wantErr(t, err, errkind.Invalid, CodeListLength)
}
