//! Test harness: each test gets its own database (a temp SQLite file, or a PostgreSQL database
//! created and dropped here) and a real server on 127.0.0.1, driven over HTTP.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Once;

use actix_web::http::{Method, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use diesel::{Connection, RunQueryDsl, pg::PgConnection};
use motcua::app::AppState;
use motcua::auth::Role;
use motcua::clock::Clock;
use motcua::config::Settings;
use secrecy::SecretString;
use serde_json::{Value, json};

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const ADMIN_PASSWORD: &str = "admin-password-1";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a scenario once per backend: `<name>::sqlite` always, `<name>::postgres` when
/// `TEST_DATABASE_URL` points at a server (required when `CI=true`).
#[macro_export]
macro_rules! backend_test {
    ($name:ident, |$app:ident| $body:block) => {
        $crate::backend_test!($name, settings = |_| {}, |$app| $body);
    };
    // Settings changed before start-up, e.g. `settings = |s| s.jobs.enabled = false`.
    ($name:ident, settings = $tweak:expr, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::helpers::*;
            async fn scenario($app: $crate::helpers::TestApp) $body
            #[actix_web::test]
            async fn sqlite() {
                scenario($crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Sqlite, $tweak).await).await
            }
            #[actix_web::test]
            async fn postgres() {
                if $crate::helpers::postgres_available() {
                    scenario($crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Postgres, $tweak).await).await
                }
            }
        }
    };
}

/// Like `backend_test!` for scenarios that start their own service or process: the scenario
/// gets the backend.
#[macro_export]
macro_rules! per_backend_test {
    ($name:ident, |$backend:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::helpers::*;
            async fn scenario($backend: $crate::helpers::Backend) $body
            #[actix_web::test]
            async fn sqlite() {
                scenario($crate::helpers::Backend::Sqlite).await
            }
            #[actix_web::test]
            async fn postgres() {
                if $crate::helpers::postgres_available() {
                    scenario($crate::helpers::Backend::Postgres).await
                }
            }
        }
    };
}

/// Whether the PostgreSQL variants run. In CI a missing server is a failure, never a skip.
pub fn postgres_available() -> bool {
    static NOTICE: Once = Once::new();
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but TEST_DATABASE_URL is not set: the PostgreSQL suite must run in CI");
    }
    NOTICE.call_once(|| {
        eprintln!(
            "TEST_DATABASE_URL not set: PostgreSQL variants pass without running (SQLite only)"
        )
    });
    false
}

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    dir: PathBuf,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("motcua-test-{id}"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        match backend {
            Backend::Sqlite => TestDb {
                url: format!("sqlite://{}", dir.join("motcua.db").display()),
                backend,
                dir,
                pg: None,
            },
            Backend::Postgres => {
                let admin_url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
                let name = format!("motcua_test_{id}");
                let mut conn =
                    PgConnection::establish(&admin_url).expect("connect to TEST_DATABASE_URL");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create test database");
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(b, _)| b);
                TestDb {
                    url: format!("{base}/{name}"),
                    backend,
                    dir,
                    pg: Some((admin_url, name)),
                }
            }
        }
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.pg
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Settings for a test: the shipped defaults, this test's database and a fixed secret.
pub fn test_settings(db: &TestDb) -> Settings {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut s = Settings::load_unvalidated(&root.join("config"), "test")
        .expect("config/default.toml loads");
    s.database.url = SecretString::from(db.url.clone());
    s.database.pool_size = 4;
    s.auth.jwt_secret = Some(SecretString::from(JWT_SECRET.to_owned()));
    s.server.workers = 2;
    // The browser walk talks plain HTTP to 127.0.0.1.
    s.server.plain_http_cookies = true;
    s.calendar.data_dir = root.join("config/calendars");
    s.storage.dir = db.dir().join("files");
    // The watcher scans at start and then hourly: a test that needs a scan runs one itself,
    // and no background scan lands in the middle of a test that moves the clock.
    s.jobs.watch_interval_seconds = 3600;
    // The admin comes from the bootstrap, as on a first `serve`.
    s.bootstrap.admin_password = Some(SecretString::from(ADMIN_PASSWORD.to_owned()));
    s.validate().expect("valid test settings");
    s
}

/// Polls `probe` every 50 ms until it answers `Some`; fails naming `what` after `secs`
/// (a bound for a broken run, not a timing assertion).
pub async fn poll_until<T, F, Fut>(what: &str, secs: u64, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gave up after {secs} s waiting for {what}"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

impl TestApp {
    /// Waits until `n` outbox rows are `sent`.
    pub async fn wait_sent(&self, n: u64, secs: u64) {
        poll_until(&format!("{n} sent notifications"), secs, || async {
            let r = self
                .get("/api/v1/notifications?status=sent", Some(&self.admin_token))
                .await
                .expect(200);
            (r.body["total"] == n).then_some(())
        })
        .await
    }
}

/// Mail to `smtp_url`, polled and retried fast.
pub fn fast_mail(s: &mut Settings, smtp_url: &str) {
    s.smtp.url = Some(SecretString::from(smtp_url.to_owned()));
    s.smtp.retry_base_ms = 200;
    s.smtp.poll_interval_ms = 50;
    s.smtp.timeout_seconds = 2;
}

/// Monday 2025-03-03 09:00 local (02:00 UTC): an ordinary working morning.
pub fn default_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 2, 0, 0).unwrap()
}

pub struct Response {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts an RFC 9457 problem with this status and code.
    #[track_caller]
    pub fn expect_problem(self, status: u16, code: &str) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.content_type(),
            "application/problem+json",
            "body: {}",
            self.text
        );
        assert_eq!(self.body["status"], status, "body: {}", self.text);
        assert_eq!(self.body["code"], code, "body: {}", self.text);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
        self
    }
}

/// One request to `base` (the in-process app, or a `motcua serve` process), JSON body if any.
pub async fn request_to(
    client: &awc::Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Response {
    let body = body.map(|b| ("application/json", serde_json::to_vec(b).unwrap()));
    try_send(client, base, method, path, token, &[], body)
        .await
        .expect("request sent")
}

/// One request that may fail to get an answer (a server killed or unreachable): `Err` with
/// the client's error then. `body` is a content type and its bytes.
pub async fn try_send(
    client: &awc::Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, String)],
    body: Option<(&str, Vec<u8>)>,
) -> Result<Response, String> {
    let mut req = client.request(method, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    for (k, v) in headers {
        req = req.insert_header((*k, v.as_str()));
    }
    let mut resp = match body {
        Some((content_type, bytes)) => {
            req.insert_header(("Content-Type", content_type))
                .send_body(bytes)
                .await
        }
        None => req.send().await,
    }
    .map_err(|e| e.to_string())?;
    let bytes = resp
        .body()
        .limit(64 * 1024 * 1024)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Response {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// A `multipart/form-data` body of `(name, filename, content type, bytes)` parts; answers the
/// content type (with its boundary) and the bytes.
pub fn multipart(parts: &[(&str, Option<&str>, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----motcua-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, filename, content_type, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let file = filename
            .map(|f| format!("; filename=\"{f}\""))
            .unwrap_or_default();
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"{file}\r\n").as_bytes(),
        );
        body.extend_from_slice(format!("Content-Type: {content_type}\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub struct TestApp {
    pub base: String,
    pub client: awc::Client,
    pub state: AppState,
    pub clock: Clock,
    pub admin_token: String,
    service: motcua::startup::Service,
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts the service as `serve` does (`startup::start`: state, HTTP server, background
    /// jobs), with this test's database, settings changed by `tweak`, and a manual clock.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDb::new(backend);
        let mut settings = test_settings(&db);
        tweak(&mut settings);
        let clock = Clock::manual(default_now());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let service = motcua::startup::start(settings, clock.clone(), listener).expect("start-up");
        let client = awc::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .finish();
        let mut app = TestApp {
            base: format!("http://{}", service.addr),
            client,
            state: service.state.clone(),
            clock,
            admin_token: String::new(),
            service,
            db,
        };
        app.admin_token = app.login("admin", ADMIN_PASSWORD).await;
        app
    }

    /// Stops the server and the jobs as SIGTERM does.
    pub async fn stop(self) {
        self.service.stop().await.expect("clean stop");
    }

    /// Another instance on this test's database, as a second `serve` would be: same settings
    /// changed by `tweak`, same clock, its own server and jobs.
    pub fn another_instance(&self, tweak: impl FnOnce(&mut Settings)) -> motcua::startup::Service {
        let mut settings = (*self.state.settings).clone();
        tweak(&mut settings);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        motcua::startup::start(settings, self.clock.clone(), listener).expect("another instance")
    }

    /// What the background jobs use (tests that drive a job's pass themselves).
    pub fn job_context(&self) -> motcua::jobs::JobContext {
        motcua::startup::job_context(&self.state)
    }

    /// An app whose mail goes to `smtp_url`, retrying fast; its outbox worker runs.
    pub async fn spawn_mail(backend: Backend, smtp_url: &str) -> Self {
        Self::spawn_mail_with(backend, smtp_url, |_| {}).await
    }

    pub async fn spawn_mail_with(
        backend: Backend,
        smtp_url: &str,
        tweak: impl FnOnce(&mut Settings),
    ) -> Self {
        let url = smtp_url.to_owned();
        Self::spawn_with(backend, move |s| {
            fast_mail(s, &url);
            tweak(s);
        })
        .await
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

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::PATCH, path, token, Some(body)).await
    }

    /// Sends raw bytes with a content type (malformed bodies).
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: &'static str,
    ) -> Response {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .insert_header(("Content-Type", content_type));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        let mut resp = req.send_body(body).await.expect("request sent");
        let bytes = resp.body().await.expect("body");
        Response {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let r = self
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": username, "password": password}),
            )
            .await
            .expect(200);
        r.body["access_token"].as_str().expect("token").to_owned()
    }

    pub async fn create_unit(&self, code: &str) {
        self.post(
            "/api/v1/units",
            Some(&self.admin_token),
            &json!({"code": code, "name": format!("Phòng {code}"), "email": format!("{}@example.test", code.to_lowercase())}),
        )
        .await
        .expect(201);
    }

    /// Creates a user of that role (in `unit` when given) and answers a token for it.
    pub async fn user_with_role(&self, username: &str, role: Role, unit: Option<&str>) -> String {
        let password = format!("{username}-password");
        self.post(
            "/api/v1/users",
            Some(&self.admin_token),
            &json!({"username": username, "password": password, "full_name": username,
                    "role": role.as_str(), "unit_code": unit, "email": format!("{username}@example.test")}),
        )
        .await
        .expect(201);
        self.login(username, &password).await
    }
}

/// A small procedure for dossier tests: 5 working days, two steps in unit `U1` (officer 3 days,
/// leader 2 days), two required items and one optional, `policy` for supplements.
pub fn test_procedure(code: &str, policy: &str, max_supplements: u32) -> Value {
    json!({
        "code": code, "name": format!("Thủ tục thử {code}"), "field": "Đầu tư", "unit_code": "U1",
        "duration": {"value": 5, "unit": "working_days"},
        "fee_vnd": 0, "online_level": "full", "paper_result": true, "issues_appointment": true,
        "supplement_policy": policy, "max_supplement_requests": max_supplements,
        "checklist": [
            {"code": "TP01", "name": "Văn bản đề nghị", "required": true, "originals": 1, "copies": 0, "must_digitise": true},
            {"code": "TP02", "name": "Bản sao giấy tờ pháp lý", "required": true, "originals": 0, "copies": 1, "must_digitise": true},
            {"code": "TP03", "name": "Tài liệu khác", "required": false, "originals": 0, "copies": 1, "must_digitise": false}
        ],
        "steps": [
            {"code": "B1", "name": "Thẩm định", "unit_code": "U1", "role": "officer", "allowance": {"value": 3, "unit": "working_days"}},
            {"code": "B2", "name": "Phê duyệt", "unit_code": "U1", "role": "leader", "allowance": {"value": 2, "unit": "working_days"}}
        ]
    })
}

/// Tokens of a unit `U1` workforce and a procedure `P1` ("pause", at most 1 supplement).
pub struct Office {
    pub clerk: String,
    pub officer: String,
    pub leader: String,
    pub viewer: String,
    pub portal: String,
    pub other_officer: String,
}

impl TestApp {
    pub async fn office(&self) -> Office {
        self.create_unit("U1").await;
        self.create_unit("U2").await;
        self.post(
            "/api/v1/procedures",
            Some(&self.admin_token),
            &test_procedure("P1", "pause", 1),
        )
        .await
        .expect(201);
        Office {
            clerk: self.user_with_role("clerk1", Role::Clerk, None).await,
            officer: self
                .user_with_role("officer1", Role::Officer, Some("U1"))
                .await,
            leader: self
                .user_with_role("leader1", Role::Leader, Some("U1"))
                .await,
            viewer: self.user_with_role("viewer1", Role::Viewer, None).await,
            portal: self.user_with_role("portal1", Role::Portal, None).await,
            other_officer: self
                .user_with_role("officer2", Role::Officer, Some("U2"))
                .await,
        }
    }

    /// A complete counter receipt of `procedure`; answers the created dossier body.
    pub async fn receive(&self, token: &str, procedure: &str) -> Value {
        self.post(
            "/api/v1/dossiers",
            Some(token),
            &dossier_body(procedure, "direct"),
        )
        .await
        .expect(201)
        .body
    }

    /// A complete counter receipt of `procedure`; answers its code.
    pub async fn receive_code(&self, token: &str, procedure: &str) -> String {
        self.receive(token, procedure).await["code"]
            .as_str()
            .expect("dossier code")
            .to_owned()
    }

    pub async fn act(&self, token: &str, code: &str, action: &str, body: Value) -> Response {
        self.post(
            &format!("/api/v1/dossiers/{code}/actions/{action}"),
            Some(token),
            &body,
        )
        .await
    }
}

pub fn dossier_body(procedure: &str, channel: &str) -> Value {
    json!({
        "procedure_code": procedure, "channel": channel,
        "applicant": {"kind": "organisation", "name": "Công ty TNHH Thử Nghiệm", "id_number": "0108000001",
                      "phone": "0900000001", "email": "ung.vien@example.com", "address": "KCN Thử"},
        "components": [{"item_code": "TP01", "kind": "original", "count": 1, "pages": 4},
                       {"item_code": "TP02", "kind": "copy", "count": 1}],
        "note": "Nộp tại quầy"
    })
}
