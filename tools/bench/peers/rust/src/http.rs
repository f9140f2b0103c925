// SPDX-License-Identifier: GPL-2.0
//
// http-tokio: the Rust peer of make bench-http, idiomatic Rust: hyper 0.14's
// HTTP/1.1 server (keep-alive, a task per connection) on Tokio's
// multi-thread runtime, answering GET / with the same status, headers and
// 20-byte body as zk-httpd and http.go (hyper adds Date and Content-Length,
// as Go does), and 404 elsewhere.  Built at bench time by
// tools/bench/bench-lib.sh (tokio_peer) against Debian's packaged crates.
//
//     http-tokio [--port N] [--bind ADDR]
//
// Prints "http-tokio: listening on ADDR:PORT"; SIGTERM exits 0.

mod listen;

use hyper::header::{HeaderValue, CONTENT_TYPE, SERVER};
use hyper::server::conn::AddrIncoming;
use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Request, Response, Server, StatusCode};
use std::convert::Infallible;

const NAME: &str = "http-tokio";
const BODY: &[u8] = b"Hello from zk-httpd\n";

async fn index(req: Request<Body>) -> Result<Response<Body>, Infallible> {
    let text = HeaderValue::from_static("text/plain");
    if req.uri().path() != "/" {
        let mut res = Response::new(Body::from("404 page not found\n"));
        *res.status_mut() = StatusCode::NOT_FOUND;
        res.headers_mut().insert(CONTENT_TYPE, text);
        return Ok(res);
    }
    let mut res = Response::new(Body::from(BODY));
    res.headers_mut().insert(CONTENT_TYPE, text);
    res.headers_mut()
        .insert(SERVER, HeaderValue::from_static(NAME));
    Ok(res)
}

fn main() {
    let addr = listen::parse_args(NAME, 8080);
    listen::runtime(NAME).block_on(async {
        let mut incoming = AddrIncoming::from_listener(listen::listen(NAME, addr).await)
            .unwrap_or_else(|e| {
                eprintln!("{NAME}: {e}");
                std::process::exit(1);
            });
        // Go's net package sets TCP_NODELAY on every connection; so does
        // this, or a response could wait on Nagle behind the last one.
        incoming.set_nodelay(true);
        let make = make_service_fn(|_| async { Ok::<_, Infallible>(service_fn(index)) });
        if let Err(e) = Server::builder(incoming).http1_only(true).serve(make).await {
            eprintln!("{NAME}: {e}");
            std::process::exit(1);
        }
    });
}
