// fplab-web: the traffic lab's HTTP/3 (quic-go) and HTTP/2 web server and its clients (an
// adaptive DASH-style player, a live player and a mobile app), so that the same client runs
// over TLS/TCP and over QUIC. Built by the lab with Debian's Go and quic-go (fplab/gobuild.py).
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: fplab-web serve|play ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2:])
	case "play":
		play(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "fplab-web: unknown command", os.Args[1])
		os.Exit(2)
	}
}
