package bench

import (
	"testing"
	"time"
)

func TestParseOpenSSLSpeed(t *testing.T) {
	out := []byte("Doing 4096 bits private rsa sign ops for 3s: 805 4096 bits private RSA sign ops in 3.00s\n" +
		"version: 3.0.15\n                  sign    verify    sign/s verify/s\nrsa 4096 bits 0.003725s 0.000059s    268.4  16968.3\n")
	d, line, err := parseOpenSSLSpeed(out)
	if err != nil {
		t.Fatal(err)
	}
	if d != 3725*time.Microsecond || line != "rsa 4096 bits 0.003725s 0.000059s" {
		t.Errorf("got %s from %q", d, line)
	}
	// OpenSSL 3.2+ adds encrypt/decrypt columns.
	out = []byte("rsa  4096 bits 0.004100s 0.000061s 0.000062s 0.004050s  243.9  16393.4  16129.0  246.9\n")
	if d, _, err := parseOpenSSLSpeed(out); err != nil || d != 4100*time.Microsecond {
		t.Errorf("3.2 format: %s, %v", d, err)
	}
	if _, _, err := parseOpenSSLSpeed([]byte("speed: unknown algorithm rsa4096\n")); err == nil {
		t.Error("no result line: want an error naming it")
	}
}

func TestChildrenCPUReadsProc(t *testing.T) {
	if _, err := ChildrenCPU(); err != nil {
		t.Fatal(err)
	}
	if _, err := processCPU("self"); err != nil {
		t.Fatal(err)
	}
}
