package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestDecodeSubmissionAgreesWithDecoder checks that the submission
// body's shortcut gives, for every body, what the strict JSON decoder
// gives: the same operation, or an error with the same message.
func TestDecodeSubmissionAgreesWithDecoder(t *testing.T) {
	jws := "eyJhbGciOiJFZERTQSJ9.eyJraW5kIjoiZGlkLmNyZWF0ZSJ9.c2lnbmF0dXJl-_"
	bodies := []string{
		`{"operation":"` + jws + `"}`,
		" \n" + `{"operation":"` + jws + `"}` + "\n",
		`{"operation":"a\u002eb.c"}`,
		`{"operation":"a.b.c","extra":1}`,
		`{"Operation":"a.b.c"}`,
		`{"operation":"a b"}`,
		`{"operation":"a.b.c"}{}`,
		`{"operation":"a.b.c"} x`,
		`{"operation":"a.b.c"`,
		`{"operation":""}`,
		`{"operation":"a\"}`,
		`{"operation":1}`,
		`{}`,
		`[]`,
		`null`,
	}
	for _, body := range bodies {
		got, gotErr := decodeSubmission(jsonContext(body))
		var want SubmitOperationRequest
		wantErr := decodeJSON(jsonContext(body), &want)
		if got != want || errText(gotErr) != errText(wantErr) {
			t.Errorf("body %q: got %q, %v; the decoder gives %q, %v", body, got.Operation, gotErr, want.Operation, wantErr)
		}
	}
	if got, err := decodeSubmission(jsonContext(bodies[0])); err != nil || got.Operation != jws {
		t.Errorf("got %q, %v; want the JWS", got.Operation, err)
	}
}

func jsonContext(body string) *gin.Context {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodPost, "/registry/operations", strings.NewReader(body))
	c.Request.Header.Set("Content-Type", "application/json")
	return c
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
