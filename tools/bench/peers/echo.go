// SPDX-License-Identifier: GPL-2.0
//
// echo-go: the Go peer of make bench-echo, idiomatic Go: one goroutine per
// connection, blocking reads and writes that the runtime's netpoller turns
// into epoll waits, a 4 KiB buffer each (zk-echo's default).  Standard
// library only; built with listen.go at bench time by tools/bench/bench-echo.sh.
//
//	echo-go [-port N] [-bind ADDR]
//
// Prints "echo-go: listening on ADDR:PORT"; SIGTERM closes the listener and
// exits 0.
package main

import (
	"net"
)

func serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func main() {
	ln := listen("echo-go", 7007)
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go serve(c)
	}
}
