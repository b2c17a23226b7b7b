package drive

import (
	"testing"
	"time"

	"github.com/konform/konform/mocks/recorder"
	"github.com/konform/konform/runenv"
)

func TestSOAPActionOf(t *testing.T) {
	const a = "http://www.osci.eu/ws/2008/05/transport/urn/messageTypes/MsgBoxStatusListRequest"
	for _, c := range []struct {
		name string
		h    map[string][]string
		want string
	}{
		{"plain SOAP 1.2", map[string][]string{"Content-Type": {`application/soap+xml; charset=utf-8; action="` + a + `"`}}, a},
		{"MTOM action parameter", map[string][]string{"Content-Type": {`multipart/related; type="application/xop+xml"; start="<root>"; action="` + a + `"`}}, a},
		{"MTOM start-info", map[string][]string{"Content-Type": {`multipart/related; type="application/xop+xml"; start="<root>"; start-info="application/soap+xml; action=\"` + a + `\""`}}, a},
		{"SOAPAction header", map[string][]string{"Content-Type": {`multipart/related; type="application/xop+xml"`}, "Soapaction": {`"` + a + `"`}}, a},
		{"none", map[string][]string{"Content-Type": {`multipart/related; type="application/xop+xml"`}}, ""},
	} {
		if got := SOAPActionOf(c.h); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestIsXTARound(t *testing.T) {
	const a = "http://www.osci.eu/ws/2008/05/transport/urn/messageTypes/MsgBoxStatusListRequest"
	e := recorder.Exchange{Direction: "inbound", Method: "POST", URL: xtaMsgBoxPath, Status: 200,
		ReqHeaders: map[string][]string{"Content-Type": {`application/soap+xml; action="` + a + `"`}}}
	if !isXTARound(e) {
		t.Error("a getStatusList is no round start")
	}
	next := e
	next.ReqHeaders = map[string][]string{"Content-Type": {`application/soap+xml; action="http://www.osci.eu/ws/2008/05/transport/urn/messageTypes/MsgBoxGetNextListRequest"`}}
	if isXTARound(next) {
		t.Error("a getNextStatusList starts a round")
	}
	ctl := e
	ctl.URL = "/_konform/health"
	if isXTARound(ctl) {
		t.Error("a control call starts a round")
	}
	noted := e
	noted.ReqHeaders, noted.Note = nil, "getStatusList: 2 listed"
	if !isXTARound(noted) {
		t.Error("a getStatusList the mock noted is no round start")
	}
}

func TestXTALimitsFollowTheGivenInterval(t *testing.T) {
	env := &runenv.Env{XTA: &runenv.XTA{PollInterval: 2 * time.Second}}
	if got := XTARoundGapLimit(env); got != 14*time.Second {
		t.Errorf("gap limit %s", got)
	}
	env.XTA.PollInterval = time.Hour
	if got := givenXTAInterval(env); got != PollCeiling {
		t.Errorf("interval above the ceiling: %s", got)
	}
	if got := givenXTAInterval(&runenv.Env{}); got != PollCeiling {
		t.Errorf("no XTA: %s", got)
	}
}
