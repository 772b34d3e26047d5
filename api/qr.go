package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"rsc.io/qr"

	"github.com/urbis-id/urbis/internal/errkind"
)

// qrSize is about the side of the QR code PNGs in pixels: each module
// is drawn as a square of whole pixels, as many as fit, with the
// four-module quiet zone around the code.
const qrSize = 320

// qrPNG encodes content (an openid-credential-offer:// or openid4vp://
// URI) as a PNG QR code with medium error correction. It is shared by the
// OpenID4VCI offer and OpenID4VP request routes.
func qrPNG(content string) ([]byte, error) {
	code, err := qr.Encode(content, qr.M)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "QR code")
	}
	code.Scale = max(1, qrSize/(code.Size+8))
	return code.PNG(), nil
}

// serveQR renders content as a QR code PNG and answers it, cacheable by
// the browser that shows it until expires: the content never changes
// while its offer or request lives, and after that the route is 404. The
// time comes from the service's clock, so the handler reads none.
func (s *Server) serveQR(c *gin.Context, content string, expires time.Time) {
	png, err := qrPNG(content)
	if err != nil {
		s.abortWithError(c, err)
		return
	}
	c.Header("Cache-Control", "private")
	c.Header("Expires", expires.UTC().Format(http.TimeFormat))
	c.Data(http.StatusOK, "image/png", png)
}
