// SPDX-License-Identifier: GPL-2.0
//
// echo-go: the Go peer of make bench-echo, idiomatic Go: one goroutine per
// connection, blocking reads and writes that the runtime's netpoller turns
// into epoll waits, a 4 KiB buffer each (zk-echo's default).  Standard
// library only; built at bench time by tools/bench/bench-echo.sh.
//
//	echo-go [-port N] [-bind ADDR]
//
// Prints "echo-go: listening on ADDR:PORT"; SIGTERM closes the listener and
// exits 0.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
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
	port := flag.Int("port", 7007, "TCP port (0: any)")
	bind := flag.String("bind", "127.0.0.1", "IPv4 address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp4", fmt.Sprintf("%s:%d", *bind, *port))
	if err != nil {
		fmt.Fprintf(os.Stderr, "echo-go: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("echo-go: listening on %s\n", ln.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		ln.Close()
		os.Exit(0)
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go serve(c)
	}
}
