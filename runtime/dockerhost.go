package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"

	"github.com/moby/moby/client"
)

// engineHost returns the Docker engine the user chose, as the Docker CLI does: DOCKER_HOST, else
// the endpoint of the Docker context named by DOCKER_CONTEXT or the CLI config's currentContext
// ("" for the default engine). It says where the choice came from.
func engineHost() (host, from string, err error) {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h, "DOCKER_HOST", nil
	}
	name, from := os.Getenv("DOCKER_CONTEXT"), "DOCKER_CONTEXT"
	cfgDir := os.Getenv("DOCKER_CONFIG")
	if cfgDir == "" {
		home, _ := os.UserHomeDir()
		cfgDir = filepath.Join(home, ".docker")
	}
	if name == "" {
		var cfg struct {
			CurrentContext string `json:"currentContext"`
		}
		if b, err := os.ReadFile(filepath.Join(cfgDir, "config.json")); err == nil && json.Unmarshal(b, &cfg) == nil {
			name, from = cfg.CurrentContext, "the Docker CLI's current context"
		}
	}
	if name == "" || name == "default" {
		return "", "", nil
	}
	sum := sha256.Sum256([]byte(name))
	meta := filepath.Join(cfgDir, "contexts", "meta", hex.EncodeToString(sum[:]), "meta.json")
	b, err := os.ReadFile(meta)
	if err != nil {
		return "", "", fmt.Errorf("Docker context %q (%s): %v", name, from, err)
	}
	var m struct {
		Endpoints map[string]struct {
			Host string `json:"Host"`
		} `json:"Endpoints"`
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Endpoints["docker"].Host == "" {
		return "", "", fmt.Errorf("Docker context %q (%s): no docker endpoint in %s", name, from, meta)
	}
	return m.Endpoints["docker"].Host, fmt.Sprintf("Docker context %q (%s)", name, from), nil
}

// useChosenEngine makes sure the engine the user chose answers and that every client of the
// kit (testcontainers included) talks to it: an unreachable choice is an error, never a silent
// fallback to another socket.
func useChosenEngine(ctx context.Context) error {
	host, from, err := engineHost()
	if err != nil {
		return envErr("%v", err)
	}
	if host == "" {
		return nil
	}
	cli, err := client.New(client.WithHost(host))
	if err != nil {
		return envErr("the Docker engine %s from %s: %v", host, from, err)
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return envErr("the Docker engine %s from %s does not answer: %v (the kit does not fall back to another engine)", host, from, err)
	}
	// testcontainers reads DOCKER_HOST before any other source, and addresses published ports
	// at TESTCONTAINERS_HOST_OVERRIDE.
	if err := os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", publishing().host); err != nil {
		return err
	}
	return os.Setenv("DOCKER_HOST", host)
}

// EngineChosen reports whether the user named a Docker engine (DOCKER_HOST or a context other
// than the default): then a run never falls back to running without Docker.
func EngineChosen() bool {
	host, _, err := engineHost()
	return err != nil || host != ""
}

// published is where the ports of the run's containers are published and how the kit reaches
// them. A local engine (a unix socket, the default) publishes on loopback only. A remote engine
// (DOCKER_HOST=tcp://docker:2375, as with a docker:dind service in GitLab CI) publishes on its
// own host, which the kit reaches by the engine's host name; on all of that host's interfaces
// unless the name is a loopback address.
type published struct {
	bindIP string
	host   string
}

func publishing() published {
	host, _, err := engineHost()
	if err != nil || host == "" {
		return published{"127.0.0.1", "127.0.0.1"}
	}
	u, err := url.Parse(host)
	if err != nil || (u.Scheme != "tcp" && u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return published{"127.0.0.1", "127.0.0.1"}
	}
	name := u.Hostname()
	if isLoopback(name) {
		return published{"127.0.0.1", "127.0.0.1"}
	}
	return published{"0.0.0.0", name}
}

// remoteEngine reports whether the engine's published ports live on another host than this one.
func remoteEngine() bool { return !isLoopback(publishing().host) }

func isLoopback(name string) bool {
	if name == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(name)
	return err == nil && ip.IsLoopback()
}
