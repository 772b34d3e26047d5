package api

import (
	qrcode "github.com/skip2/go-qrcode"

	"github.com/urbis-id/urbis/internal/errkind"
)

// qrPNG renders s as a QR code PNG (medium error correction, 256 px).
func qrPNG(s string) ([]byte, error) {
	png, err := qrcode.Encode(s, qrcode.Medium, 256)
	if err != nil {
		return nil, errkind.Wrap(errkind.Internal, err, "render QR code")
	}
	return png, nil
}
