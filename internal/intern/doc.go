// Package intern keeps one copy of the strings a process meets again and
// again — hosts, model names, the keys layers build from them — so that
// turning their bytes into a string allocates nothing after the first time.
package intern
