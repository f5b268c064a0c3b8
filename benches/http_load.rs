//! Load benchmark over real HTTP: receipts per second and actions per second, with the
//! server and the load sharing this machine's cores.
//!
//! `cargo bench --bench http_load` (SQLite in a temp folder), or with
//! `BENCH_DATABASE_URL=postgres://…/postgres` (a scratch database is created and dropped).
//! `BENCH_REQUESTS` (default 4000) and `BENCH_CONCURRENCY` (default 32) tune it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl, pg::PgConnection};
use motcua::clock::Clock;
use motcua::config::Settings;
use secrecy::SecretString;
use serde_json::{Value, json};

#[allow(dead_code)]
#[path = "../tests/api/smtp.rs"]
mod smtp;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Db {
    url: String,
    drop_pg: Option<(String, String)>,
    dir: std::path::PathBuf,
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.drop_pg
            && let Ok(mut c) = PgConnection::establish(admin)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut c);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn database() -> Db {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let dir = std::env::temp_dir().join(format!("motcua-bench-{id}"));
    std::fs::create_dir_all(&dir).unwrap();
    match std::env::var("BENCH_DATABASE_URL") {
        Ok(admin) => {
            let name = format!("motcua_bench_{id}");
            let mut c = PgConnection::establish(&admin).unwrap();
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut c)
                .unwrap();
            let base = admin
                .rsplit_once('/')
                .map_or(admin.as_str(), |(b, _)| b)
                .to_owned();
            Db {
                url: format!("{base}/{name}"),
                drop_pg: Some((admin, name)),
                dir,
            }
        }
        Err(_) => Db {
            url: format!("sqlite://{}", dir.join("bench.db").display()),
            drop_pg: None,
            dir,
        },
    }
}

struct Stats {
    latencies: Vec<Duration>,
    elapsed: Duration,
    failures: usize,
}

impl Stats {
    fn report(&mut self, what: &str) {
        self.latencies.sort();
        let n = self.latencies.len();
        let pct = |p: f64| self.latencies[((n as f64 * p) as usize).min(n - 1)];
        println!(
            "{what:<28} {n:>6} requests  {:>8.0} req/s  p50 {:>6.1} ms  p99 {:>6.1} ms  failures {}",
            n as f64 / self.elapsed.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            self.failures
        );
    }
}

/// Sends `bodies.len()` POSTs with at most `concurrency` in flight.
async fn run(
    client: &awc::Client,
    token: &str,
    requests: Vec<(String, Value)>,
    concurrency: usize,
) -> (Stats, Vec<Value>) {
    use futures_util::StreamExt;
    let start = Instant::now();
    let results: Vec<(Duration, bool, Value)> = futures_util::stream::iter(requests)
        .map(|(url, body)| async move {
            let t = Instant::now();
            let mut r = client
                .post(url)
                .insert_header(("Authorization", format!("Bearer {token}")))
                .send_json(&body)
                .await
                .unwrap();
            let ok = r.status().is_success();
            let v: Value = r.json().limit(1 << 20).await.unwrap_or(Value::Null);
            (t.elapsed(), ok, v)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = start.elapsed();
    let failures = results.iter().filter(|r| !r.1).count();
    let latencies = results.iter().map(|r| r.0).collect();
    (
        Stats {
            latencies,
            elapsed,
            failures,
        },
        results.into_iter().map(|r| r.2).collect(),
    )
}

/// Starts a service (`startup::start`) on its own thread and runtime, as `serve` would run
/// it; answers its state and base URL. It serves until the process ends.
fn spawn_service(settings: Settings) -> (motcua::app::AppState, String) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let service = motcua::startup::start(settings, Clock::System, listener).unwrap();
            tx.send((service.state.clone(), format!("http://{}", service.addr)))
                .unwrap();
            service.run_until_signal().await.unwrap();
        })
    });
    rx.recv().unwrap()
}

fn main() {
    let requests = env_usize("BENCH_REQUESTS", 4000);
    let concurrency = env_usize("BENCH_CONCURRENCY", 32);
    let db = database();
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut settings = Settings::load_unvalidated(&root.join("config"), "bench").unwrap();
    settings.database.url = SecretString::from(db.url.clone());
    settings.auth.jwt_secret = Some(SecretString::from(
        "bench-secret-bench-secret-bench-secret!!".to_owned(),
    ));
    settings.calendar.data_dir = root.join("config/calendars");
    settings.server.workers = 2;
    let sink = smtp::SmtpSink::start();
    settings.smtp.url = Some(SecretString::from(sink.url()));
    settings.smtp.poll_interval_ms = 20;
    settings.validate().unwrap();
    let backend = if db.drop_pg.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    // The HTTP and throughput phases run on an instance without jobs, so that the worker's
    // own pass can be timed alone; the latency phase adds a second instance with its jobs, as
    // `serve` runs them. Both are put together by `startup::start`.
    let mut http_only = settings.clone();
    http_only.jobs.enabled = false;
    let (state, base) = spawn_service(http_only);
    {
        let mut conn = state.pool.get().unwrap();
        motcua::app::demo::load(&mut conn, &state).unwrap();
    }
    let bench_state = state.clone();
    actix_web::rt::System::new().block_on(async move {
        let state = bench_state;
        let client = awc::Client::builder().timeout(Duration::from_secs(120)).finish();
        let login = |user: &'static str, pw: &'static str| {
            let client = client.clone();
            let base = base.clone();
            async move {
                let mut r = client
                    .post(format!("{base}/api/v1/auth/login"))
                    .send_json(&json!({"username": user, "password": pw}))
                    .await
                    .unwrap();
                let v: Value = r.json().await.unwrap();
                v["access_token"].as_str().unwrap().to_owned()
            }
        };
        let clerk = login("clerk", "motcua-clerk").await;
        let admin = login("admin", "motcua-admin").await;
        // Procedure 1.009662 (three working days, two required items) from the demo data.
        let body = json!({
            "procedure_code": "1.009662", "channel": "direct",
            "applicant": {"kind": "organisation", "name": "Công ty Tải Thử", "id_number": "0100000001"},
            "components": [{"item_code": "TP01", "kind": "original"}, {"item_code": "TP02", "kind": "original"}]
        });
        println!("backend {backend}, {requests} requests per scenario, concurrency {concurrency}");
        let receipts = (0..requests).map(|_| (format!("{base}/api/v1/dossiers"), body.clone())).collect();
        let (mut stats, created) = run(&client, &clerk, receipts, concurrency).await;
        stats.report("POST /dossiers (receipt)");
        let codes: Vec<String> = created.iter().filter_map(|v| v["code"].as_str().map(str::to_owned)).collect();
        let transfers = codes
            .iter()
            .map(|c| (format!("{base}/api/v1/dossiers/{c}/actions/transfer"), json!({})))
            .collect();
        let (mut stats, _) = run(&client, &admin, transfers, concurrency).await;
        stats.report("POST …/actions/transfer");

        // Email: receipts with an applicant address enqueue one email each in the outbox.
        let emails = env_usize("BENCH_EMAILS", 1000);
        let mut with_email = body.clone();
        with_email["applicant"]["email"] = json!("applicant@example.com");
        let receipts = (0..emails).map(|_| (format!("{base}/api/v1/dossiers"), with_email.clone())).collect();
        run(&client, &clerk, receipts, concurrency).await;
        let worker = motcua::jobs::outbox::OutboxWorker::new(&state.settings).unwrap();
        let ctx = motcua::startup::job_context(&state);
        let started = Instant::now();
        let mut sent = 0;
        loop {
            let n = worker.send_due(&ctx).await.unwrap().sent;
            if n == 0 {
                break;
            }
            sent += n;
        }
        let elapsed = started.elapsed();
        assert_eq!(sink.messages().len(), sent);
        println!("{:<28} {sent:>6} emails    {:>8.0} emails/s (one worker, 8 in flight, SMTP on loopback)", "outbox → SMTP", sent as f64 / elapsed.as_secs_f64());

        // Receipt to email arrival, with the jobs running as in `serve` (poll 20 ms here).
        let (_, base) = spawn_service(settings);
        let mut waits = Vec::new();
        for _ in 0..50 {
            let before = sink.messages().len();
            let t = Instant::now();
            run(&client, &clerk, vec![(format!("{base}/api/v1/dossiers"), with_email.clone())], 1).await;
            sink.wait_for(before + 1, 30).await;
            waits.push(t.elapsed());
        }
        waits.sort();
        println!(
            "{:<28} {:>6} receipts  p50 {:>6.1} ms  p99 {:>6.1} ms  (poll interval 20 ms; default 1 s adds up to 1 s)",
            "receipt → email arrived",
            waits.len(),
            waits[waits.len() / 2].as_secs_f64() * 1e3,
            waits[waits.len() * 99 / 100].as_secs_f64() * 1e3
        );
    });
    drop(state);
    drop(db);
}
