// SPDX-License-Identifier: GPL-2.0
//
// echo-tokio: the Rust peer of make bench-echo, idiomatic Tokio: a task per
// connection on the multi-thread runtime, read then write_all with a 4 KiB
// buffer each (zk-echo's default, as echo.go).  Built at bench time by
// tools/bench/bench-lib.sh (tokio_peer) against Debian's packaged crates.
//
//     echo-tokio [--port N] [--bind ADDR]
//
// Prints "echo-tokio: listening on ADDR:PORT"; SIGTERM exits 0.

mod listen;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const NAME: &str = "echo-tokio";

async fn serve(mut c: TcpStream) {
    let mut buf = vec![0u8; 4096];
    loop {
        match c.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if c.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn main() {
    let addr = listen::parse_args(NAME, 7007);
    listen::runtime(NAME).block_on(async {
        let ln = listen::listen(NAME, addr).await;
        loop {
            // As echo.go: a failed accept (EMFILE, a reset before accept)
            // is no reason to stop serving the others.
            if let Ok((c, _)) = ln.accept().await {
                // Go sets TCP_NODELAY on every connection; match it.
                let _ = c.set_nodelay(true);
                tokio::spawn(serve(c));
            }
        }
    });
}
