package reqscan

// ScanBytes exposes the parser to the tests: data as a whole body
// (complete) or as a prefix of one.
func ScanBytes(data []byte, complete bool) (Fields, bool) { return scan(data, complete) }
