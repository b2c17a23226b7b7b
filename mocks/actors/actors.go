// Package actors names the mock actors a run can start, for the konform-mock binary and the
// kit's process runtime alike.
package actors

import (
	"net/http"
	"sort"

	"github.com/konform/konform/mocks/fitconnect"
	"github.com/konform/konform/mocks/hkr"
	"github.com/konform/konform/mocks/xta"
)

// Names of the actors; also their host names on the run's Docker network.
const (
	FitConnect = "fitconnect"
	HKR        = "hkr"
	XTA        = "xta"
)

// Factories makes each actor's handler; dataDir is the actor's private scratch folder.
var Factories = map[string]func(dataDir string) (http.Handler, error){
	FitConnect: func(dataDir string) (http.Handler, error) {
		return fitconnect.New(fitconnect.WithDataDir(dataDir)), nil
	},
	HKR: func(dataDir string) (http.Handler, error) {
		return hkr.New(), nil
	},
	XTA: func(dataDir string) (http.Handler, error) {
		return xta.New(xta.WithDataDir(dataDir)), nil
	},
}

// Names returns the actor names, sorted.
func Names() []string {
	out := make([]string, 0, len(Factories))
	for n := range Factories {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
