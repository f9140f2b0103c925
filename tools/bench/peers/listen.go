// SPDX-License-Identifier: GPL-2.0
//
// What the Go peers (echo.go, http.go) share: -port and -bind, the
// listener, the "NAME: listening on ADDR:PORT" line the bench scripts wait
// for, and SIGTERM/SIGINT closing the listener and exiting 0.  Built with
// each: go build echo.go listen.go.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
)

func listen(name string, defaultPort int) net.Listener {
	port := flag.Int("port", defaultPort, "TCP port (0: any)")
	bind := flag.String("bind", "127.0.0.1", "IPv4 address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp4", fmt.Sprintf("%s:%d", *bind, *port))
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	// The handler first: a script may send SIGTERM as soon as it reads
	// the line, and the default action would exit 143.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		ln.Close()
		os.Exit(0)
	}()
	fmt.Printf("%s: listening on %s\n", name, ln.Addr())
	return ln
}
