package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// OpenSSLSpeed runs `openssl speed -seconds N rsa4096` and returns the time of one RSA-4096
// private-key operation (its "sign" column) and the line it read it from.
func OpenSSLSpeed(ctx context.Context, seconds int) (time.Duration, string, error) {
	path, err := exec.LookPath("openssl")
	if err != nil {
		return 0, "", fmt.Errorf("openssl is not installed: the RSA floor is measured with `openssl speed rsa4096` (apt-get install openssl)")
	}
	out, err := exec.CommandContext(ctx, path, "speed", "-seconds", strconv.Itoa(seconds), "rsa4096").Output()
	if err != nil {
		return 0, "", fmt.Errorf("openssl speed rsa4096: %w", err)
	}
	return parseOpenSSLSpeed(out)
}

// speedLine is the result line: "rsa 4096 bits 0.003725s 0.000059s 268.4 16968.3" (OpenSSL 3 may
// add encrypt/decrypt columns after it, which are not read).
var speedLine = regexp.MustCompile(`(?m)^rsa\s+4096 bits\s+([0-9.]+)s\s+([0-9.]+)s`)

func parseOpenSSLSpeed(out []byte) (time.Duration, string, error) {
	m := speedLine.FindSubmatch(out)
	if m == nil {
		return 0, "", fmt.Errorf("openssl speed rsa4096 printed no line \"rsa 4096 bits …\": %q", lastLines(out, 3))
	}
	sec, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil || sec <= 0 {
		return 0, "", fmt.Errorf("openssl speed: sign time %q is not a positive number", m[1])
	}
	return time.Duration(sec * float64(time.Second)), strings.TrimSpace(string(m[0])), nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

// GoPrivateOp times Go's RSA private-key operation (RSASSA-PSS with SHA-512, as a PS512 SET
// signature) with key, over n operations, and returns the time of one.
func GoPrivateOp(key *rsa.PrivateKey, n int) (time.Duration, error) {
	digest := sha512.Sum512([]byte("konform bench"))
	start := time.Now()
	for range n {
		if _, err := rsa.SignPSS(rand.Reader, key, crypto.SHA512, digest[:], nil); err != nil {
			return 0, err
		}
	}
	return time.Since(start) / time.Duration(n), nil
}

// SelfCPU is the CPU time (user + system) this process has used.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ChildrenCPU is the CPU time the running child processes of this process have used so far (the
// reference Fachverfahren in the process runtime), read from /proc.
func ChildrenCPU() (time.Duration, error) {
	tasks, err := filepath.Glob("/proc/self/task/*/children")
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("no /proc/self/task/*/children: child CPU time is read from Linux's /proc")
	}
	var total time.Duration
	seen := map[string]bool{}
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, pid := range strings.Fields(string(b)) {
			if seen[pid] {
				continue
			}
			seen[pid] = true
			cpu, err := processCPU(pid)
			if err != nil {
				return 0, err
			}
			total += cpu
		}
	}
	return total, nil
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux platform Go
// supports.
const clockTicks = 100

func processCPU(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces; fields count from there.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%s/stat: no command field", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%s/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%s/stat: utime %q, stime %q", pid, f[11], f[12])
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// CPUModel is the processor's name from /proc/cpuinfo, for the record.
func CPUModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
