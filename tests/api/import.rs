//! `motcua import dossiers FILE` through the built binary, against a running service's
//! database: a bad file names row and column and writes nothing; a good CSV (quoted fields)
//! and a JSON file import with the procedure version in force at each receipt; a second run
//! adds nothing; imported dossiers email nobody and raise no notice; the day's code sequence
//! moves past an imported code.

use serde_json::{Value, json};

use crate::backend_test;
use crate::cli::motcua;
use crate::helpers::*;

const HEADER: &str = "code,procedure_code,procedure_version,duration_value,duration_unit,channel,applicant_kind,applicant_name,applicant_id_number,applicant_phone,applicant_email,applicant_address,components,received_at,steps,resolved_at,outcome,result_reference,reasons,delivered_at,delivery_method,note";

fn run(app: &TestApp, file: &str, text: &str) -> (bool, String, String) {
    let path = app.db.dir().join(file);
    std::fs::write(&path, text).unwrap();
    let out = motcua(&app.db)
        .args(["import", "dossiers"])
        .arg(&path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn total(app: &TestApp, path: &str) -> u64 {
    app.get(path, Some(&app.admin_token)).await.expect(200).body["total"]
        .as_u64()
        .unwrap()
}

async fn dossier(app: &TestApp, code: &str) -> Value {
    app.get(&format!("/api/v1/dossiers/{code}"), Some(&app.admin_token))
        .await
        .expect(200)
        .body
}

backend_test!(
    paper_dossiers_import_whole_once_and_quietly,
    settings = |s| s.jobs.enabled = false,
    |app| {
        let o = app.office().await;
        // P1 v1 from Mon 03/03/2025 09:00 (5 working days); v2 (10 working days) from Wed 05/03.
        app.clock.set(
            chrono::DateTime::parse_from_rfc3339("2025-03-05T09:00:00+07:00")
                .unwrap()
                .to_utc(),
        );
        let mut v2 = test_procedure("P1", "pause", 1);
        v2["duration"] = json!({"value": 10, "unit": "working_days"});
        app.request(
            actix_web::http::Method::PUT,
            "/api/v1/procedures/P1",
            Some(&app.admin_token),
            Some(&v2),
        )
        .await
        .expect(200);
        let paper = "000.00.00.H00-240115-0007";
        let good = format!(
            "{HEADER}\n\
{paper},P1,,,,direct,organisation,Công ty CP Giấy Lương Sơn,5400123456,0218000001,giay@example.com,\"Số 1, KCN Lương Sơn\",TP01:original:1;TP02:copy:1,2024-01-15T08:30:00+07:00,B1@2024-01-15T14:00:00+07:00;B2@2024-01-18T09:00:00+07:00,2024-01-19T10:00:00+07:00,approved,15/GP-BQL,,2024-01-22T09:00:00+07:00,counter,\"Hồ sơ giấy, nhập lại\"\n\
PAPER-2025-17,P1,,,,postal,citizen,Nguyễn Văn Bưu,001090000001,,buu@example.com,,TP01;TP02,2025-03-06T09:00:00+07:00,,,,,,,,\n\
PAPER-2025-18,P1,,3,working_days,direct,citizen,Trần Thị Ngắn,001090000002,,,,TP01;TP02,2025-03-03T10:00:00+07:00,,,,,,,,\n"
        );
        // One bad row stops everything: the errors name row and column.
        let bad = good
            .replace("2025-03-06T09:00:00+07:00", "2025-13-45T09:00:00+07:00")
            .replace("PAPER-2025-18,P1,", "PAPER-2025-18,P404,");
        let (ok, _, err) = run(&app, "bad.csv", &bad);
        assert!(!ok, "{err}");
        assert!(err.contains("row 2, column received_at"), "{err}");
        assert!(err.contains("row 3, column procedure_code"), "{err}");
        assert!(!err.contains("row 1,"), "{err}");
        assert_eq!(total(&app, "/api/v1/dossiers").await, 0, "nothing written");

        let (ok, out, err) = run(&app, "paper.csv", &good);
        assert!(ok, "{err}");
        assert!(
            out.contains("3 dossier(s) read, 3 imported, 0 already present"),
            "{out}"
        );
        // Re-runnable: the same file again adds nothing.
        let (ok, out, err) = run(&app, "paper.csv", &good);
        assert!(ok, "{err}");
        assert!(
            out.contains("3 dossier(s) read, 0 imported, 3 already present"),
            "{out}"
        );
        assert_eq!(total(&app, "/api/v1/dossiers").await, 3);

        // The 2024 dossier: older than every version, so the first; replayed through its steps.
        let d = dossier(&app, paper).await;
        assert_eq!(d["state"], "delivered");
        assert_eq!(d["procedure"]["version"], 1);
        assert_eq!(d["applicant"]["address"], "Số 1, KCN Lương Sơn");
        assert_eq!(d["received_at"], "2024-01-15T08:30:00+07:00");
        assert_eq!(d["due_at"], "2024-01-22T08:30:00+07:00");
        assert_eq!(d["timeliness"], "early");
        assert_eq!(d["rule_regime"], "nd61_2018");
        let history = app
            .get(
                &format!("/api/v1/dossiers/{paper}/history"),
                Some(&app.admin_token),
            )
            .await
            .expect(200);
        let actions: Vec<&str> = history
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            ["receive", "transfer", "forward", "approve", "deliver"]
        );
        // Its form 01 is dated by its receipt, in 2024.
        let f01 = app
            .get(
                &format!("/api/v1/dossiers/{paper}/forms/01"),
                Some(&o.clerk),
            )
            .await
            .expect(200);
        assert!(
            f01.text.contains("ngày 15 tháng 01 năm 2024"),
            "{}",
            f01.text
        );
        // Received after v2 was made: v2's ten working days. An explicit duration wins.
        let postal = dossier(&app, "PAPER-2025-17").await;
        assert_eq!(postal["procedure"]["version"], 2);
        assert_eq!(postal["due_at"], "2025-03-20T09:00:00+07:00");
        assert_eq!(postal["state"], "received");
        let short = dossier(&app, "PAPER-2025-18").await;
        assert_eq!(short["procedure"]["version"], 1);
        assert_eq!(short["due_at"], "2025-03-06T10:00:00+07:00");

        // Nobody was emailed, and the overdue one raises no notice afterwards.
        app.clock.set(
            chrono::DateTime::parse_from_rfc3339("2025-03-10T09:00:00+07:00")
                .unwrap()
                .to_utc(),
        );
        let scan = {
            let mut conn = app.state.pool.get().unwrap();
            let cal = app.state.calendar.current(&mut conn).unwrap();
            motcua::jobs::watcher::scan(&mut conn, &cal, &app.state.templates, app.clock.now(), 2)
                .unwrap()
        };
        assert_eq!(scan, 0, "PAPER-2025-18 is overdue but was entered overdue");
        assert_eq!(total(&app, "/api/v1/notifications").await, 0);

        // JSON in the API's shape.
        let json_file = json!([{
            "code": "PAPER-J-1", "procedure_code": "P1", "channel": "online",
            "applicant": {"kind": "citizen", "name": "Phạm Văn Mạng"},
            "components": [{"item_code": "TP01", "kind": "electronic"}, {"item_code": "TP02", "kind": "electronic"}],
            "received_at": "2025-03-04T08:00:00+07:00",
            "steps": [{"step": "B1", "at": "2025-03-04T09:00:00+07:00"}],
            "resolved_at": "2025-03-07T10:00:00+07:00", "outcome": "rejected", "reasons": ["Không đủ điều kiện"]
        }]);
        let (ok, out, err) = run(&app, "paper.json", &json_file.to_string());
        assert!(ok, "{err}");
        assert!(out.contains("1 dossier(s) read, 1 imported"), "{out}");
        let j = dossier(&app, "PAPER-J-1").await;
        assert_eq!(
            (j["state"].as_str(), j["outcome"].as_str()),
            (Some("resolved"), Some("rejected"))
        );
        let (ok, _, err) = run(
            &app,
            "typo.json",
            r#"[{"code": "X-1", "procedure_code": "P1", "channel": "direct", "applicant": {"kind": "citizen", "name": "A"}, "recieved_at": "2025-03-04T08:00:00+07:00"}]"#,
        );
        assert!(!ok);
        assert!(err.contains("row 1, column recieved_at"), "{err}");

        // A code of the agency's own shape moves that day's sequence past it.
        let mut body = dossier_body("P1", "direct");
        body["received_at"] = json!("2024-01-15T15:00:00+07:00");
        let back = app
            .post("/api/v1/dossiers", Some(&app.admin_token), &body)
            .await
            .expect(201);
        assert_eq!(back.body["code"], "000.00.00.H00-240115-0008");
    }
);
