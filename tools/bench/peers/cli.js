// SPDX-License-Identifier: GPL-2.0
//
// What the Node peers (echo.js, http.js) share: --port, --bind and --help,
// the listener's errors, the "NAME: listening on ADDR:PORT" line the bench
// scripts wait for, and SIGTERM/SIGINT closing the listener and exiting 0.
'use strict';

function arg(name, def) {
	const i = process.argv.indexOf(name);
	return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

// listen(NAME, FILE, DEFAULT_PORT, SERVER): parse the options (exit 0 on
// --help, 2 on a bad port) and start SERVER listening.
function listen(name, file, defPort, server) {
	if (process.argv.includes('--help') || process.argv.includes('-h')) {
		console.log(`usage: node ${file} [--port N (${defPort}; 0: any)] [--bind ADDR (127.0.0.1)]`);
		process.exit(0);
	}
	const port = Number(arg('--port', String(defPort)));
	const bind = arg('--bind', '127.0.0.1');
	if (!Number.isInteger(port) || port < 0 || port > 65535) {
		console.error(`${name}: --port '${arg('--port')}': Invalid argument (expected 0..65535)`);
		process.exit(2);
	}
	server.on('error', (e) => {
		console.error(`${name}: listen on ${bind}:${port}: ${e.message}`);
		process.exit(1);
	});
	server.listen({ port, host: bind, backlog: 4096 }, () => {
		const a = server.address();
		console.log(`${name}: listening on ${a.address}:${a.port}`);
	});
	for (const s of ['SIGTERM', 'SIGINT'])
		process.on(s, () => { server.close(); process.exit(0); });
}

module.exports = { listen };
