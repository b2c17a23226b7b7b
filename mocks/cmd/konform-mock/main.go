// Command konform-mock serves one mock actor. It is the static, cgo-free binary inside the
// kit's mock image: `konform-mock serve --actor fitconnect --listen :8080 --data-dir /tmp/fitconnect`.
package main

import (
	"os"

	"github.com/konform/konform/mocks/actors"
)

func main() { os.Exit(actors.Serve(os.Args[1:], os.Stderr)) }
