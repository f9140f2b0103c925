// SPDX-License-Identifier: GPL-2.0
//
// echo-node: the Node.js peer of make bench-echo, idiomatic Node: the net
// module, each socket piped into itself (pipe() handles backpressure: a
// client that does not read pauses only its own socket).
//
//   node echo.js [--port N] [--bind ADDR]
//
// Prints "echo-node: listening on ADDR:PORT"; SIGTERM closes the listener
// and exits 0 (cli.js).
'use strict';
const net = require('net');
const cli = require('./cli');

const server = net.createServer({ noDelay: true }, (sock) => {
	sock.on('error', () => sock.destroy());
	sock.pipe(sock);
});
cli.listen('echo-node', 'echo.js', 7007, server);
