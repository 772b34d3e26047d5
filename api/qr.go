package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/skip2/go-qrcode"

	"github.com/urbis-id/urbis/internal/errkind"
)

// qrSize is the side of the QR code PNGs in pixels.
const qrSize = 320

// qrPNG encodes content (an openid-credential-offer:// or openid4vp://
// URI) as a PNG QR code with medium error correction. It is shared by the
// OpenID4VCI offer and OpenID4VP request routes.
func qrPNG(content string) ([]byte, error) {
	png, err := qrcode.Encode(content, qrcode.Medium, qrSize)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "QR code")
	}
	return png, nil
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
