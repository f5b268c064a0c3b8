//! A small SMTP server on loopback for the email tests: it speaks enough of RFC 5321 for
//! lettre (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and keeps every message it accepts.
//! For outages it can refuse (421 at the greeting), stall (take a message's data and never
//! acknowledge it, so the message is not accepted), or go away (dropped: the port refuses).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the sink answers new conversations (and, for `Stall`, messages in open ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Accept = 0,
    /// `421` at the greeting, then hang up: the server is there and refuses mail.
    Refuse = 1,
    /// The message's data is read, then no answer ever comes: the sender is stuck holding it.
    Stall = 2,
}

#[derive(Default)]
struct Shared {
    /// Accepted messages (answered `250` after the data).
    messages: Mutex<Vec<String>>,
    /// Messages whose data arrived while stalling; never acknowledged, so never accepted.
    held: Mutex<Vec<String>>,
    mode: AtomicU8,
    stop: AtomicBool,
}

impl Shared {
    fn mode(&self) -> Mode {
        match self.mode.load(Ordering::SeqCst) {
            1 => Mode::Refuse,
            2 => Mode::Stall,
            _ => Mode::Accept,
        }
    }
}

pub struct SmtpSink {
    pub port: u16,
    shared: Arc<Shared>,
    listener: Option<std::thread::JoinHandle<()>>,
}

impl SmtpSink {
    pub fn start() -> Self {
        Self::start_on(0)
    }

    /// Listens on `port` (0: any free port), accepting mail.
    pub fn start_on(port: u16) -> Self {
        Self::start_in(port, Mode::Accept)
    }

    /// Listens on `port` (0: any free port) in `mode`.
    pub fn start_in(port: u16, mode: Mode) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind smtp sink");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        shared.mode.store(mode as u8, Ordering::SeqCst);
        let sh = shared.clone();
        let thread = std::thread::spawn(move || {
            while !sh.stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let sh = sh.clone();
                        std::thread::spawn(move || {
                            let _ = serve(stream, &sh);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        SmtpSink {
            port,
            shared,
            listener: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.shared.mode.store(mode as u8, Ordering::SeqCst);
    }

    /// Accepted messages, raw.
    pub fn messages(&self) -> Vec<String> {
        self.shared.messages.lock().unwrap().clone()
    }

    /// Messages received but never acknowledged (while stalling), raw.
    pub fn held(&self) -> Vec<String> {
        self.shared.held.lock().unwrap().clone()
    }

    /// Waits until at least `n` messages arrived (or panics after `secs`).
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} emails, got {}",
                got.len()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Dropped, the sink is gone: its port refuses connections and open conversations end
/// without an answer.
impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.listener.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    // Short reads so that a stopped sink drops its open conversations promptly.
    stream.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    if shared.mode() == Mode::Refuse {
        out.write_all(b"421 4.3.2 sink refusing mail (test)\r\n")?;
        return Ok(());
    }
    out.write_all(b"220 sink ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if read_line(&mut reader, &mut line, shared)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_ascii_uppercase();
        if cmd.starts_with("EHLO") {
            out.write_all(b"250-sink\r\n250 8BITMIME\r\n")?;
        } else if cmd.starts_with("HELO")
            || cmd.starts_with("MAIL")
            || cmd.starts_with("RCPT")
            || cmd.starts_with("RSET")
            || cmd.starts_with("NOOP")
        {
            out.write_all(b"250 OK\r\n")?;
        } else if cmd.starts_with("DATA") {
            out.write_all(b"354 go ahead\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if read_line(&mut reader, &mut line, shared)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(
                    line.strip_prefix('.')
                        .filter(|_| line.starts_with(".."))
                        .unwrap_or(&line),
                );
            }
            if shared.mode() == Mode::Stall {
                // Never acknowledged: wait for the sender to give up or die.
                shared.held.lock().unwrap().push(data);
                let mut rest = String::new();
                while read_line(&mut reader, &mut rest, shared)? > 0 {
                    rest.clear();
                }
                return Ok(());
            }
            shared.messages.lock().unwrap().push(data);
            out.write_all(b"250 queued\r\n")?;
        } else if cmd.starts_with("QUIT") {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            out.write_all(b"502 not implemented\r\n")?;
        }
    }
}

/// One line; read timeouts are waited through until the sink stops (then: end of input).
fn read_line(
    reader: &mut BufReader<TcpStream>,
    line: &mut String,
    shared: &Shared,
) -> std::io::Result<usize> {
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return Ok(0);
        }
        match reader.read_line(line) {
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            other => return other,
        }
    }
}

/// Subject, plain text, HTML and Message-ID of a raw message.
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub message_id: String,
}

pub fn parse(raw: &str) -> Mail {
    let m = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("parsable email");
    Mail {
        to: m
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_owned(),
        subject: m.subject().unwrap_or_default().to_owned(),
        text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        html: m.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
        message_id: m.message_id().unwrap_or_default().to_owned(),
    }
}
