package api_test

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxingqr "github.com/makiuchi-d/gozxing/qrcode"
)

// qrText decodes a QR code PNG, as a wallet's camera would read it, and
// checks its size (about 320 pixels square).
func qrText(t *testing.T, b []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the QR code is not a PNG: %v", err)
	}
	if sz := img.Bounds().Size(); sz.X != sz.Y || sz.X < 240 || sz.X > 320 {
		t.Errorf("QR code size: got %v; want a square of 240 to 320 pixels", sz)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxingqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the QR code does not decode: %v", err)
	}
	return res.GetText()
}
