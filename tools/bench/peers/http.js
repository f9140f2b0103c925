// SPDX-License-Identifier: GPL-2.0
//
// http-node: the Node.js peer of make bench-http, idiomatic Node: the http
// module's server (one event loop, keep-alive) answering GET / with the
// same status, headers and 20-byte body as zk-httpd and http.go (Node adds
// Date, Connection and Keep-Alive itself; Go adds Date).
//
//   node http.js [--port N] [--bind ADDR]
//
// Prints "http-node: listening on ADDR:PORT" (the line bench-lib.sh waits
// for); SIGTERM closes the listener and exits 0 (cli.js).
'use strict';
const http = require('http');
const cli = require('./cli');

const body = Buffer.from('Hello from zk-httpd\n');
const server = http.createServer((req, res) => {
	if (req.url !== '/') {
		res.writeHead(404, { 'Content-Type': 'text/plain' });
		res.end('404 page not found\n');
		return;
	}
	res.writeHead(200, {
		'Content-Type': 'text/plain',
		'Server': 'http-node',
		'Content-Length': body.length,
	});
	res.end(body);
});
// A connection wrk keeps busy never idles, but its first request can come
// later than Node's 5 s keep-alive default while 1024 connect at once.
server.keepAliveTimeout = 60000;
cli.listen('http-node', 'http.js', 8080, server);
