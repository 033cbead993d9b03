package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// proxyOptions is the parsed command line of pacer proxy.
type proxyOptions struct {
	listen          string
	upstream        *url.URL
	keyEnv          string
	keyHeader       string
	key             string // read from keyEnv; never printed
	allowHosts      []string
	allowRemote     bool
	maxBody         int64
	passKeepAlive   bool
	redisURL        string
	shutdownTimeout time.Duration
	metrics         bool
	verbose         bool
}

// Defaults of pacer proxy.
const (
	defaultListen          = "127.0.0.1:8787"
	defaultMaxBody         = 32 << 20
	defaultShutdownTimeout = 30 * time.Second
)

func parseProxyArgs(args []string, stderr io.Writer, getenv func(string) string) (*proxyOptions, error) {
	o := &proxyOptions{maxBody: defaultMaxBody}
	var upstream, hosts string
	fs := flag.NewFlagSet("pacer proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", defaultListen, "address to listen on; a non-loopback address together with -key-env needs -allow-remote")
	fs.StringVar(&upstream, "upstream", "", "the one API to forward to, scheme and host without /v1, e.g. https://api.deepseek.com (required)")
	fs.StringVar(&o.keyEnv, "key-env", "", "environment variable holding the API key to send upstream, replacing the caller's (default: pass the caller's Authorization)")
	fs.StringVar(&o.keyHeader, "key-header", "Authorization", "header that carries the -key-env key; Authorization gets \"Bearer <key>\", any other header (x-api-key, api-key) the bare key")
	fs.StringVar(&hosts, "allow-host", "", "comma-separated host names callers may use in the Host header besides loopback ones (localhost, 127.0.0.1, ::1)")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a non-loopback -listen address together with -key-env, lending the key to whoever can reach the proxy")
	fs.Var((*byteSize)(&o.maxBody), "max-body", "largest request body accepted, e.g. 32MiB, 512KiB or a number of bytes; larger bodies get 413")
	fs.BoolVar(&o.passKeepAlive, "pass-keepalive", false, "pass the blank lines and \": keep-alive\" comments sent while a request waits to be scheduled through to clients, instead of filtering them out")
	fs.StringVar(&o.redisURL, "redis", "", "Redis URL (redis://[:password@]host:port/db) to share the concurrency limit with every proxy using the same Redis")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "on SIGINT or SIGTERM, how long streams in progress may take to finish before they are cut")
	fs.BoolVar(&o.metrics, "metrics", false, "serve pacer's OpenTelemetry metrics at /pacer/metrics in the Prometheus text format")
	fs.BoolVar(&o.verbose, "v", false, "log every request (method, path, status, duration; never headers or bodies)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage:\n  pacer proxy -upstream URL [flags]\n\n"+
			"Serves the upstream's API on -listen through pacer: point an SDK's base URL at\n"+
			"http://%s/v1 and turn the SDK's retries off. /healthz, /pacer/stats and\n"+
			"/pacer/metrics are answered by the proxy itself.\n\nFlags:\n", defaultListen)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, errors.New(strings.TrimPrefix(err.Error(), "flag: "))
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	u, err := parseUpstream(upstream)
	if err != nil {
		return nil, err
	}
	o.upstream = u
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return nil, fmt.Errorf("-listen %q: want host:port, e.g. %s", o.listen, defaultListen)
	}
	if o.keyEnv != "" {
		o.key = strings.TrimSpace(getenv(o.keyEnv))
		if o.key == "" {
			return nil, fmt.Errorf("-key-env %s: the variable is empty or not set", o.keyEnv)
		}
		if !isLoopbackHost(host) && !o.allowRemote {
			return nil, fmt.Errorf("-listen %q is not a loopback address: with -key-env anyone who can reach it spends that key; add -allow-remote if that is what you want", o.listen)
		}
	}
	if o.keyHeader = strings.TrimSpace(o.keyHeader); o.keyHeader == "" || strings.ContainsAny(o.keyHeader, " :\t\r\n") {
		return nil, fmt.Errorf("-key-header %q is not a header name", o.keyHeader)
	}
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			o.allowHosts = append(o.allowHosts, h)
		}
	}
	switch {
	case o.maxBody < 1:
		return nil, fmt.Errorf("-max-body must be positive, got %d", o.maxBody)
	case o.shutdownTimeout < 0:
		return nil, fmt.Errorf("-shutdown-timeout must not be negative, got %v", o.shutdownTimeout)
	}
	if o.redisURL != "" {
		if _, err := redisOptions(o.redisURL); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// parseUpstream checks the -upstream URL: http or https, a host, no
// credentials, query or fragment.
func parseUpstream(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("-upstream is required, e.g. -upstream https://api.deepseek.com")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, fmt.Errorf("-upstream %q is not an http or https URL; want something like https://api.deepseek.com", raw)
	case u.User != nil:
		return nil, errors.New("-upstream must not carry credentials; put the key in an environment variable and name it with -key-env")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("-upstream %q must not have a query or fragment", u.Redacted())
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// isLoopbackHost reports whether host (without port) names the loopback
// interface only.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// byteSize is a flag value holding a number of bytes, written as a plain
// number or with a KiB, MiB, GiB, KB, MB or GB suffix.
type byteSize int64

func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.size
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return errors.New("want a size such as 32MiB, 512KiB or 1048576")
	}
	*b = byteSize(n * mult)
	return nil
}
