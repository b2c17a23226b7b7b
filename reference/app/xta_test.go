package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/konform/konform/contract"
	"github.com/konform/konform/mocks/pki"
	"github.com/konform/konform/specs/specstest"
)

func xtaEnv(t *testing.T) map[string]string {
	ca, err := pki.NewCA("Konform Test-CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.IssueClient("konform-reference")
	if err != nil {
		t.Fatal(err)
	}
	base := "https://127.0.0.1:1/MB_XTA-WS/XTA210"
	return map[string]string{
		contract.EnvXTAManagementURL: base + "managementPort.svc",
		contract.EnvXTAMsgBoxURL:     base + "msgBoxPort.svc",
		contract.EnvXTASendURL:       base + "sendPort.svc",
		contract.EnvXTAClientCert:    string(leaf.CertPEM),
		contract.EnvXTAClientKey:     string(leaf.KeyPEM),
		contract.EnvXTACA:            string(ca.CertPEM),
		contract.EnvXTAReaderID:      "bab:010010000000",
		contract.EnvXTAServices: `[{"service":"http://www.xleitstelle.de/xbau/2/3/XBau23-BGV-BH2BAB.wsdl","businessScenario":"XBAU_DATA",` +
			`"messageTypes":[{"code":"baugenehmigung.antrag.0200","payloadSchema":"http://www.xleitstelle.de/xbau/2/3"}]}]`,
		contract.EnvXTAPollInterval: "1s",
	}
}

// xtaOnlyEnv is a configuration with XTA and without FIT-Connect.
func xtaOnlyEnv(t *testing.T) map[string]string {
	env := xtaEnv(t)
	env[contract.EnvContractVersion] = contract.Version
	env[contract.EnvListenAddr] = "127.0.0.1:0"
	env[EnvSchemaDir] = specstest.Dir(t)
	env[EnvDataDir] = t.TempDir()
	return env
}

func TestXTAConfig(t *testing.T) {
	both := baseEnv(t)
	for k, v := range xtaEnv(t) {
		both[k] = v
	}
	cfg, err := ConfigFromEnv(func(k string) string { return both[k] })
	if err != nil {
		t.Fatalf("FIT-Connect and XTA: %v", err)
	}
	if !cfg.FitConnect || cfg.XTA == nil || !slices.Equal(transports(cfg), []string{"fitconnect", "xta"}) {
		t.Errorf("FIT-Connect and XTA: fitconnect %v, xta %v, transports %v", cfg.FitConnect, cfg.XTA != nil, transports(cfg))
	}
	if cfg.XTA.SchemaDir != cfg.SchemaDir || cfg.XTA.PollInterval != time.Second || len(cfg.XTA.Services) != 1 {
		t.Errorf("XTA configuration %+v", cfg.XTA)
	}
	only := xtaOnlyEnv(t)
	cfg, err = ConfigFromEnv(func(k string) string { return only[k] })
	if err != nil {
		t.Fatalf("XTA only: %v", err)
	}
	if cfg.FitConnect || !slices.Equal(transports(cfg), []string{"xta"}) {
		t.Errorf("XTA only: transports %v", transports(cfg))
	}
	fc := baseEnv(t)
	if cfg, err = ConfigFromEnv(func(k string) string { return fc[k] }); err != nil || cfg.XTA != nil ||
		!slices.Equal(transports(cfg), []string{"fitconnect"}) {
		t.Errorf("FIT-Connect only: %v, transports %v", err, transports(cfg))
	}

	other := xtaEnv(t)
	for name, val := range map[string]string{
		contract.EnvXTAManagementURL: "http://xta.example/MB_XTA-WS/XTA210managementPort.svc",
		contract.EnvXTASendURL:       "",
		contract.EnvXTAClientCert:    "kein PEM",
		contract.EnvXTAClientKey:     other[contract.EnvXTAClientKey],
		contract.EnvXTACA:            "kein PEM",
		contract.EnvXTAReaderID:      "",
		contract.EnvXTAServices:      `[]`,
		contract.EnvXTAPollInterval:  "bald",
	} {
		t.Run(name, func(t *testing.T) {
			e := xtaOnlyEnv(t)
			e[name] = val
			_, err := ConfigFromEnv(func(k string) string { return e[k] })
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Variable != name {
				t.Fatalf("err = %v, want a ConfigError naming %s", err, name)
			}
		})
	}
}

// An XTA-only reference declares transports ["xta"] and serves the XTA probe path.
func TestRunXTAOnly(t *testing.T) {
	env := xtaOnlyEnv(t)
	env[contract.EnvListenAddr] = freeAddr(t)
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, nil) }()
	var info contract.Info
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + cfg.ListenAddr + contract.ProbeInfoPath)
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&info)
			resp.Body.Close()
			break
		}
		if i > 100 {
			t.Fatal("probe not up")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !slices.Equal(info.Transports, []string{"xta"}) {
		t.Errorf("transports %v", info.Transports)
	}
	resp, err := http.Get("http://" + cfg.ListenAddr + "/konform/v1/xta/messages/urn:de:xta:messageid:unbekannt%2Fx")
	if err != nil || resp.StatusCode != 404 {
		t.Errorf("unknown XTA message: %v %v", resp, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no graceful shutdown")
	}
}
