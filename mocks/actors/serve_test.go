package actors

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestPlanReadsOneOrSeveralActors(t *testing.T) {
	got, err := plan([]string{"hkr"}, ":9000", "/data/hkr")
	if err != nil || len(got) != 1 || got[0] != (servedActor{"hkr", ":9000", "/data/hkr"}) {
		t.Fatalf("one actor: %v, %v", got, err)
	}
	got, err = plan([]string{"hkr=:9001", "xta=:9002"}, ":9000", "/data")
	if err != nil || len(got) != 2 || got[1] != (servedActor{"xta", ":9002", filepath.Join("/data", "xta")}) {
		t.Fatalf("two actors: %v, %v", got, err)
	}
	for _, bad := range [][]string{nil, {"nope"}, {"hkr=:1", "hkr=:2"}, {"hkr=:1", "xta"}, {"hkr="}} {
		if _, err := plan(bad, ":9000", "/data"); err == nil {
			t.Errorf("plan(%q) accepted", bad)
		}
	}
}

// Several actors in one process answer on their own ports and stop together on SIGTERM.
func TestServeSeveralActors(t *testing.T) {
	var addrs []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, ln.Addr().String())
		ln.Close()
	}
	var logs bytes.Buffer
	done := make(chan int)
	go func() {
		done <- Serve([]string{"serve", "--actor", "hkr=" + addrs[0], "--actor", "fitconnect=" + addrs[1], "--data-dir", t.TempDir()}, &logs)
	}()
	for _, a := range addrs {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a+"/_konform/health", nil)
			res, err := http.DefaultClient.Do(req)
			if err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					break
				}
			}
			if ctx.Err() != nil {
				t.Fatalf("%s did not answer: %v\n%s", a, err, logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	for _, name := range []string{"hkr", "fitconnect"} {
		if !strings.Contains(logs.String(), fmt.Sprintf(`"actor":"%s"`, name)) {
			t.Errorf("no log line of %s:\n%s", name, logs.String())
		}
	}
}
