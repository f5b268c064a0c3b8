//! The binary itself: configuration errors name the key, create-user reads stdin, serve
//! answers /readyz and stops cleanly on SIGTERM.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::*;

/// The built binary, configured by environment only, working in the test's folder.
pub fn motcua(db: &TestDb) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_motcua"));
    cmd.current_dir(db.dir())
        .env(
            "MOTCUA_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
        )
        .env("MOTCUA_ENV", "test")
        .env("MOTCUA__DATABASE__URL", &db.url)
        .env("MOTCUA__AUTH__JWT_SECRET", JWT_SECRET)
        .env(
            "MOTCUA__CALENDAR__DATA_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config/calendars"),
        )
        .env("RUST_LOG", "warn");
    cmd
}

/// A port nothing listens on now, for `motcua serve`.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn configuration_errors_name_the_key() {
    let db = TestDb::new(Backend::Sqlite);
    let cases: [(&str, &str, &str); 4] = [
        ("MOTCUA__SERVER__PORT", "not-a-port", "port"),
        (
            "MOTCUA__DATABASE__URL",
            "mysql://localhost/x",
            "database.url",
        ),
        (
            "MOTCUA__AGENCY__TIMEZONE",
            "Mars/Olympus",
            "agency.timezone",
        ),
        ("MOTCUA__AUTH__JWT_SECRET", "short", "auth.jwt_secret"),
    ];
    for (key, value, named) in cases {
        let out = motcua(&db).env(key, value).arg("migrate").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{key}={value} was accepted");
        assert!(stderr.contains(named), "{key}={value}: {stderr}");
    }
    // Outside dev, a missing secret is an error naming the key; the URL's secret never shows.
    let out = motcua(&db)
        .env_remove("MOTCUA__AUTH__JWT_SECRET")
        .env("MOTCUA_ENV", "production")
        .arg("migrate")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("auth.jwt_secret"),
        "{stderr}"
    );
}

#[test]
fn create_user_reads_the_password_from_stdin() {
    let db = TestDb::new(Backend::Sqlite);
    let mut child = motcua(&db)
        .args([
            "create-user",
            "--username",
            "clerk9",
            "--role",
            "clerk",
            "--email",
            "c9@example.test",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"counter-password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let pool = motcua::db::connect(&db.url, 1, Default::default()).unwrap();
    let mut conn = pool.get().unwrap();
    let row = motcua::db::users::find_user_by_username(&mut conn, "clerk9")
        .unwrap()
        .unwrap();
    assert_eq!(row.role, "clerk");
    assert!(motcua::auth::verify_password(
        "counter-password",
        &row.password_hash
    ));

    // Without --password-stdin the command refuses (no password on the command line).
    let out = motcua(&db)
        .args(["create-user", "--username", "x", "--role", "clerk"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn serve_answers_readyz_and_stops_on_sigterm() {
    let db = TestDb::new(Backend::Sqlite);
    let port = free_port();
    let child = motcua(&db)
        .env("MOTCUA__SERVER__PORT", port.to_string())
        .env("MOTCUA__BOOTSTRAP__ADMIN_PASSWORD", "bootstrap-password")
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let ready = loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Read;
            s.write_all(b"GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n")
                .unwrap();
            let mut resp = String::new();
            s.read_to_string(&mut resp).unwrap();
            break resp;
        }
        assert!(Instant::now() < deadline, "serve did not start");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(ready.starts_with("HTTP/1.0 200"), "{ready}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "serve exited with {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );

    // The bootstrap admin exists.
    let pool = motcua::db::connect(&db.url, 1, Default::default()).unwrap();
    let mut conn = pool.get().unwrap();
    assert!(
        motcua::db::users::find_user_by_username(&mut conn, "admin")
            .unwrap()
            .is_some()
    );
}

#[test]
fn demo_refuses_outside_dev_without_the_flag() {
    let db = TestDb::new(Backend::Sqlite);
    assert!(motcua(&db).arg("migrate").status().unwrap().success());
    let out = motcua(&db).arg("demo").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "demo ran outside dev");
    assert!(stderr.contains("--with-published-passwords"), "{stderr}");
    let pool = motcua::db::connect(&db.url, 1, Default::default()).unwrap();
    let mut conn = pool.get().unwrap();
    assert_eq!(motcua::db::users::count_users(&mut conn).unwrap(), 0);
    drop(conn);

    let out = motcua(&db)
        .args(["demo", "--with-published-passwords"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(motcua::db::users::count_users(&mut pool.get().unwrap()).unwrap() > 1);
}

/// `motcua serve` configured by environment only, driven over HTTP as a user would: after
/// look-ups by every route that takes a key (query, JSON body, the page and its form, form 01's
/// `?key=`), the key is nowhere in the server's log, at debug level, while the look-ups are.
#[actix_web::test]
async fn the_lookup_key_never_reaches_the_log() {
    let db = TestDb::new(Backend::Sqlite);
    let port = free_port();
    let log_path = db.dir().join("serve.log");
    let mut child = motcua(&db)
        .env("MOTCUA__SERVER__PORT", port.to_string())
        .env("MOTCUA__BOOTSTRAP__ADMIN_PASSWORD", "bootstrap-password")
        .env("MOTCUA__STORAGE__DIR", db.dir().join("files"))
        .env("RUST_LOG", "debug")
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = awc::Client::default();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(format!("{base}/readyz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "serve did not start");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let post = |path: &str, token: Option<&str>, body: serde_json::Value| {
        let mut req = client.post(format!("{base}{path}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let mut r = req.send_json(&body).await.unwrap();
            let status = r.status().as_u16();
            let value: serde_json::Value =
                serde_json::from_slice(&r.body().await.unwrap()).unwrap_or_default();
            (status, value)
        }
    };
    let (_, login) = post(
        "/api/v1/auth/login",
        None,
        serde_json::json!({"username": "admin", "password": "bootstrap-password"}),
    )
    .await;
    let token = login["access_token"].as_str().unwrap().to_owned();
    let unit = serde_json::json!({"code": "U1", "name": "Phòng U1", "email": "u1@example.test"});
    assert_eq!(post("/api/v1/units", Some(&token), unit).await.0, 201);
    let procedure = test_procedure("P1", "pause", 1);
    assert_eq!(
        post("/api/v1/procedures", Some(&token), procedure).await.0,
        201
    );
    let (status, d) = post(
        "/api/v1/dossiers",
        Some(&token),
        dossier_body("P1", "direct"),
    )
    .await;
    assert_eq!(status, 201, "{d}");
    let code = d["code"].as_str().unwrap().to_owned();
    let key = d["lookup_key"].as_str().unwrap().to_owned();

    let q = format!("code={code}&key={key}");
    for path in [
        format!("/api/v1/public/lookup?{q}"),
        format!("/tra-cuu?{q}"),
        format!("/api/v1/dossiers/{code}/forms/01?key={key}"),
        format!("/api/v1/public/lookup?code=NOPE-1&key={key}"),
    ] {
        let r = client
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(r.status().as_u16() < 500, "{path}: {}", r.status());
    }
    let (status, found) = post(
        "/api/v1/public/lookup",
        None,
        serde_json::json!({"code": code, "key": key}),
    )
    .await;
    assert_eq!(status, 200, "{found}");
    let form = client
        .post(format!("{base}/tra-cuu"))
        .send_form(&[("code", code.as_str()), ("key", key.as_str())])
        .await
        .unwrap();
    assert_eq!(form.status(), 200);

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert!(child.wait().unwrap().success());
    let log = std::fs::read_to_string(&log_path).unwrap();
    let lookups = log.matches("public lookup").count();
    assert!(
        lookups >= 5,
        "the capture misses the look-ups ({lookups}):\n{log}"
    );
    assert!(log.contains(&code), "the dossier code is logged for audit");
    for spelling in [key.clone(), key.to_lowercase()] {
        let leaks: Vec<&str> = log.lines().filter(|l| l.contains(&spelling)).collect();
        assert!(
            leaks.is_empty(),
            "the key {spelling} is in the log:\n{}",
            leaks.join("\n")
        );
    }
}

#[test]
fn demo_is_safe_to_run_twice() {
    let db = TestDb::new(Backend::Sqlite);
    let count = || {
        let pool = motcua::db::connect(&db.url, 1, Default::default()).unwrap();
        let mut conn = pool.get().unwrap();
        let (_, total) = motcua::db::dossiers::list(
            &mut conn,
            &motcua::db::dossiers::DossierFilter::default(),
            0,
            1,
        )
        .unwrap();
        total
    };
    let mut said = Vec::new();
    let mut totals = Vec::new();
    for _ in 0..2 {
        let out = motcua(&db)
            .args(["demo", "--with-published-passwords"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        said.push(String::from_utf8_lossy(&out.stdout).into_owned());
        totals.push(count());
    }
    assert_eq!(totals, vec![13, 13], "{said:?}");
    assert!(
        said[0].contains("13 dossiers in every state (13 new)"),
        "{}",
        said[0]
    );
    assert!(
        said[1].contains("(0 new or changed)") && said[1].contains("(0 new)"),
        "{}",
        said[1]
    );
}
