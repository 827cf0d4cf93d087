package host_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/host"
)

// An icon is PNG, JPEG or WebP by its bytes, at most 64 KB and 1024 px a side; SVG (script),
// GIF, HTML, a broken header and an empty file are refused.
func TestCheckIcon(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var p, j bytes.Buffer
	if err := png.Encode(&p, img); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&j, img, nil); err != nil {
		t.Fatal(err)
	}
	webp := append([]byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x07\xc0\x01"), make([]byte, 10)...)
	for want, data := range map[string][]byte{"image/png": p.Bytes(), "image/jpeg": j.Bytes(), "image/webp": webp} {
		if ct, err := host.CheckIcon(data); err != nil || ct != want {
			t.Errorf("%s: %q %v", want, ct, err)
		}
	}
	huge := image.NewGray(image.Rect(0, 0, 2000, 1))
	var big bytes.Buffer
	_ = png.Encode(&big, huge)
	for name, c := range map[string]struct {
		data []byte
		why  string
	}{
		"svg":         {[]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "only PNG, JPEG or WebP"},
		"svg as xml":  {[]byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`), "only PNG, JPEG or WebP"},
		"gif":         {[]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "only PNG, JPEG or WebP"},
		"html":        {[]byte("<html><script>x</script>"), "only PNG, JPEG or WebP"},
		"empty":       {nil, "empty"},
		"too big":     {append(p.Bytes(), make([]byte, host.MaxIconBytes)...), "larger than 64 KB"},
		"broken png":  {[]byte("\x89PNG\r\n\x1a\nnot a png at all"), "does not decode"},
		"broken webp": {[]byte("RIFF\x00\x00\x00\x00WEBPVP9 "), "does not decode"},
		"too wide":    {big.Bytes(), "at most 1024×1024"},
	} {
		_, err := host.CheckIcon(c.data)
		if why, ok := host.IsIconRefused(err); !ok || !strings.Contains(why, c.why) {
			t.Errorf("%s: %v (want …%s…)", name, err, c.why)
		}
	}
}
