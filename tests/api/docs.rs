//! The docs run: the README's quick start and `docs/walkthrough.md` are executed as written,
//! against the built binary, and each answer shown in a `json` block right after a `sh`
//! block is compared with what that block printed.
//!
//! How the snippets are run: every `sh` block, in order, in one `bash` session (`set -e`), in
//! a fresh folder (so a fresh SQLite database), with three stand-ins a reader does not need:
//! `cargo run [--release] -- ARGS` runs the binary under test; `… -- serve` runs it in the
//! background and returns once it answers (a reader leaves it in its own terminal); and the
//! snippets' `127.0.0.1:8080` is this test's free port. The folder has no `config/`, so
//! `MOTCUA_CONFIG_DIR` and `calendar.data_dir` point at the repository's.
//!
//! How answers are compared: a `json` block holds one JSON value per answer printed. `…`
//! stands for left-out fields or items and `"…"` for any value; otherwise every field shown
//! must be in the answer with that value (fields not shown are not checked).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const MARK: &str = "@@docs-run block ";

/// The fenced blocks of `markdown` (language, body), from the heading `section` to the next
/// heading of the same level (the whole file when `None`).
fn blocks(markdown: &str, section: Option<&str>) -> Vec<(String, String)> {
    let text = match section {
        None => markdown.to_owned(),
        Some(heading) => {
            let start = markdown
                .find(&format!("\n{heading}\n"))
                .unwrap_or_else(|| panic!("no section {heading}"));
            let level = heading.split(' ').next().unwrap_or("##");
            let rest = &markdown[start + heading.len() + 2..];
            let end = rest.find(&format!("\n{level} ")).unwrap_or(rest.len());
            rest[..end].to_owned()
        }
    };
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(lang)) => current = Some((lang.trim().to_owned(), String::new())),
            (Some(_), Some("")) => out.extend(current.take()),
            (Some((_, body)), _) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(current.is_none(), "unclosed code block");
    out
}

/// Drops the elisions (`…` outside strings) and the comma each leaves dangling.
fn strip_elisions(text: &str) -> String {
    let mut out = String::new();
    let (mut in_string, mut escaped, mut skip_comma) = (false, false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '…' {
            // `a, …}` loses the comma before it, `[…, b]` the one after.
            let kept = out.trim_end().len();
            if out[..kept].ends_with(',') {
                out.truncate(kept - 1);
            } else {
                skip_comma = true;
            }
        } else if skip_comma && c == ',' {
            skip_comma = false;
        } else {
            if !c.is_whitespace() {
                skip_comma = false;
            }
            if c == '"' {
                in_string = true;
            }
            out.push(c);
        }
    }
    out
}

fn json_stream(text: &str) -> Result<Vec<Value>, serde_json::Error> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect()
}

/// Whether `actual` shows everything `expected` does (see the module comment).
fn shows(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(s), _) if s == "…" => true,
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| shows(v, av))),
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| shows(e, a))
        }
        _ => expected == actual,
    }
}

const PREAMBLE: &str = r#"set -euo pipefail
cargo() {
  case "${1:-}" in
    run) shift ;;
    *) echo "docs-run: only 'cargo run' is run here, not 'cargo $*'" >&2; return 1 ;;
  esac
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do shift; done
  [ "${1:-}" = "--" ] && shift
  if [ "${1:-}" = serve ]; then
    "$MOTCUA_BIN" "$@" 2>>"$DOCS_RUN_DIR/serve.log" &
    echo $! > "$DOCS_RUN_DIR/serve.pid"
    for _ in $(seq 600); do
      curl -sf -o /dev/null "http://127.0.0.1:$MOTCUA__SERVER__PORT/healthz" && return 0
      kill -0 "$(cat "$DOCS_RUN_DIR/serve.pid")" 2>/dev/null || { echo "docs-run: serve exited" >&2; return 1; }
      sleep 0.1
    done
    echo "docs-run: serve did not start" >&2; return 1
  fi
  "$MOTCUA_BIN" "$@"
}
stop_serve() {
  if [ -f "$DOCS_RUN_DIR/serve.pid" ]; then
    pid=$(cat "$DOCS_RUN_DIR/serve.pid"); rm "$DOCS_RUN_DIR/serve.pid"
    kill -TERM "$pid"; wait "$pid" || { echo "docs-run: serve did not stop cleanly" >&2; exit 1; }
  fi
}
trap stop_serve EXIT
"#;

fn run_doc(file: &str, section: Option<&str>) {
    for tool in ["bash", "curl", "jq"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        assert!(found, "the docs run needs `{tool}` on PATH");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let markdown = std::fs::read_to_string(root.join(file)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut script = PREAMBLE.to_owned();
    let mut expected: Vec<Option<String>> = Vec::new();
    for (lang, body) in blocks(&markdown, section) {
        match lang.as_str() {
            "sh" => {
                // On a line of its own: `curl -s` answers end without a newline.
                script.push_str(&format!("printf '\\n{MARK}{}@@\\n'\n", expected.len()));
                script.push_str(&body.replace("127.0.0.1:8080", &format!("127.0.0.1:{port}")));
                expected.push(None);
            }
            "json" => {
                let last = expected
                    .last_mut()
                    .unwrap_or_else(|| panic!("{file}: a json block before any sh block"));
                assert!(last.is_none(), "{file}: two json blocks after one sh block");
                *last = Some(body);
            }
            other => panic!("{file}: a `{other}` block; the docs run knows sh and json"),
        }
    }
    assert!(
        expected.iter().any(Option::is_some),
        "{file}: nothing to compare"
    );

    let dir = tempdir();
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&dir)
        .env("MOTCUA_BIN", env!("CARGO_BIN_EXE_motcua"))
        .env("DOCS_RUN_DIR", &dir)
        .env("MOTCUA_CONFIG_DIR", root.join("config"))
        .env("MOTCUA__CALENDAR__DATA_DIR", root.join("config/calendars"))
        .env("MOTCUA__SERVER__PORT", port.to_string())
        // A back-entered dossier is overdue by today's clock until it is resolved; the
        // walkthrough passes through that state in seconds, and no scan may fall in between.
        .env("MOTCUA__JOBS__WATCH_INTERVAL_SECONDS", "3600")
        .env("RUST_LOG", "warn")
        .env_remove("MOTCUA_ENV")
        .env_remove("MOTCUA__DATABASE__URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            if let Ok(pid) = std::fs::read_to_string(dir.join("serve.pid")) {
                let _ = Command::new("kill").arg(pid.trim()).status();
            }
            panic!("{file}: the docs run did not finish");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let log = std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default();
    assert!(
        out.status.success(),
        "{file}: the commands failed ({})\nstdout:\n{stdout}\nstderr:\n{stderr}\nserve log:\n{log}",
        out.status
    );

    let mut printed: Vec<String> = vec![String::new(); expected.len()];
    let mut current = None;
    for line in stdout.lines() {
        if let Some(n) = line.strip_prefix(MARK).and_then(|r| r.strip_suffix("@@")) {
            current = n.parse::<usize>().ok();
        } else if let Some(i) = current {
            printed[i].push_str(line);
            printed[i].push('\n');
        }
    }
    for (i, want) in expected.iter().enumerate() {
        let Some(want) = want else { continue };
        let shown = json_stream(&strip_elisions(want)).unwrap_or_else(|e| {
            panic!("{file}, block {i}: the json block does not parse: {e}\n{want}")
        });
        let got = json_stream(&printed[i]).unwrap_or_else(|e| {
            panic!(
                "{file}, block {i}: printed something else than JSON ({e}):\n{}",
                printed[i]
            )
        });
        assert_eq!(
            shown.len(),
            got.len(),
            "{file}, block {i}: {} answers shown, {} printed:\n{}",
            shown.len(),
            got.len(),
            printed[i]
        );
        for (s, g) in shown.iter().zip(&got) {
            assert!(
                shows(s, g),
                "{file}, block {i}: the page shows\n{s}\nbut the service answered\n{g}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("motcua-docs-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn readme_quick_start_runs_as_written() {
    run_doc("README.md", Some("## Quick start"));
}

#[test]
fn walkthrough_runs_as_written() {
    run_doc("docs/walkthrough.md", None);
}

#[test]
fn answers_are_compared_field_by_field() {
    let shown = json_stream(&strip_elisions(
        r#"{"code": "X", "key": "…", "list": [1, 2], …}
           {"a": {"b": true, …}}"#,
    ))
    .unwrap();
    let got = json_stream(
        r#"{"code": "X", "key": "ABC234", "list": [1, 2], "more": 1} {"a": {"b": true, "c": 0}}"#,
    )
    .unwrap();
    assert!(shows(&shown[0], &got[0]) && shows(&shown[1], &got[1]));
    let wrong = json_stream(r#"{"code": "Y", "key": "ABC234", "list": [1, 2]}"#).unwrap();
    assert!(!shows(&shown[0], &wrong[0]));
    let short = json_stream(r#"{"code": "X", "key": 1, "list": [1]}"#).unwrap();
    assert!(!shows(&shown[0], &short[0]));
    let missing = json_stream(r#"{"code": "X", "list": [1, 2]}"#).unwrap();
    assert!(
        !shows(&shown[0], &missing[0]),
        "a field shown must be there"
    );
}
