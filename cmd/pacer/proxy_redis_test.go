package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/internal/testwait"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/redis/go-redis/v9"
)

// startRedisServer runs redis-server on a free loopback port until the
// test ends, or skips the test when there is none.
func startRedisServer(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not found; install it to run the shared-limit test")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer rdb.Close()
	testwait.For(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		return rdb.Ping(ctx).Err() == nil
	}, "redis-server to answer PING")

	return "redis://" + addr + "/0"
}

// Two proxies given the same -redis share one limit: a stream held
// through one shows in flight in the other's /pacer/stats.
func TestProxySharedLimitThroughRedis(t *testing.T) {
	redisURL := startRedisServer(t)
	up := newUpstream(t, llmtest.Config{StreamChunks: 400, ServiceTime: time.Minute})
	a := startProxy(t, up, nil, "-redis", redisURL)
	b := startProxy(t, up, nil, "-redis", redisURL)
	c := newClient(t)

	// b uses the key once, so that its stats report it.
	warm := postChat(t, c, b.url, "warm up", true)
	readEvent(t, bufio.NewReader(warm.Body))
	warm.Body.Close()
	testwait.For(t, func() bool { return b.inFlight() == 0 }, "b's warm-up to end")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.url+"/chat/completions", strings.NewReader(chatBody("held through a", true)))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	readEvent(t, bufio.NewReader(resp.Body))

	stats := func(tp *testProxy) proxyStats {
		resp, err := c.Get(tp.srv.URL + statsPath)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st proxyStats
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := stats(b)
	if !st.SharedLimit || len(st.Gate) != 1 || st.Gate[0].InFlight != 1 {
		t.Errorf("proxy b's stats %+v: want the shared limit with 1 in flight (held through a)", st)
	}
	cancel()
	resp.Body.Close()
	testwait.For(t, func() bool { s := stats(b); return len(s.Gate) == 1 && s.Gate[0].InFlight == 0 }, "0 in flight in b's stats")
}
