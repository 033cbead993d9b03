package reqscan

// ScanBytes exposes the parser to the tests: data as a whole body
// (complete) or as a prefix of one. It parses with a pooled parser, as Scan
// does, so that the tests and the fuzzer run on parsers earlier scans left
// behind.
func ScanBytes(data []byte, complete bool) (Fields, bool) {
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	f, _, ok := s.p.scan(data, complete, 0)
	return f, ok
}
