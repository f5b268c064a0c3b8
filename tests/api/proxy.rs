//! A TCP proxy on loopback that a test can cut: between the service and a server the test
//! must not stop (the machine's PostgreSQL is shared), it plays the server going away. Cut,
//! it resets the connections it carries and stops listening (new connections are refused, as
//! from a stopped server); restored, it listens again on the same port.

use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Shared {
    listener: Mutex<Option<TcpListener>>,
    /// Both ends of every connection carried, to reset them at a cut.
    open: Mutex<Vec<TcpStream>>,
    stop: AtomicBool,
}

pub struct TcpProxy {
    pub port: u16,
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TcpProxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `upstream`.
    pub fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            listener: Mutex::new(Some(listener)),
            ..Shared::default()
        });
        let sh = shared.clone();
        let thread = std::thread::spawn(move || {
            while !sh.stop.load(Ordering::SeqCst) {
                let accepted = sh
                    .listener
                    .lock()
                    .unwrap()
                    .as_ref()
                    .and_then(|l| l.accept().ok());
                match accepted {
                    Some((client, _)) => carry(client, upstream, &sh),
                    None => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        TcpProxy {
            port,
            shared,
            thread: Some(thread),
        }
    }

    /// The server goes away: carried connections are reset, new ones refused.
    pub fn cut(&self) {
        self.shared.listener.lock().unwrap().take();
        for s in self.shared.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// The server is back on the same port.
    pub fn restore(&self) {
        let mut slot = self.shared.listener.lock().unwrap();
        if slot.is_none() {
            let l = TcpListener::bind(("127.0.0.1", self.port)).expect("bind the proxy again");
            l.set_nonblocking(true).unwrap();
            *slot = Some(l);
        }
    }
}

/// Pipes `client` to a new connection to `upstream`, both ways, each on its own thread.
fn carry(client: TcpStream, upstream: SocketAddr, shared: &Shared) {
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    let _ = client.set_nonblocking(false);
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
        client.try_clone(),
        server.try_clone(),
        client.try_clone(),
        server.try_clone(),
    ) else {
        return;
    };
    shared.open.lock().unwrap().extend([c3, s3]);
    pipe(client, server);
    pipe(s2, c2);
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.cut();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `host:port` of a `postgres://user@host:port/db` URL, resolved (port 5432 when absent).
pub fn postgres_addr(url: &str) -> SocketAddr {
    use std::net::ToSocketAddrs;
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    host_port
        .to_socket_addrs()
        .expect("resolve the PostgreSQL host")
        .next()
        .expect("an address for the PostgreSQL host")
}

/// `url` with its host and port replaced by `127.0.0.1:port`.
pub fn through(url: &str, port: u16) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let user = authority
        .rsplit_once('@')
        .map_or(String::new(), |(u, _)| format!("{u}@"));
    format!("{scheme}://{user}127.0.0.1:{port}/{path}")
}
