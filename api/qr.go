package api

import (
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
