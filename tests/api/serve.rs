//! `motcua serve` as a user runs it: the built binary, configured by environment only, with
//! an SMTP server on loopback. Emails leave, `/readyz` shows the jobs, and a stop with SIGTERM
//! in the middle of sending loses nothing and sends nothing twice.

use std::collections::HashSet;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::cli::motcua;
use crate::helpers::*;
use crate::smtp::{SmtpSink, parse};

use crate::per_backend_test as serve_test;

/// A `motcua serve` process on a free port of 127.0.0.1; its log goes to a file in the test's
/// folder and is shown when it fails.
struct Served {
    child: Child,
    base: String,
    client: awc::Client,
    log: std::path::PathBuf,
}

impl Served {
    fn start(db: &TestDb, env: &[(&str, String)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = db.dir().join(format!("serve-{port}.log"));
        let mut cmd = motcua(db);
        cmd.env("MOTCUA__SERVER__PORT", port.to_string())
            .env("MOTCUA__BOOTSTRAP__ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "info")
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        Served {
            child: cmd.spawn().unwrap(),
            base: format!("http://127.0.0.1:{port}"),
            client: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .finish(),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        request_to(&self.client, &self.base, method, path, token, body).await
    }

    async fn get(&self, path: &str, token: &str) -> Value {
        self.request(Method::GET, path, Some(token), None)
            .await
            .expect(200)
            .body
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Value {
        let r = self
            .request(Method::POST, path, Some(token), Some(&body))
            .await;
        assert!(
            r.status.is_success(),
            "POST {path}: {} {}",
            r.status,
            r.text
        );
        r.body
    }

    /// Waits for `/readyz` to answer 200; answers its body.
    async fn ready(&mut self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(mut r) = self
                .client
                .get(format!("{}/readyz", self.base))
                .send()
                .await
                && r.status() == 200
            {
                return r.json().await.unwrap();
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("serve exited with {status}: {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "serve did not start: {}",
                self.log()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn admin_token(&self) -> String {
        let r = self
            .request(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(&json!({"username": "admin", "password": ADMIN_PASSWORD})),
            )
            .await
            .expect(200);
        r.body["access_token"].as_str().unwrap().to_owned()
    }

    /// SIGTERM, then waits for a clean exit; answers the log.
    async fn terminate(mut self) -> String {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not stop: {}",
                self.log()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        };
        let log = self.log();
        assert!(status.success(), "serve exited with {status}: {log}");
        log
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A unit with an address and procedure P1 (`helpers::test_procedure`).
async fn office(s: &Served, token: &str) {
    s.post(
        "/api/v1/units",
        token,
        json!({"code": "U1", "name": "Phòng U1", "email": "u1@example.test"}),
    )
    .await;
    s.post(
        "/api/v1/procedures",
        token,
        test_procedure("P1", "pause", 1),
    )
    .await;
}

/// Outbox rows as the API lists them.
async fn notifications(s: &Served, token: &str) -> Vec<Value> {
    s.get("/api/v1/notifications?per_page=200", token).await["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn rows_until(
    s: &Served,
    token: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    poll_until(what, 60, || async {
        let rows = notifications(s, token).await;
        done(&rows).then_some(rows)
    })
    .await
}

serve_test!(
    serve_sends_the_receipt_email_and_reports_its_jobs,
    |backend| {
        let db = TestDb::new(backend);
        let sink = SmtpSink::start();
        // Nothing but configuration: the database, the secret, the SMTP server.
        let mut s = Served::start(&db, &[("MOTCUA__SMTP__URL", sink.url())]);
        let ready = s.ready().await;
        assert_eq!(ready["mail"], "on", "{ready}");
        assert_eq!(ready["jobs_enabled"], true);
        for job in [
            "outbox",
            "due_watcher",
            "idempotency_purge",
            "outbox_retention",
            "orphan_file_sweep",
        ] {
            assert_eq!(ready["jobs"][job]["running"], true, "{job}: {ready}");
        }
        let token = s.admin_token().await;
        office(&s, &token).await;
        let d = s
            .post("/api/v1/dossiers", &token, dossier_body("P1", "direct"))
            .await;
        let code = d["code"].as_str().unwrap();
        let mails = sink.wait_for(1, 30).await;
        let m = parse(&mails[0]);
        assert_eq!(m.to, "ung.vien@example.com");
        assert!(m.subject.contains(code), "{}", m.subject);
        assert!(
            m.text.contains(d["lookup_key"].as_str().unwrap()),
            "{}",
            m.text
        );

        // Once sent: the outbox is empty, and the worker has a successful pass on record.
        let ready = poll_until("the outbox to empty", 30, || async {
            let r = s
                .request(Method::GET, "/readyz", None, None)
                .await
                .expect(200)
                .body;
            let done = r["jobs"]["outbox"]["pending"] == 0
                && r["jobs"]["due_watcher"]["last_success_at"].is_string();
            done.then_some(r)
        })
        .await;
        let outbox = &ready["jobs"]["outbox"];
        assert_eq!(outbox["running"], true);
        assert!(outbox["oldest_pending_seconds"].is_null(), "{ready}");
        assert!(outbox["last_success_at"].is_string(), "{ready}");
        // The gauges follow at the worker's next pass.
        let metrics = poll_until("the outbox gauge at 0", 30, || async {
            let m = s
                .request(Method::GET, "/metrics", None, None)
                .await
                .expect(200)
                .text;
            m.contains("motcua_outbox_pending 0").then_some(m)
        })
        .await;
        for series in [
            "motcua_outbox_oldest_pending_seconds 0",
            "motcua_emails_sent_total 1",
            r#"motcua_job_running{job="outbox"} 1"#,
            r#"motcua_job_last_success_timestamp_seconds{job="due_watcher"}"#,
        ] {
            assert!(metrics.contains(series), "{series} missing:\n{metrics}");
        }
        let log = s.terminate().await;
        assert!(log.contains("job stopped"), "{log}");
    }
);

serve_test!(
    sigterm_while_smtp_is_down_loses_nothing_and_sends_each_email_once,
    |backend| {
        let db = TestDb::new(backend);
        // An SMTP server that is down in the worst way: it takes the connection and never
        // answers, so the worker is holding claimed messages when SIGTERM comes.
        let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = hung.local_addr().unwrap().port();
        let env = [
            ("MOTCUA__SMTP__URL", format!("smtp://127.0.0.1:{port}")),
            ("MOTCUA__SMTP__TIMEOUT_SECONDS", "60".to_owned()),
            ("MOTCUA__SMTP__RETRY_BASE_MS", "200".to_owned()),
            ("MOTCUA__SMTP__MAX_ATTEMPTS", "100".to_owned()),
            ("MOTCUA__SMTP__POLL_INTERVAL_MS", "50".to_owned()),
            ("MOTCUA__SERVER__SHUTDOWN_SECONDS", "2".to_owned()),
        ];
        let mut first = Served::start(&db, &env);
        first.ready().await;
        let token = first.admin_token().await;
        office(&first, &token).await;
        for _ in 0..3 {
            first
                .post("/api/v1/dossiers", &token, dossier_body("P1", "direct"))
                .await;
        }
        // The worker's batch is stuck in the conversation (later rows wait for the batch).
        rows_until(&first, &token, "a claimed email", |rows| {
            rows.len() == 3 && rows.iter().any(|r| r["status"] == "sending")
        })
        .await;
        let log = first.terminate().await;
        assert!(log.contains("given back"), "{log}");

        // Nothing claimed is lost: the rows are pending again, not waiting out a lease.
        let pool = motcua::db::connect(&db.url, 1, Default::default()).unwrap();
        {
            let mut conn = pool.get().unwrap();
            let (rows, total) = motcua::db::outbox::list(&mut conn, None, None, 0, 10).unwrap();
            assert_eq!(total, 3);
            for r in &rows {
                assert_eq!(r.status.as_str(), "pending", "{r:?}");
                assert_eq!(r.locked_until, None, "{r:?}");
                assert_eq!(r.attempts, 0, "{r:?}");
            }
        }

        // Started again while the SMTP server is still down (now refusing connections).
        drop(hung);
        let mut second = Served::start(&db, &env);
        second.ready().await;
        let token = second.admin_token().await;
        second
            .post("/api/v1/dossiers", &token, dossier_body("P1", "direct"))
            .await;
        rows_until(&second, &token, "a failed attempt on every email", |rows| {
            rows.len() == 4
                && rows
                    .iter()
                    .all(|r| r["attempts"].as_i64() >= Some(1) && r["status"] == "pending")
        })
        .await;

        // The SMTP server is back: every email arrives, once.
        let sink = SmtpSink::start_on(port);
        let rows = rows_until(&second, &token, "four sent emails", |rows| {
            rows.iter().all(|r| r["status"] == "sent")
        })
        .await;
        assert_eq!(rows.len(), 4);
        let received: Vec<String> = sink
            .messages()
            .iter()
            .map(|m| format!("<{}>", parse(m).message_id))
            .collect();
        let distinct: HashSet<&String> = received.iter().collect();
        let expected: HashSet<String> = rows
            .iter()
            .map(|r| r["message_id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(received.len(), 4, "an email arrived twice: {received:?}");
        assert_eq!(distinct.len(), 4);
        assert_eq!(
            distinct.into_iter().cloned().collect::<HashSet<_>>(),
            expected
        );
        second.terminate().await;
    }
);
