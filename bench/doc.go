// Package bench measures the kit end to end: the delivery service mock, the online-service
// sender and the reference Fachverfahren in one process, with RSA-4096 keys as in a run.
//
//	go test -run '^$' -bench . -benchtime 40x ./bench/
//
// It reports accepted submissions per second (subs/s) and the process CPU time per submission
// (cpu-ms/sub), which covers all three actors; the receiver alone needs at least four RSA
// private-key operations per submission (metadata, data and attachment key unwrap, SET signature).
package bench
