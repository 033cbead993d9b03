package otelpacer

import (
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
)

// logicalSpanName is the name of a logical span that is not a chat call.
func logicalSpanName(method string) string {
	switch method {
	case http.MethodGet, "":
		return "HTTP GET"
	case http.MethodPost:
		return "HTTP POST"
	case http.MethodPut:
		return "HTTP PUT"
	case http.MethodDelete:
		return "HTTP DELETE"
	case http.MethodPatch:
		return "HTTP PATCH"
	case http.MethodHead:
		return "HTTP HEAD"
	}
	return "HTTP " + method
}

// attemptSpanName is the name of an attempt span: the method, as the HTTP
// client conventions name spans without a URL template.
func attemptSpanName(method string) string {
	if method == "" {
		return http.MethodGet
	}
	return method
}

// serverAttrs returns http.request.method, server.address and server.port
// for req.
func serverAttrs(req *http.Request) (method, host string, port int) {
	method = req.Method
	if method == "" {
		method = http.MethodGet
	}
	if req.URL == nil {
		return method, "", 0
	}
	host = req.URL.Hostname()
	if p := req.URL.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	} else if req.URL.Scheme == "https" {
		port = 443
	} else {
		port = 80
	}
	return method, host, port
}

// errTypeStalled is the error.type of an exchange the keep-alive filter
// ended because its content stopped (transport.Facts.Stalled).
const errTypeStalled = "stalled"

// errorType returns the error.type of a finished exchange: the status code
// for a status of 400 or more, else the outcome's name when there was an
// error, else empty.
func errorType(status int, outcome string, failed bool) string {
	if failed {
		return outcome
	}
	if status >= 400 {
		return strconv.Itoa(status)
	}
	return ""
}

// requestAttrs returns the attributes every span of req carries.
func requestAttrs(req *http.Request) []attribute.KeyValue {
	method, host, port := serverAttrs(req)
	attrs := []attribute.KeyValue{
		attrMethod.String(method),
		attrServerAddress.String(host),
		attrServerPort.Int(port),
	}
	if req.URL != nil {
		attrs = append(attrs, attrURLFull.String(fullURL(req.URL)))
	}
	return attrs
}
