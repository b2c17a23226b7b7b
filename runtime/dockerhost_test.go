package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEngineHostFollowsTheDockerCLI(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("DOCKER_CONFIG", cfg)
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("DOCKER_CONTEXT", "")
	if h, _, err := engineHost(); h != "" || err != nil {
		t.Fatalf("no choice: %q, %v", h, err)
	}
	sum := sha256.Sum256([]byte("remote"))
	dir := filepath.Join(cfg, "contexts", "meta", hex.EncodeToString(sum[:]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), []byte(`{"Name":"remote","Endpoints":{"docker":{"Host":"unix:///run/remote.sock"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"currentContext":"remote"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if h, from, err := engineHost(); h != "unix:///run/remote.sock" || !strings.Contains(from, "remote") || err != nil {
		t.Fatalf("current context: %q from %q, %v", h, from, err)
	}
	t.Setenv("DOCKER_CONTEXT", "missing")
	if _, _, err := engineHost(); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("an unknown context must be an error naming it: %v", err)
	}
	t.Setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
	if h, from, _ := engineHost(); h != "tcp://127.0.0.1:1" || from != "DOCKER_HOST" {
		t.Fatalf("DOCKER_HOST comes first: %q from %q", h, from)
	}
}

func TestUnreachableChosenEngineIsAnError(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/konform.sock")
	err := DockerAvailable(context.Background())
	if err == nil || !strings.Contains(err.Error(), "unix:///nonexistent/konform.sock") || !EngineChosen() {
		t.Fatalf("an unreachable DOCKER_HOST must be an error naming it, got %v", err)
	}
}

func TestPublishingFollowsTheEngine(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("DOCKER_CONTEXT", "")
	for host, want := range map[string]published{
		"":                            {"127.0.0.1", "127.0.0.1"},
		"unix:///var/run/docker.sock": {"127.0.0.1", "127.0.0.1"},
		"tcp://127.0.0.1:2375":        {"127.0.0.1", "127.0.0.1"},
		"tcp://localhost:2375":        {"127.0.0.1", "127.0.0.1"},
		"tcp://docker:2375":           {"0.0.0.0", "docker"},
		"tcp://[::1]:2376":            {"127.0.0.1", "127.0.0.1"},
	} {
		t.Setenv("DOCKER_HOST", host)
		if got := publishing(); got != want {
			t.Errorf("DOCKER_HOST=%q: %+v, want %+v", host, got, want)
		}
	}
}

func TestLogsByActorSplitsTheMocksContainer(t *testing.T) {
	logs := []byte(`{"msg":"serving","actor":"hkr"}
{"msg":"serving","actor":"xta"}
panic: something
{"msg":"late","actor":"hkr"}
`)
	got := logsByActor(logs, []string{"hkr", "xta"})
	if want := "{\"msg\":\"serving\",\"actor\":\"hkr\"}\npanic: something\n{\"msg\":\"late\",\"actor\":\"hkr\"}\n"; string(got["hkr"]) != want {
		t.Errorf("hkr's log:\n%s\nwant\n%s", got["hkr"], want)
	}
	if want := "{\"msg\":\"serving\",\"actor\":\"xta\"}\npanic: something\n"; string(got["xta"]) != want {
		t.Errorf("xta's log:\n%s\nwant\n%s", got["xta"], want)
	}
}
