// Package core is the Go port of the C++ protocol core (core/ in the repository): topic
// grammar, event ids, full-jitter backoff, the strict frame codec and the client session state
// machine, all sans I/O. It never reads a clock or a random source; the adapter in package
// globemeet feeds it inputs stamped with both and performs the actions it returns. Shared test
// vectors (tests/vectors) and the conformance suite hold it to the same contract as the C++ and
// npm clients.
package core
