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
        Some(&row.password_hash)
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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
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
        let out = motcua(&db).arg("demo").output().unwrap();
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
