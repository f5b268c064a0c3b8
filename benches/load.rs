//! The load tool (issue 16): in one run per backend, the stack's own limits and the service's
//! scenarios on the same machine, each as req/s, p50/p99 and its ratio to the limit.
//!
//! ```text
//! cargo bench --bench load                                   # SQLite only
//! LOAD_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench load
//! ```
//!
//! What runs, per backend (a fresh SQLite file in a temp folder, `synchronous=FULL`; a scratch
//! PostgreSQL database created and dropped):
//! - `motcua demo --dossiers N` (the demo data and an archive of N dossiers, default 10,000),
//!   then the release `motcua serve` (so `startup::start`, as an operator runs it) with 2
//!   workers, jobs on, logging at its default level to a file;
//! - **raw lookup**: this same bench binary re-started as a bare actix server (2 workers) with
//!   one route that does one primary-key select through `startup::open_pool` (the product's
//!   pool type and settings) on `web::block` — the stack's ceiling for a read endpoint;
//! - **raw insert**: one loop of one-row insert transactions through the same pool and
//!   `db::write_tx`, no HTTP — the durability ceiling (fsync on SQLite, commit on PostgreSQL);
//! - `GET` and `POST /api/v1/public/lookup` over 500 real dossiers, `POST /api/v1/dossiers`
//!   (a counter receipt), each driven by `wrk -t2 -c64` (Debian's `wrk`);
//! - the full walk receipt → transfer → approve → deliver, 64 walkers in a closed loop (awc:
//!   each step needs the code the receipt answered, which wrk's per-thread Lua cannot follow
//!   per connection);
//! - the server's RSS and threads (`/proc/PID/status`) idle, the peak under each scenario,
//!   and after.
//!
//! Why wrk: it is the issue's own yardstick (its "Measured now" table), a C event loop that
//! costs the shared two cores far less per request than any client we could write, and its
//! latency histogram is the one people know. This binary drives it (scripts written per run),
//! so the whole table still comes from one command.
//!
//! Knobs: `LOAD_SECONDS` per scenario (default 10), `LOAD_CONNECTIONS` (64), `LOAD_ARCHIVE`
//! (10000), `LOAD_GROWTH_TO` (e.g. 1000000: afterwards the archive is grown to that many and
//! lookup and receipt are measured again, with Biểu 06 timed on it, once the fresh server
//! has finished its first due-time watcher pass over the grown archive), `LOAD_SOAK_SECONDS` (e.g.
//! 600: only the soak — lookups and receipts alternating, RSS and threads every round),
//! `LOAD_SQLITE=0` (skip SQLite).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::{Value, json};

diesel::table! {
    /// The raw insert baseline's own table (created by this tool, in the product's database).
    load_raw_inserts (id) {
        id -> Text,
        n -> Integer,
        note -> Text,
    }
}

const JWT_SECRET: &str = "load-secret-load-secret-load-secret-load!";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------- the raw lookup server

/// `MOTCUA_LOAD_RAW=1`: this binary is the raw baseline server (configured like `serve`, by
/// the environment): `GET /raw/{id}` selects one dossier row by primary key.
fn raw_server() {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let settings = motcua::config::Settings::from_environment().unwrap();
    let pool = motcua::startup::open_pool(&settings).unwrap();
    let addr = format!("{}:{}", settings.server.host, settings.server.port);
    let workers = settings.server.workers;
    let threads = pool.max_size() as usize;
    async fn raw(
        pool: web::Data<motcua::db::Pool>,
        id: web::Path<String>,
    ) -> actix_web::Result<HttpResponse> {
        use motcua::db::schema::dossiers::dsl as d;
        // The product's own dispatch (`app::blocking`: a permit per connection, then the
        // pooled connection on a blocking thread), so the ratio is everything else a request
        // does. `get_result`, not `first`: see `db_reads_bind_no_limit_of_one`.
        let row = motcua::app::blocking(&pool, move |conn| {
            Ok(d::dossiers
                .find(id.into_inner())
                .select((
                    d::code,
                    d::state,
                    d::procedure_id,
                    d::applicant_name,
                    d::received_at,
                ))
                .get_result::<(
                    String,
                    String,
                    String,
                    String,
                    Option<chrono::NaiveDateTime>,
                )>(conn)
                .optional()?)
        })
        .await?;
        Ok(match row {
            Some((code, state, procedure, name, received)) => HttpResponse::Ok().json(json!({
                "code": code, "state": state, "procedure": procedure, "name": name, "received_at": received,
            })),
            None => HttpResponse::NotFound().finish(),
        })
    }
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(pool.clone()))
                .route("/raw/{id}", web::get().to(raw))
        })
        .workers(workers)
        .worker_max_blocking_threads(threads)
        .bind(addr)
        .unwrap()
        .run()
        .await
        .unwrap();
    });
}

// ---------------------------------------------------------------- processes and memory

/// VmRSS, VmHWM (kB) and thread count of a process.
#[derive(Clone, Copy, Debug, Default)]
struct Mem {
    rss_kb: u64,
    hwm_kb: u64,
    threads: u64,
}

fn mem(pid: u32) -> Mem {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Mem {
        rss_kb: field("VmRSS:"),
        hwm_kb: field("VmHWM:"),
        threads: field("Threads:"),
    }
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The environment `serve`, `demo` and the raw server are configured by.
fn service_env(db_url: &str, dir: &Path, port: u16) -> Vec<(String, String)> {
    let r = root();
    [
        ("MOTCUA_CONFIG_DIR", r.join("config").display().to_string()),
        ("MOTCUA_ENV", "load".to_owned()),
        ("MOTCUA__DATABASE__URL", db_url.to_owned()),
        ("MOTCUA__SERVER__HOST", "127.0.0.1".to_owned()),
        ("MOTCUA__SERVER__PORT", port.to_string()),
        ("MOTCUA__SERVER__WORKERS", "2".to_owned()),
        ("MOTCUA__AUTH__JWT_SECRET", JWT_SECRET.to_owned()),
        (
            "MOTCUA__CALENDAR__DATA_DIR",
            r.join("config/calendars").display().to_string(),
        ),
        (
            "MOTCUA__STORAGE__DIR",
            dir.join("files").display().to_string(),
        ),
        // One client address sends everything here; the per-address limit is not measured.
        ("MOTCUA__PUBLIC__LOOKUP_PER_MINUTE", "1000000000".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn spawn(program: &Path, args: &[&str], env: &[(String, String)], log: &Path) -> Child {
    let out = std::fs::File::create(log).unwrap();
    Command::new(program)
        .args(args)
        .envs(env.iter().cloned())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()))
}

fn motcua_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_motcua"))
}

/// Runs `motcua demo [--dossiers n --year y]` to completion.
fn demo(env: &[(String, String)], dir: &Path, dossiers: u64, year: i32) {
    let log = dir.join(format!("demo-{dossiers}-{year}.log"));
    let n = dossiers.to_string();
    let y = year.to_string();
    let mut args = vec!["demo", "--with-published-passwords"];
    if dossiers > 0 {
        args.extend(["--dossiers", &n, "--year", &y]);
    }
    let status = spawn(&motcua_bin(), &args, env, &log).wait().unwrap();
    assert!(
        status.success(),
        "motcua demo failed: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}

/// CPU time (user + system, clock ticks) a process has used so far.
fn cpu_ticks(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the command name in parentheses: state is field 3, utime 14, stime 15.
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let at = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    at(11) + at(12)
}

/// Waits until the server has used under a tenth of a core for a second (at most 5 min): a
/// fresh `serve` over a large archive first runs the due-time watcher over every open dossier
/// (on the 1 M archive ~27,000 overdue notices, 13 s of one core), and a figure taken during
/// that pass measures the pass, not the archive. Answers how long it waited.
fn wait_idle(pid: u32) -> Duration {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(300) {
        let before = cpu_ticks(pid);
        std::thread::sleep(Duration::from_secs(1));
        if cpu_ticks(pid) - before < 10 {
            break;
        }
    }
    start.elapsed()
}

async fn wait_ready(client: &awc::Client, url: &str) {
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        if let Ok(r) = client.get(url).send().await
            && r.status().as_u16() < 500
        {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} did not answer within 60 s");
}

// ---------------------------------------------------------------- results

#[derive(Clone, Debug, Default)]
struct Figure {
    name: String,
    requests: u64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    failures: u64,
    peak: Mem,
    /// What it is compared with, and the ratio.
    against: Option<(&'static str, f64)>,
}

impl Figure {
    fn line(&self) -> String {
        let ratio = self
            .against
            .map(|(n, r)| format!("{:>5.0} % of {n}", r * 100.0))
            .unwrap_or_default();
        format!(
            "{:<34} {:>7} × {:>8.0}/s  p50 {:>6.2} ms  p99 {:>7.2} ms  fail {:<4} rss {:>5.1} MB thr {:>3}  {ratio}",
            self.name,
            self.requests,
            self.per_second,
            self.p50_ms,
            self.p99_ms,
            self.failures,
            mb(self.peak.rss_kb),
            self.peak.threads
        )
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)].as_secs_f64() * 1e3
}

// ---------------------------------------------------------------- wrk

const WRK_DONE: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"#;

fn lua_str(s: &str) -> String {
    format!("{s:?}")
}

/// Runs wrk for `secs` against `url` with `script`, sampling the server's memory meanwhile.
fn wrk(
    name: &str,
    base: &str,
    script: &str,
    secs: u64,
    conns: u64,
    dir: &Path,
    pid: u32,
) -> Figure {
    let path = dir.join(format!(
        "{}.lua",
        name.replace(|c: char| !c.is_alphanumeric(), "_")
    ));
    std::fs::write(&path, format!("{script}\n{WRK_DONE}")).unwrap();
    let mut child = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{conns}"),
            &format!("-d{secs}s"),
            "--timeout",
            "10s",
            "-s",
            path.to_str().unwrap(),
            base,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("wrk (apt-get install wrk)");
    let mut peak = Mem::default();
    while child.try_wait().unwrap().is_none() {
        let m = mem(pid);
        peak.rss_kb = peak.rss_kb.max(m.rss_kb);
        peak.threads = peak.threads.max(m.threads);
        peak.hwm_kb = m.hwm_kb;
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    let line = out
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .unwrap_or_else(|| panic!("wrk said:\n{out}"));
    let v: Vec<u64> = line[7..]
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    Figure {
        name: name.to_owned(),
        requests: v[0],
        per_second: v[0] as f64 / (v[1] as f64 / 1e6),
        p50_ms: v[2] as f64 / 1e3,
        p99_ms: v[3] as f64 / 1e3,
        failures: v[4] + v[5],
        peak,
        against: None,
    }
}

fn random_request_script(requests: &[String]) -> String {
    let mut s = String::from("local reqs = {\n");
    for r in requests {
        s.push_str(&format!("  {},\n", lua_str(r)));
    }
    s.push_str("}\nrequest = function()\n  return reqs[math.random(#reqs)]\nend\n");
    s.push_str(
        "init = function(args)\n  math.randomseed(os.time() + math.floor(os.clock() * 1e6))\nend\n",
    );
    s
}

/// A GET of `path` as wrk would send it (wrk.format builds the same).
fn raw_get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
}

fn raw_post_json(path: &str, body: &str, token: Option<&str>) -> String {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

// ---------------------------------------------------------------- the raw insert loop

fn raw_inserts(db_url: &str, secs: u64) -> Figure {
    let pool = motcua::db::connect(db_url, 0, motcua::db::SqliteOptions::default()).unwrap();
    let mut conn = pool.get().unwrap();
    diesel::connection::SimpleConnection::batch_execute(
        &mut *conn,
        "CREATE TABLE IF NOT EXISTS load_raw_inserts (id TEXT PRIMARY KEY, n INTEGER NOT NULL, note TEXT NOT NULL)",
    )
    .unwrap();
    let mut latencies = Vec::new();
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_secs(secs) {
        let t = Instant::now();
        motcua::db::write_tx(&mut conn, |c| {
            diesel::insert_into(load_raw_inserts::table)
                .values((
                    load_raw_inserts::id.eq(uuid::Uuid::new_v4().to_string()),
                    load_raw_inserts::n.eq(n),
                    load_raw_inserts::note.eq("one row, one transaction"),
                ))
                .execute(c)
        })
        .unwrap();
        latencies.push(t.elapsed());
        n += 1;
    }
    let elapsed = start.elapsed();
    latencies.sort();
    Figure {
        name: "raw insert tx loop (no HTTP)".to_owned(),
        requests: n as u64,
        per_second: n as f64 / elapsed.as_secs_f64(),
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
        ..Figure::default()
    }
}

// ---------------------------------------------------------------- HTTP helpers (awc)

fn receipt_body() -> Value {
    // Procedure 1.009662 (three working days, two required items) from the demo data.
    json!({
        "procedure_code": "1.009662", "channel": "direct",
        "applicant": {"kind": "organisation", "name": "Công ty Tải Thử", "id_number": "0100000001"},
        "components": [{"item_code": "TP01", "kind": "original"}, {"item_code": "TP02", "kind": "original"}]
    })
}

async fn login(client: &awc::Client, base: &str, user: &str, password: &str) -> String {
    let mut r = client
        .post(format!("{base}/api/v1/auth/login"))
        .send_json(&json!({"username": user, "password": password}))
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    v["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("login {user}: {v}"))
        .to_owned()
}

async fn post(
    client: &awc::Client,
    url: String,
    token: &str,
    body: &Value,
) -> Result<Value, String> {
    let mut r = client
        .post(url)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send_json(body)
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let v: Value = r.json().limit(1 << 20).await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(v)
    } else {
        Err(format!("{status}: {v}"))
    }
}

struct Tokens {
    clerk: String,
    leader: String,
    viewer: String,
}

/// The full walk, `conns` walkers in a closed loop for `secs`.
async fn walks(
    client: &awc::Client,
    base: &str,
    t: &Tokens,
    secs: u64,
    conns: u64,
    pid: u32,
) -> Figure {
    use futures_util::StreamExt;
    let until = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let sampler = {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        let h = std::thread::spawn(move || {
            let mut peak = Mem::default();
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                let m = mem(pid);
                peak.rss_kb = peak.rss_kb.max(m.rss_kb);
                peak.threads = peak.threads.max(m.threads);
                peak.hwm_kb = m.hwm_kb;
                std::thread::sleep(Duration::from_millis(200));
            }
            peak
        });
        (stop, h)
    };
    let body = receipt_body();
    let results: Vec<(Vec<Duration>, u64)> = futures_util::stream::iter(0..conns)
        .map(|_| {
            let body = body.clone();
            async move {
                let mut lat = Vec::new();
                let mut failures = 0;
                while Instant::now() < until {
                    let t0 = Instant::now();
                    let walked = async {
                        let d = post(client, format!("{base}/api/v1/dossiers"), &t.clerk, &body)
                            .await?;
                        let code = d["code"].as_str().ok_or("no code")?.to_owned();
                        let act = |a: &str| format!("{base}/api/v1/dossiers/{code}/actions/{a}");
                        post(client, act("transfer"), &t.clerk, &json!({})).await?;
                        post(
                            client,
                            act("approve"),
                            &t.leader,
                            &json!({"result_reference": "1/GP"}),
                        )
                        .await?;
                        post(
                            client,
                            act("deliver"),
                            &t.clerk,
                            &json!({"method": "counter"}),
                        )
                        .await?;
                        Ok::<(), String>(())
                    }
                    .await;
                    match walked {
                        Ok(()) => lat.push(t0.elapsed()),
                        Err(e) => {
                            if failures == 0 {
                                eprintln!("walk failed: {e}");
                            }
                            failures += 1;
                        }
                    }
                }
                (lat, failures)
            }
        })
        .buffer_unordered(conns as usize)
        .collect()
        .await;
    let elapsed = start.elapsed();
    sampler.0.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.1.join().unwrap();
    let failures = results.iter().map(|r| r.1).sum();
    let mut lat: Vec<Duration> = results.into_iter().flat_map(|r| r.0).collect();
    lat.sort();
    Figure {
        name: "walk receipt→transfer→approve→deliver".to_owned(),
        requests: lat.len() as u64,
        per_second: lat.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: percentile(&lat, 0.5),
        p99_ms: percentile(&lat, 0.99),
        failures,
        peak,
        against: None,
    }
}

// ---------------------------------------------------------------- one backend

struct Database {
    url: String,
    drop_pg: Option<(String, String)>,
    dir: PathBuf,
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.drop_pg
            && let Ok(mut c) = diesel::PgConnection::establish(admin)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut c);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn database(postgres_admin: Option<&str>) -> Database {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let dir = std::env::temp_dir().join(format!("motcua-load-{id}"));
    std::fs::create_dir_all(&dir).unwrap();
    match postgres_admin {
        Some(admin) => {
            let name = format!("motcua_load_{id}");
            let mut c = diesel::PgConnection::establish(admin).unwrap();
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut c)
                .unwrap();
            let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b).to_owned();
            Database {
                url: format!("{base}/{name}"),
                drop_pg: Some((admin.to_owned(), name)),
                dir,
            }
        }
        None => Database {
            url: format!("sqlite://{}", dir.join("load.db").display()),
            drop_pg: None,
            dir,
        },
    }
}

struct Run {
    backend: &'static str,
    figures: Vec<Figure>,
    notes: Vec<String>,
}

fn start_serve(db: &Database, log: &str) -> Server {
    let port = free_port();
    let env = service_env(&db.url, &db.dir, port);
    let child = spawn(&motcua_bin(), &["serve"], &env, &db.dir.join(log));
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

fn run_backend(backend: &'static str, postgres_admin: Option<&str>) -> Run {
    let secs = env_u64("LOAD_SECONDS", 10);
    let conns = env_u64("LOAD_CONNECTIONS", 64);
    let archive = env_u64("LOAD_ARCHIVE", 10_000);
    let db = database(postgres_admin);
    let env = service_env(&db.url, &db.dir, 0);
    eprintln!("[{backend}] demo data and {archive} archived dossiers");
    demo(&env, &db.dir, archive, 2024);
    let serve = start_serve(&db, "serve.log");
    let raw_port = free_port();
    let raw = Server {
        child: spawn(
            &std::env::current_exe().unwrap(),
            &[],
            &[
                service_env(&db.url, &db.dir, raw_port),
                vec![("MOTCUA_LOAD_RAW".to_owned(), "1".to_owned())],
            ]
            .concat(),
            &db.dir.join("raw.log"),
        ),
        base: format!("http://127.0.0.1:{raw_port}"),
    };
    let mut figures = Vec::new();
    let mut notes = Vec::new();
    let dir = db.dir.clone();
    let pid = serve.pid();
    let sys = actix_web::rt::System::new();
    let (tokens, lookups, ids) = sys.block_on(async {
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish();
        wait_ready(&client, &format!("{}/readyz", serve.base)).await;
        wait_ready(&client, &format!("{}/raw/none", raw.base)).await;
        let busy = wait_idle(pid);
        eprintln!(
            "[{backend}] serve idle {:.0} s after it was ready",
            busy.as_secs_f64()
        );
        let started = mem(pid);
        let tokens = Tokens {
            clerk: login(&client, &serve.base, "clerk", "motcua-clerk").await,
            leader: login(&client, &serve.base, "leader", "motcua-leader").await,
            viewer: login(&client, &serve.base, "viewer", "motcua-viewer").await,
        };
        // 500 real dossiers to look up (code and key as the applicant holds them).
        let mut lookups = Vec::new();
        for _ in 0..500 {
            let d = post(
                &client,
                format!("{}/api/v1/dossiers", serve.base),
                &tokens.clerk,
                &receipt_body(),
            )
            .await
            .unwrap();
            lookups.push((
                d["code"].as_str().unwrap().to_owned(),
                d["lookup_key"].as_str().unwrap().to_owned(),
            ));
        }
        (tokens, lookups, started)
    });
    notes.push(format!(
        "serve idle just after start-up: RSS {:.1} MB, peak {:.1} MB, {} threads",
        mb(ids.rss_kb),
        mb(ids.hwm_kb),
        ids.threads
    ));
    let idle = mem(pid);
    notes.push(format!(
        "serve idle after start-up and 500 receipts: RSS {:.1} MB, peak {:.1} MB, {} threads",
        mb(idle.rss_kb),
        mb(idle.hwm_kb),
        idle.threads
    ));
    // Primary keys for the raw lookup: the archive's and the 500 dossiers' ids.
    let ids: Vec<String> = {
        let pool = motcua::db::connect(&db.url, 1, motcua::db::SqliteOptions::default()).unwrap();
        let mut c = pool.get().unwrap();
        use motcua::db::schema::dossiers::dsl as d;
        d::dossiers.select(d::id).limit(1000).load(&mut c).unwrap()
    };
    let raw_script = random_request_script(
        &ids.iter()
            .map(|id| raw_get(&format!("/raw/{id}")))
            .collect::<Vec<_>>(),
    );
    let get_script = random_request_script(
        &lookups
            .iter()
            .map(|(c, k)| raw_get(&format!("/api/v1/public/lookup?code={c}&key={k}")))
            .collect::<Vec<_>>(),
    );
    let post_script = random_request_script(
        &lookups
            .iter()
            .map(|(c, k)| {
                raw_post_json(
                    "/api/v1/public/lookup",
                    &json!({"code": c, "key": k}).to_string(),
                    None,
                )
            })
            .collect::<Vec<_>>(),
    );
    let receipt_script = format!(
        "wrk.method = \"POST\"\nwrk.path = \"/api/v1/dossiers\"\nwrk.body = {}\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = {}\n",
        lua_str(&receipt_body().to_string()),
        lua_str(&format!("Bearer {}", tokens.clerk))
    );
    let warm = |base: &str, script: &str| {
        wrk("warm-up", base, script, 2, conns, &dir, pid);
    };

    eprintln!("[{backend}] raw lookup");
    warm(&raw.base, &raw_script);
    let mut raw_lookup = wrk(
        "raw PK lookup endpoint",
        &raw.base,
        &raw_script,
        secs,
        conns,
        &dir,
        raw.pid(),
    );
    raw_lookup.name = "raw PK lookup endpoint".to_owned();
    eprintln!("[{backend}] public lookup");
    warm(&serve.base, &get_script);
    let mut get = wrk(
        "GET /api/v1/public/lookup",
        &serve.base,
        &get_script,
        secs,
        conns,
        &dir,
        pid,
    );
    get.against = Some(("raw lookup", get.per_second / raw_lookup.per_second));
    let mut post_lookup = wrk(
        "POST /api/v1/public/lookup",
        &serve.base,
        &post_script,
        secs,
        conns,
        &dir,
        pid,
    );
    post_lookup.against = Some(("raw lookup", post_lookup.per_second / raw_lookup.per_second));
    drop(raw);
    // The insert ceiling moves with the disk's other users (fsync): measured just before and
    // just after the receipts, and the receipts compared with the mean of the two.
    eprintln!("[{backend}] raw inserts");
    let before = raw_inserts(&db.url, secs);
    eprintln!("[{backend}] receipts");
    let mut receipt = wrk(
        "POST /api/v1/dossiers (receipt)",
        &serve.base,
        &receipt_script,
        secs,
        conns,
        &dir,
        pid,
    );
    let after = raw_inserts(&db.url, secs);
    notes.push(format!(
        "raw insert loop before the receipts {:.0}/s (p99 {:.1} ms), after {:.0}/s (p99 {:.1} ms)",
        before.per_second, before.p99_ms, after.per_second, after.p99_ms
    ));
    let raw_insert = Figure {
        name: "raw insert tx loop (no HTTP)".to_owned(),
        requests: before.requests + after.requests,
        per_second: (before.per_second + after.per_second) / 2.0,
        p50_ms: (before.p50_ms + after.p50_ms) / 2.0,
        p99_ms: before.p99_ms.max(after.p99_ms),
        ..Figure::default()
    };
    receipt.against = Some(("raw insert", receipt.per_second / raw_insert.per_second));
    eprintln!("[{backend}] walks");
    let mut walk = sys.block_on(async {
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .connector(awc::Connector::new().limit(conns as usize * 2))
            .finish();
        walks(&client, &serve.base, &tokens, secs, conns, pid).await
    });
    // Each walk is four write transactions: compared with a quarter of the raw insert rate.
    walk.against = Some((
        "raw insert / 4",
        walk.per_second * 4.0 / raw_insert.per_second,
    ));
    figures.extend([raw_lookup, get, post_lookup, raw_insert, receipt, walk]);
    std::thread::sleep(Duration::from_secs(5));
    let after = mem(pid);
    notes.push(format!(
        "serve 5 s after the load: RSS {:.1} MB, peak (VmHWM) {:.1} MB, {} threads",
        mb(after.rss_kb),
        mb(after.hwm_kb),
        after.threads
    ));

    if let Some(to) = std::env::var("LOAD_GROWTH_TO")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        && to > archive
    {
        drop(serve);
        eprintln!("[{backend}] growing the archive to {to} dossiers");
        let t = Instant::now();
        demo(&env, &db.dir, to - archive, 2025);
        if let Some((admin, name)) = &db.drop_pg {
            let _ = admin;
            let mut c = diesel::PgConnection::establish(&db.url).unwrap();
            diesel::sql_query("ANALYZE").execute(&mut c).unwrap();
            let _ = name;
        }
        notes.push(format!(
            "archive grown to {to} dossiers in {:.0} s",
            t.elapsed().as_secs_f64()
        ));
        let serve = start_serve(&db, "serve-grown.log");
        let pid = serve.pid();
        let bieu = sys.block_on(async {
            let client = awc::Client::builder()
                .timeout(Duration::from_secs(120))
                .finish();
            wait_ready(&client, &format!("{}/readyz", serve.base)).await;
            let busy = wait_idle(pid);
            let mut times = Vec::new();
            for _ in 0..3 {
                let t = Instant::now();
                let r = client
                    .get(format!(
                        "{}/api/v1/reports/bieu-06?from=2025-01-01&to=2025-12-31&group_by=field",
                        serve.base
                    ))
                    .insert_header(("Authorization", format!("Bearer {}", tokens.viewer)))
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "bieu-06: {}", r.status());
                let mut r = r;
                let _ = r.body().limit(1 << 24).await.unwrap();
                times.push(t.elapsed());
            }
            times.sort();
            (busy, times[1])
        });
        let (busy, bieu) = bieu;
        notes.push(format!(
            "serve on {to} dossiers busy for {:.0} s after it was ready (the due-time watcher's \
             first pass), measured after that",
            busy.as_secs_f64()
        ));
        notes.push(format!(
            "Biểu 06, year 2025 by field, on {to} dossiers: median of 3 {:.3} s",
            bieu.as_secs_f64()
        ));
        warm(&serve.base, &get_script);
        let mut get_big = wrk(
            &format!("GET lookup, {to} archived"),
            &serve.base,
            &get_script,
            secs,
            conns,
            &dir,
            pid,
        );
        let p50_10k = figures[1].p50_ms;
        get_big.against = Some(("10k-archive p50 (p50 ratio)", get_big.p50_ms / p50_10k));
        let mut receipt_big = wrk(
            &format!("receipt, {to} archived"),
            &serve.base,
            &receipt_script,
            secs,
            conns,
            &dir,
            pid,
        );
        let p50_10k = figures[4].p50_ms;
        receipt_big.against = Some(("10k-archive p50 (p50 ratio)", receipt_big.p50_ms / p50_10k));
        figures.extend([get_big, receipt_big]);
    }
    Run {
        backend,
        figures,
        notes,
    }
}

/// `LOAD_SOAK_SECONDS`: rounds of 20 s lookups then 10 s receipts against one server, its
/// memory and threads after each round.
fn soak(backend: &'static str, postgres_admin: Option<&str>, total: u64) {
    let conns = env_u64("LOAD_CONNECTIONS", 64);
    let db = database(postgres_admin);
    let env = service_env(&db.url, &db.dir, 0);
    demo(&env, &db.dir, env_u64("LOAD_ARCHIVE", 10_000), 2024);
    let serve = start_serve(&db, "serve.log");
    let pid = serve.pid();
    let sys = actix_web::rt::System::new();
    let (clerk, lookups) = sys.block_on(async {
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish();
        wait_ready(&client, &format!("{}/readyz", serve.base)).await;
        let clerk = login(&client, &serve.base, "clerk", "motcua-clerk").await;
        let mut lookups = Vec::new();
        for _ in 0..500 {
            let d = post(
                &client,
                format!("{}/api/v1/dossiers", serve.base),
                &clerk,
                &receipt_body(),
            )
            .await
            .unwrap();
            lookups.push(raw_get(&format!(
                "/api/v1/public/lookup?code={}&key={}",
                d["code"].as_str().unwrap(),
                d["lookup_key"].as_str().unwrap()
            )));
        }
        (clerk, lookups)
    });
    let get_script = random_request_script(&lookups);
    let receipt_script = format!(
        "wrk.method = \"POST\"\nwrk.path = \"/api/v1/dossiers\"\nwrk.body = {}\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = {}\n",
        lua_str(&receipt_body().to_string()),
        lua_str(&format!("Bearer {clerk}"))
    );
    let m = mem(pid);
    println!(
        "soak {backend}: {total} s, {conns} connections; idle RSS {:.1} MB, {} threads",
        mb(m.rss_kb),
        m.threads
    );
    println!(
        "| t (s) | lookups/s | lookup p99 | receipts/s | receipt p99 | failures | RSS after | peak RSS | threads |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(total) {
        let l = wrk(
            "soak lookup",
            &serve.base,
            &get_script,
            20,
            conns,
            &db.dir,
            pid,
        );
        let r = wrk(
            "soak receipt",
            &serve.base,
            &receipt_script,
            10,
            conns,
            &db.dir,
            pid,
        );
        let m = mem(pid);
        println!(
            "| {:.0} | {:.0} | {:.1} ms | {:.0} | {:.1} ms | {} | {:.1} MB | {:.1} MB | {} |",
            start.elapsed().as_secs_f64(),
            l.per_second,
            l.p99_ms,
            r.per_second,
            r.p99_ms,
            l.failures + r.failures,
            mb(m.rss_kb),
            mb(m.hwm_kb),
            m.threads
        );
        std::io::stdout().flush().unwrap();
    }
}

fn main() {
    if std::env::var_os("MOTCUA_LOAD_RAW").is_some() {
        return raw_server();
    }
    let postgres = std::env::var("LOAD_POSTGRES_URL").ok();
    let mut backends: Vec<(&'static str, Option<&str>)> = Vec::new();
    if std::env::var("LOAD_SQLITE").as_deref() != Ok("0") {
        backends.push(("sqlite", None));
    }
    if let Some(url) = postgres.as_deref() {
        backends.push(("postgres", Some(url)));
    }
    if let Some(total) = std::env::var("LOAD_SOAK_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        for (name, url) in backends {
            soak(name, url, total);
        }
        return;
    }
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let runs: Vec<Run> = backends
        .into_iter()
        .map(|(name, url)| run_backend(name, url))
        .collect();
    println!(
        "\nload run at commit {commit}: wrk -t2 -c{} for {} s per scenario, server 2 workers; server, wrk and this tool share the machine's cores",
        env_u64("LOAD_CONNECTIONS", 64),
        env_u64("LOAD_SECONDS", 10)
    );
    for run in &runs {
        println!("\n== {}", run.backend);
        for f in &run.figures {
            println!("{}", f.line());
        }
        for n in &run.notes {
            println!("  {n}");
        }
    }
    // The same, as the table docs/performance.md shows.
    println!(
        "\n| scenario | {} |",
        runs.iter()
            .map(|r| r.backend)
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}", "---|".repeat(runs.len()));
    if let Some(first) = runs.first() {
        for (i, f) in first.figures.iter().enumerate() {
            let cells: Vec<String> = runs
                .iter()
                .map(|r| {
                    let f = &r.figures[i];
                    let ratio = f
                        .against
                        .map(|(_, x)| format!(" (**{:.0} %**)", x * 100.0))
                        .unwrap_or_default();
                    format!(
                        "{:.0}/s{ratio}, p50 {:.1} ms, p99 {:.1} ms, peak RSS {:.0} MB, {} threads",
                        f.per_second,
                        f.p50_ms,
                        f.p99_ms,
                        mb(f.peak.rss_kb),
                        f.peak.threads
                    )
                })
                .collect();
            println!("| {} | {} |", f.name, cells.join(" | "));
        }
    }
}
