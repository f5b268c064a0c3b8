//! `motcua serve` as an operator runs it: the built binary on a free port of 127.0.0.1,
//! configured by environment only (`cli::motcua`), driven over HTTP, stopped with SIGTERM or
//! killed with SIGKILL. Shared by `serve.rs` and `faults.rs`.

use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::cli::motcua;
use crate::helpers::*;

/// A `motcua serve` process; its log goes to a file in the test's folder and is shown when
/// it fails.
pub struct Served {
    child: Child,
    pub base: String,
    pub client: awc::Client,
    log: std::path::PathBuf,
}

impl Served {
    /// Starts `serve` on `db` with these extra variables (they win over the defaults set
    /// here, `MOTCUA__DATABASE__URL` included).
    pub fn start(db: &TestDb, env: &[(&str, String)]) -> Self {
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
                .timeout(Duration::from_secs(60))
                .finish(),
            log,
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        request_to(&self.client, &self.base, method, path, token, body).await
    }

    /// A JSON POST that may get no answer (the process killed): `Err` then.
    pub async fn try_post(
        &self,
        path: &str,
        token: &str,
        headers: &[(&str, String)],
        body: &Value,
    ) -> Result<Response, String> {
        let body = Some(("application/json", serde_json::to_vec(body).unwrap()));
        try_send(
            &self.client,
            &self.base,
            Method::POST,
            path,
            Some(token),
            headers,
            body,
        )
        .await
    }

    pub async fn get(&self, path: &str, token: &str) -> Value {
        self.request(Method::GET, path, Some(token), None)
            .await
            .expect(200)
            .body
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Value {
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
    pub async fn ready(&mut self) -> Value {
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

    pub async fn login(&self, username: &str, password: &str) -> String {
        let r = self
            .request(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(&json!({"username": username, "password": password})),
            )
            .await
            .expect(200);
        r.body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Unit `U1` (with an address) and procedure `P1` (`helpers::test_procedure`).
    pub async fn office(&self, admin: &str) {
        self.post(
            "/api/v1/units",
            admin,
            json!({"code": "U1", "name": "Phòng U1", "email": "u1@example.test"}),
        )
        .await;
        self.post(
            "/api/v1/procedures",
            admin,
            test_procedure("P1", "pause", 1),
        )
        .await;
    }

    /// Creates a user with `role` and answers a token for it.
    pub async fn user(&self, admin: &str, username: &str, role: &str) -> String {
        let password = format!("{username}-password");
        self.post(
            "/api/v1/users",
            admin,
            json!({"username": username, "password": password, "full_name": username,
                   "role": role, "email": format!("{username}@example.test")}),
        )
        .await;
        self.login(username, &password).await
    }

    /// Outbox rows as the API lists them.
    pub async fn notifications(&self, token: &str) -> Vec<Value> {
        self.get("/api/v1/notifications?per_page=200", token).await["items"]
            .as_array()
            .unwrap()
            .clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGKILL (no clean-up of any kind happens in the process); `reap` waits for it.
    /// Takes `&self` so that it can land while requests to the process are in flight.
    pub fn sigkill(&self) {
        signal(self.pid(), "-KILL");
    }

    /// Waits for the process to end; answers its exit status.
    pub async fn reap(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not stop: {}",
                self.log()
            );
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL, then waits for the process to be gone; answers the log.
    pub async fn kill(mut self) -> String {
        self.sigkill();
        let status = self.reap().await;
        assert_eq!(status.signal(), Some(9), "not killed: {status}");
        self.log()
    }

    /// Whether the process still runs.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// SIGTERM, then waits for a clean exit; answers the log.
    pub async fn terminate(mut self) -> String {
        signal(self.pid(), "-TERM");
        let status = self.reap().await;
        let log = self.log();
        assert!(status.success(), "serve exited with {status}: {log}");
        log
    }
}

fn signal(pid: u32, sig: &str) {
    let status = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {sig} {pid}");
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
