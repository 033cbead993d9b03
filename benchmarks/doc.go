// Package benchmarks holds pacer's benchmarks: the overhead of each layer
// and of the recommended stack against a bare transport and against the
// peers (go-retryablehttp, failsafe-go's failsafehttp), the goodput of each
// under an API whose concurrency limit changes while it runs, and the
// goodput matrix (BenchmarkMatrix): the default stack against an oracle
// told the server's limit, in scenarios with network delay, heavy-tailed
// answers, a cold start against a limit of 500 and two models, each with
// JSON and streamed answers.
//
// BenchmarkOverhead times each contender in turn; BenchmarkPairedOverhead
// times each against the bare base in alternating batches, which is what
// shows a contender's own cost on a machine whose speed drifts.
//
// BenchmarkTimeline runs the matrix's rows with the oracle and the default
// stack and logs the server's mean requests in flight per 250 ms of each:
// where a row's goodput goes missing.
//
// It has no code of its own; run it with go test:
//
//	go test -run='^$' -bench=Overhead -benchtime=200ms ./benchmarks
//	go test -run='^$' -bench=Goodput -benchtime=1x ./benchmarks
//	go test -run='^$' -bench=Matrix -benchtime=1x ./benchmarks
//	go test -run='^$' -bench='Timeline/step16-6-24/net1-5ms/json' -benchtime=1x -v ./benchmarks
package benchmarks
