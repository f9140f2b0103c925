// SPDX-License-Identifier: GPL-2.0
//
// What the Rust peers (http.rs, echo.rs) share, as listen.go and cli.js do
// for the Go and Node peers: --port and --bind (also spelt -port and -bind,
// as Go's flag package accepts them), --help, the runtime, the listener,
// the "NAME: listening on ADDR:PORT" line the bench scripts wait for, and
// SIGTERM/SIGINT exiting 0 (bench_stop reports any other exit status).

use std::net::{Ipv4Addr, SocketAddr};
use std::process::exit;
use tokio::net::{TcpListener, TcpSocket};
use tokio::runtime::Runtime;
use tokio::signal::unix::{signal, SignalKind};

fn usage(name: &str, default_port: u16) -> String {
    format!("usage: {name} [--port N ({default_port}; 0: any)] [--bind ADDR (127.0.0.1)]")
}

/// Parses the command line: exits 0 on --help, 2 on a bad argument.
pub fn parse_args(name: &str, default_port: u16) -> SocketAddr {
    let mut port = default_port;
    let mut bind = Ipv4Addr::LOCALHOST;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        // Go's flag package also takes -port=N; so do we.
        let (key, inline) = match a.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        };
        let key = key.trim_start_matches('-');
        if key == "h" || key == "help" {
            println!("{}", usage(name, default_port));
            exit(0);
        }
        if key != "port" && key != "bind" {
            eprintln!(
                "{name}: unknown argument '{a}'\n{}",
                usage(name, default_port)
            );
            exit(2);
        }
        // No let-else: Debian 12's rustc is 1.63.
        let val = match inline.or_else(|| args.next()) {
            Some(v) => v,
            None => {
                eprintln!("{name}: {a} needs a value\n{}", usage(name, default_port));
                exit(2);
            }
        };
        if key == "port" {
            port = val.parse().unwrap_or_else(|_| {
                eprintln!("{name}: --port '{val}': Invalid argument (expected 0..65535)");
                exit(2);
            });
        } else {
            bind = val.parse().unwrap_or_else(|_| {
                eprintln!("{name}: --bind '{val}': Invalid argument (expected an IPv4 address)");
                exit(2);
            });
        }
    }
    SocketAddr::new(bind.into(), port)
}

/// Tokio's multi-thread runtime with its defaults (a worker per CPU), as
/// #[tokio::main] would build it; built by hand so that the macros feature
/// (and the proc-macro crates behind it) is not needed.
pub fn runtime(name: &str) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("{name}: cannot start the Tokio runtime: {e}");
            exit(1);
        })
}

/// Binds ADDR (inside the runtime), prints the line the bench scripts wait
/// for and makes SIGTERM/SIGINT exit 0.
pub async fn listen(name: &'static str, addr: SocketAddr) -> TcpListener {
    let fail = |what: &str, e: std::io::Error| -> ! {
        eprintln!("{name}: {what} {addr}: {e}");
        exit(1);
    };
    // TcpListener::bind would use a backlog of 1024; 10,000 connections
    // arriving at once need what the Node peer asks for (4096; Go uses
    // somaxconn), and SO_REUSEADDR as Go and Node set it.
    let sock = TcpSocket::new_v4().unwrap_or_else(|e| fail("socket for", e));
    sock.set_reuseaddr(true)
        .unwrap_or_else(|e| fail("SO_REUSEADDR on", e));
    sock.bind(addr).unwrap_or_else(|e| fail("bind", e));
    let ln = sock.listen(4096).unwrap_or_else(|e| fail("listen on", e));
    let local = ln
        .local_addr()
        .unwrap_or_else(|e| fail("getsockname on", e));
    println!("{name}: listening on {local}");
    // A task per signal rather than select!, which needs the macros feature.
    for kind in [SignalKind::terminate(), SignalKind::interrupt()] {
        let mut sig = signal(kind).unwrap_or_else(|e| fail("signal handler for", e));
        tokio::spawn(async move {
            sig.recv().await;
            exit(0);
        });
    }
    ln
}
