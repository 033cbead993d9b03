package redislimit_test

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/concurrency/redislimit"
)

// Every process of a deployment builds the same limiter on the same Redis:
// together they stay within one limit per key (here the API host). The
// example needs a Redis server, so it is compiled but not run; the tests
// run the same wiring against a real redis-server.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{
		Addr:                  "localhost:6379",
		ContextTimeoutEnabled: true, // lets Config.Timeout bound every call
	})
	defer rdb.Close()

	lim := redislimit.New(rdb, redislimit.Config{
		Prefix:        "myapp:",
		Limits:        concurrency.Limits{MaxLimit: 64},
		FallbackLimit: 2, // per process while Redis is unreachable
		OnStateChange: func(s redislimit.State, err error) {
			fmt.Println("shared limit", s, err)
		},
	})
	defer lim.Close()

	gate := concurrency.New(concurrency.Config{Limiter: lim})
	client := &http.Client{Transport: gate.Wrap(nil), Timeout: 10 * time.Minute}
	_ = client // pass it to an SDK: openai.WithHTTPClient(client), ...
}

// A limiter configured to fail closed refuses requests while Redis is
// unreachable, with an error that says so.
func ExampleUnavailableError() {
	var err error = &redislimit.UnavailableError{Key: "api.deepseek.com", Cause: errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")}
	fmt.Println(errors.Is(err, redislimit.ErrUnavailable))
	var ue *redislimit.UnavailableError
	if errors.As(err, &ue) {
		fmt.Println(ue.Key)
	}
	fmt.Println(redislimit.Unavailable)
	// Output:
	// true
	// api.deepseek.com
	// unavailable
}
