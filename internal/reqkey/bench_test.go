package reqkey_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/pacerhttp/pacer/internal/reqkey"
	"github.com/pacerhttp/pacer/internal/reqscan"
)

var chatRequest = []byte(`{"model":"deepseek-chat","messages":[{"role":"user","content":"Say hello."}]}`)

func BenchmarkKey(b *testing.B) {
	req, _ := http.NewRequest(http.MethodPost, "http://api.example.test/v1/chat/completions", bytes.NewReader(chatRequest))
	b.Run("GetBody", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rc, _ := req.GetBody()
			rc.Close()
		}
	})
	b.Run("Scan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			reqscan.Scan(req)
		}
	})
	b.Run("Model", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			reqkey.Model(req)
		}
	})
}
