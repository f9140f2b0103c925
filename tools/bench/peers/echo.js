// SPDX-License-Identifier: GPL-2.0
//
// echo-node: the Node.js peer of make bench-echo, idiomatic Node: the net
// module, each socket piped into itself (pipe() handles backpressure: a
// client that does not read pauses only its own socket).
//
//   node echo.js [--port N] [--bind ADDR]
//
// Prints "echo-node: listening on ADDR:PORT"; SIGTERM closes the listener
// and exits 0.
'use strict';
const net = require('net');

function arg(name, def) {
	const i = process.argv.indexOf(name);
	return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

if (process.argv.includes('--help') || process.argv.includes('-h')) {
	console.log('usage: node echo.js [--port N (7007; 0: any)] [--bind ADDR (127.0.0.1)]');
	process.exit(0);
}
const port = Number(arg('--port', '7007'));
const bind = arg('--bind', '127.0.0.1');
if (!Number.isInteger(port) || port < 0 || port > 65535) {
	console.error(`echo-node: --port '${arg('--port')}': Invalid argument (expected 0..65535)`);
	process.exit(2);
}
const server = net.createServer({ noDelay: true }, (sock) => {
	sock.on('error', () => sock.destroy());
	sock.pipe(sock);
});
server.on('error', (e) => {
	console.error(`echo-node: listen on ${bind}:${port}: ${e.message}`);
	process.exit(1);
});
server.listen({ port, host: bind, backlog: 4096 }, () => {
	const a = server.address();
	console.log(`echo-node: listening on ${a.address}:${a.port}`);
});
for (const s of ['SIGTERM', 'SIGINT'])
	process.on(s, () => { server.close(); process.exit(0); });
