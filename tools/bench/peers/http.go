// SPDX-License-Identifier: GPL-2.0
//
// http-go: the Go peer of make bench-http, idiomatic Go: net/http's
// server (a goroutine per connection, keep-alive, the runtime's
// netpoller) answering GET / with the same 20-byte body as zk-httpd.
// Standard library only; built with listen.go at bench time by
// tools/bench/bench-http.sh.
//
//	http-go [-port N] [-bind ADDR]
//
// Prints "http-go: listening on ADDR:PORT"; SIGTERM closes the listener and
// exits 0.
package main

import (
	"net/http"
)

var body = []byte("Hello from zk-httpd\n")

func index(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Server", "http-go")
	w.Write(body)
}

func main() {
	http.Serve(listen("http-go", 8080), http.HandlerFunc(index))
}
