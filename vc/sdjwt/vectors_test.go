package sdjwt

import (
	"crypto"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"gopkg.in/yaml.v3"
)

// sharedVectors is the published SD-JWT test-vector folder, outside the
// repository; tests that read it skip when it is absent.
const sharedVectors = "../../../shared/vectors/sd-jwt"

// vectorSettings is the part of settings.yml the tests use.
type vectorSettings struct {
	Identifiers struct {
		Issuer   string `yaml:"issuer"`
		Verifier string `yaml:"verifier"`
	} `yaml:"identifiers"`
	KeySettings struct {
		IssuerKeys []map[string]string `yaml:"issuer_keys"`
		HolderKey  map[string]string   `yaml:"holder_key"`
	} `yaml:"key_settings"`
	KeyBindingNonce string `yaml:"key_binding_nonce"`
}

// jwkFrom parses a JWK given as a string map (from YAML).
func jwkFrom(t *testing.T, m map[string]string) jwk.Key {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.ParseKey(b)
	if err != nil {
		t.Fatalf("parse JWK: %v", err)
	}
	return k
}

// rawOf returns the raw Go key of a JWK.
func rawOf(t *testing.T, k jwk.Key) any {
	t.Helper()
	var raw any
	if err := k.Raw(&raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

// readJSON decodes a JSON file.
func readJSON(t *testing.T, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// kbTime is a moment just after the vectors' Key Binding JWTs were made
// (their iat is 1795773467) and before the SD-JWTs expire (1883000000).
var kbTime = time.Unix(1795773467+30, 0)

func TestPublishedVectors(t *testing.T) {
	if _, err := os.Stat(sharedVectors); err != nil {
		t.Skipf("published vectors not available at %s: %v", sharedVectors, err)
	}
	raw, err := os.ReadFile(filepath.Join(sharedVectors, "settings.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var st vectorSettings
	if err := yaml.Unmarshal(raw, &st); err != nil {
		t.Fatalf("settings.yml: %v", err)
	}
	issuerKey := rawOf(t, mustPublic(t, jwkFrom(t, st.KeySettings.IssuerKeys[0]))).(crypto.PublicKey)

	dirs, err := os.ReadDir(sharedVectors)
	if err != nil {
		t.Fatal(err)
	}
	passed := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		dir := filepath.Join(sharedVectors, d.Name())
		t.Run(d.Name(), func(t *testing.T) {
			pres, issuance := readVector(t, dir)
			_, kbErr := os.Stat(filepath.Join(dir, "kb_jwt_serialized.txt"))
			kb := kbErr == nil
			opts := VerifyOptions{
				IssuerKey: func(map[string]any, map[string]any) (crypto.PublicKey, error) { return issuerKey, nil },
				Now:       func() time.Time { return kbTime },
			}
			if kb {
				opts.RequireKeyBinding = true
				opts.Audience = st.Identifiers.Verifier
				opts.Nonce = st.KeyBindingNonce
			}
			got, err := Verify(pres, opts)
			if err != nil {
				t.Fatalf("Verify(presentation) = %v; want success", err)
			}
			if got.KeyBound != kb {
				t.Errorf("KeyBound = %v; want %v", got.KeyBound, kb)
			}
			want := readJSON(t, filepath.Join(dir, "verified_contents.json"))
			if !reflect.DeepEqual(normalize(t, got.Claims), want) {
				g, _ := json.MarshalIndent(got.Claims, "", "  ")
				w, _ := json.MarshalIndent(want, "", "  ")
				t.Errorf("verified claims:\n%s\nwant\n%s", g, w)
			}
			// The issuance itself (every disclosure, no key binding) verifies too.
			opts.RequireKeyBinding = false
			if _, err := Verify(issuance, opts); err != nil {
				t.Errorf("Verify(issuance) = %v; want success", err)
			}
			if !t.Failed() {
				passed++
			}
		})
	}
	t.Logf("%d published SD-JWT vectors verified", passed)
}

// readVector returns a vector's presentation and issuance, in the compact
// form or the JSON serialization (stored as a JSON string).
func readVector(t *testing.T, dir string) (pres, issuance string) {
	t.Helper()
	read := func(name string) string {
		if b, err := os.ReadFile(filepath.Join(dir, name+".txt")); err == nil {
			return string(b)
		}
		b, err := os.ReadFile(filepath.Join(dir, name+".json"))
		if err != nil {
			t.Fatalf("%s: no %s.txt or .json", dir, name)
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("%s.json: %v", name, err)
		}
		return s
	}
	return read("sd_jwt_presentation"), read("sd_jwt_issuance")
}

func mustPublic(t *testing.T, k jwk.Key) jwk.Key {
	t.Helper()
	pk, err := k.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

// normalize round-trips v through JSON so it compares with decoded files.
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
