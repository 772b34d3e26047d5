package did

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDomainImports keeps did a domain package: no web framework, no
// ORM, no server-side HTTP, and no other Urbis package but errkind and
// the leaf internal/bls (the BLS12-381 G2 key type it shares with kms).
func TestDomainImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	banned := []string{"github.com/gin-gonic/", "gorm.io/", "net/http/httptest", "github.com/glebarez/"}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, b := range banned {
				if strings.HasPrefix(path, b) {
					t.Errorf("%s imports %s; want no %s in a domain package", f, path, b)
				}
			}
			if strings.HasPrefix(path, "github.com/urbis-id/urbis/") && path != "github.com/urbis-id/urbis/internal/errkind" && path != "github.com/urbis-id/urbis/internal/bls" {
				t.Errorf("%s imports %s; want only internal/errkind and internal/bls from Urbis", f, path)
			}
		}
		for _, server := range []string{"http.Server", "http.Handler", "http.ResponseWriter", "http.ServeMux", "http.ListenAndServe"} {
			if strings.Contains(string(src), server) {
				t.Errorf("%s uses %s; want only client-side HTTP in did", f, server)
			}
		}
	}
}
