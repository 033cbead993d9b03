package redislimit_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const redisBinary = "/usr/bin/redis-server"

// redisPath returns the redis-server binary, or skips (fails when
// PACER_REQUIRE_REDIS=1) when there is none.
func redisPath(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("redis-server")
	if err != nil {
		if _, err2 := os.Stat(redisBinary); err2 == nil {
			return redisBinary
		}
		msg := "redis-server not found: install it (apt-get install redis-server) to run the Redis limiter tests"
		if os.Getenv("PACER_REQUIRE_REDIS") == "1" {
			tb.Fatal(msg + "; PACER_REQUIRE_REDIS=1 forbids skipping")
		}
		tb.Skip(msg)
	}
	return p
}

// redisServer is a redis-server child process on a loopback port, without
// persistence.
type redisServer struct {
	tb   testing.TB
	bin  string
	port int
	dir  string
	cmd  *exec.Cmd
}

// startRedis starts a redis-server on a free loopback port and stops it
// when the test ends.
func startRedis(tb testing.TB) *redisServer {
	tb.Helper()
	s := &redisServer{tb: tb, bin: redisPath(tb), port: freePort(tb), dir: tb.TempDir()}
	s.start()
	tb.Cleanup(s.stop)
	return s
}

func (s *redisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// start runs the server and waits until it answers PING.
func (s *redisServer) start() {
	s.tb.Helper()
	s.cmd = exec.Command(s.bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--loglevel", "warning")
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatalf("start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if i == 200 {
			s.tb.Fatalf("redis-server on %s did not answer: %v", s.Addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the server and waits for it to exit; idempotent.
func (s *redisServer) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// newClient returns a client with short timeouts, closed when the test
// ends.
func newClient(tb testing.TB, addr string) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true,
		DialTimeout:           200 * time.Millisecond,
		ReadTimeout:           500 * time.Millisecond,
		WriteTimeout:          500 * time.Millisecond,
		PoolSize:              32,
	})
	tb.Cleanup(func() { c.Close() })
	return c
}

// uniquePrefix keeps tests sharing one server apart.
func uniquePrefix(tb testing.TB) string {
	return fmt.Sprintf("t:%s:%d:", tb.Name(), time.Now().UnixNano())
}

// workerClient is newClient for a worker process.
func workerClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true,
		DialTimeout:           200 * time.Millisecond,
		ReadTimeout:           500 * time.Millisecond,
		WriteTimeout:          500 * time.Millisecond,
		PoolSize:              32,
	})
}
