//! The printed forms to the letter of Thông tư 01/2018 and 01/2023 (issue 14): form 01's
//! appointment, duration and lookup link, full names, the event's date, no "Ngày … ngày",
//! the rejection signed by the handling authority, the control slip's header and giao/nhận
//! pairs, the QR code at the top left with the document's name, and the TT 03/2025 numbering
//! for dossiers under Nghị định 118/2025.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::backend_test;
use crate::documents::decode_qr;
use crate::helpers::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// A user with a full name unlike the username; answers a token.
async fn person(
    app: &TestApp,
    username: &str,
    full_name: &str,
    role: &str,
    unit: Option<&str>,
) -> String {
    let password = format!("{username}-password");
    app.post(
        "/api/v1/users",
        Some(&app.admin_token),
        &json!({"username": username, "password": password, "full_name": full_name,
                "role": role, "unit_code": unit}),
    )
    .await
    .expect(201);
    app.login(username, &password).await
}

async fn form(app: &TestApp, token: &str, code: &str, n: &str) -> String {
    app.get(&format!("/api/v1/dossiers/{code}/forms/{n}"), Some(token))
        .await
        .expect(200)
        .text
        .replace("&#x2f;", "/")
}

/// No "Ngày 09 giờ …" (a date word before a time that brings its own "ngày").
#[track_caller]
fn no_doubled_date(html: &str) {
    let lower = html.to_lowercase();
    for (i, _) in lower.match_indices("ngày ") {
        let rest = &lower[i + "ngày ".len()..];
        let doubled = rest.len() > 6
            && rest.as_bytes()[..2].iter().all(u8::is_ascii_digit)
            && rest[2..].starts_with(" giờ");
        assert!(
            !doubled,
            "doubled date at {}",
            &html[i.saturating_sub(20)..(i + 40).min(html.len())]
        );
    }
}

/// The QR code is the first thing of the header, left of the agency's name.
#[track_caller]
fn qr_top_left(html: &str) {
    let head = html.find(r#"<div class="head">"#).expect("header");
    let qr = html.find(r#"<div class="qr"><svg"#).expect("qr");
    let agency = html.find(r#"<div class="agency">"#).expect("agency");
    assert!(head < qr && qr < agency, "the QR code opens the header");
}

backend_test!(forms_print_what_the_rules_say, |app| {
    let o = app.office().await;
    let clerk = person(&app, "tiepnhan", "Nguyễn Thị Tiếp Nhận", "clerk", None).await;
    let officer = person(
        &app,
        "chuyenvien",
        "Lê Văn Thẩm Định",
        "officer",
        Some("U1"),
    )
    .await;
    let leader = person(
        &app,
        "truongphong",
        "Phạm Thị Trưởng Phòng",
        "leader",
        Some("U1"),
    )
    .await;
    // P1 at 8 working days, 5 when filed online.
    let mut p = test_procedure("P1", "pause", 1);
    p["duration"] = json!({"value": 8, "unit": "working_days"});
    p["online_duration"] = json!({"value": 5, "unit": "working_days"});
    app.request(
        actix_web::http::Method::PUT,
        "/api/v1/procedures/P1",
        Some(&app.admin_token),
        Some(&p),
    )
    .await
    .expect(200);

    // Online filing: no form 01 before it is received.
    let filed = app
        .post(
            "/api/v1/dossiers",
            Some(&o.portal),
            &dossier_body("P1", "online"),
        )
        .await
        .expect(201);
    let online = filed.body["code"].as_str().unwrap().to_owned();
    app.get(&format!("/api/v1/dossiers/{online}/forms/01"), Some(&clerk))
        .await
        .expect_problem(409, "form.not_applicable");
    app.clock.set(at("2025-03-03T10:00:00+07:00"));
    app.act(&clerk, &online, "accept", json!({}))
        .await
        .expect(200);
    let f01 = form(&app, &clerk, &online, "01").await;
    // The online duration, its due time (Mon 10/03 10:00), the clerk's full name, the date of receipt.
    assert!(f01.contains("5 ngày làm việc (nộp trực tuyến)"), "{f01}");
    assert!(f01.contains("10 giờ 00 phút, ngày 10/03/2025"), "{f01}");
    assert!(
        f01.contains("Nguyễn Thị Tiếp Nhận") && !f01.contains(">tiepnhan<"),
        "{f01}"
    );
    assert!(f01.contains("ngày 03 tháng 03 năm 2025"));
    // The lookup link follows the address this request reached (public.base_url unset).
    assert!(f01.contains(&format!("{}/tra-cuu", app.base)), "{f01}");
    assert!(!f01.contains(":8080"), "{f01}");
    qr_top_left(&f01);
    assert_eq!(
        decode_qr(&f01),
        format!("{online}|P1|0108000001|Giấy tiếp nhận hồ sơ và hẹn trả kết quả")
    );
    assert!(f01.contains("Mẫu số 01 — Thông tư số 01/2018/TT-VPCP"));

    // A counter dossier through the workflow, with an apology and a rejection.
    app.clock.set(at("2025-03-03T09:00:00+07:00"));
    let code = app.receive_code(&clerk, "P1").await;
    app.act(&clerk, &code, "transfer", json!({}))
        .await
        .expect(200);
    app.clock.set(at("2025-03-04T09:00:00+07:00"));
    app.act(&officer, &code, "forward", json!({"note": "Trình ký"}))
        .await
        .expect(200);
    app.clock.set(at("2025-03-07T09:00:00+07:00"));
    app.act(
        &leader,
        &code,
        "apologize",
        json!({"reasons": "Chờ ý kiến Sở Xây dựng", "new_due_at": "2025-03-17T09:00:00+07:00"}),
    )
    .await
    .expect(200);
    // Form 01 keeps the legal appointment (Thu 13/03), never the apology's (17/03).
    let f01 = form(&app, &clerk, &code, "01").await;
    assert!(f01.contains("09 giờ 00 phút, ngày 13/03/2025"), "{f01}");
    assert!(!f01.contains("17/03/2025"), "{f01}");
    assert!(f01.contains("8 ngày làm việc") && !f01.contains("nộp trực tuyến"));
    let f04 = form(&app, &clerk, &code, "04").await;
    assert!(
        f04.contains("Phạm Thị Trưởng Phòng") && f04.contains("ngày 07 tháng 03 năm 2025"),
        "{f04}"
    );
    assert!(
        f04.contains("Phòng U1"),
        "signed for the handling unit: {f04}"
    );
    app.clock.set(at("2025-03-10T15:00:00+07:00"));
    app.act(
        &leader,
        &code,
        "reject",
        json!({"reasons": ["Không phù hợp quy hoạch"]}),
    )
    .await
    .expect(200);
    let f03 = form(&app, &clerk, &code, "03").await;
    assert!(
        f03.contains("THỦ TRƯỞNG CƠ QUAN GIẢI QUYẾT") && !f03.contains("NGƯỜI TIẾP NHẬN HỒ SƠ"),
        "{f03}"
    );
    assert!(
        f03.contains("Phạm Thị Trưởng Phòng") && f03.contains("ngày 10 tháng 03 năm 2025"),
        "{f03}"
    );
    assert_eq!(
        decode_qr(&f03),
        format!("{code}|P1|0108000001|Phiếu từ chối tiếp nhận giải quyết hồ sơ")
    );
    app.act(&clerk, &code, "deliver", json!({"method": "counter"}))
        .await
        .expect(200);
    // The control slip: header fields, and each hand-over as giao / nhận with both people.
    let f05 = form(&app, &clerk, &code, "05").await;
    for needle in [
        "Kèm theo hồ sơ của: <b>Công ty TNHH Thử Nghiệm</b>",
        "Ngày nhận hồ sơ: 09 giờ 00 phút, ngày 03/03/2025",
        "Ngày hẹn trả kết quả: 09 giờ 00 phút, ngày 13/03/2025",
        "1. Giao: Bộ phận Một cửa<br>2. Nhận: Phòng U1",
        "1. Giao: Phòng U1<br>2. Nhận: Bộ phận Một cửa",
        "Người giao<br><span style=\"font-weight:normal\">Nguyễn Thị Tiếp Nhận</span>",
        "Người nhận<br><span style=\"font-weight:normal\">Lê Văn Thẩm Định</span>",
        "Người nhận<br><span style=\"font-weight:normal\">Công ty TNHH Thử Nghiệm</span>",
        "Trình ký",
    ] {
        assert!(f05.contains(needle), "form 05 lacks {needle}: {f05}");
    }
    for html in [&f01, &f03, &f04, &f05] {
        no_doubled_date(html);
        qr_top_left(html);
    }
    app.get(&format!("/api/v1/dossiers/{code}/forms/06"), Some(&clerk))
        .await
        .expect_problem(404, "form.not_found");

    // On the spot (issues_appointment = false): no appointment on form 01.
    let mut spot = test_procedure("P9", "pause", 1);
    spot["issues_appointment"] = json!(false);
    app.post("/api/v1/procedures", Some(&app.admin_token), &spot)
        .await
        .expect(201);
    let spot_code = app.receive_code(&clerk, "P9").await;
    let f = form(&app, &clerk, &spot_code, "01").await;
    assert!(
        f.contains("thủ tục không hẹn ngày trả") && !f.contains("<b>10 giờ"),
        "{f}"
    );

    // A 2024 paper dossier entered now: its form 01 is dated 2024, not today.
    let mut body = dossier_body("P1", "direct");
    body["received_at"] = json!("2024-06-12T14:00:00+07:00");
    let paper = app
        .post("/api/v1/dossiers", Some(&app.admin_token), &body)
        .await
        .expect(201);
    let f = form(&app, &clerk, paper.body["code"].as_str().unwrap(), "01").await;
    assert!(f.contains("ngày 12 tháng 06 năm 2024"), "{f}");
    no_doubled_date(&f);
});

backend_test!(
    dossiers_under_decree_118_print_the_circular_03_2025_numbers,
    settings = |s| s.public.base_url = Some("https://motcua.example.gov.vn/".into()),
    |app| {
        let o = app.office().await;
        // Received 16/09/2025: rule regime nd118_2025.
        app.clock.set(at("2025-09-16T09:00:00+07:00"));
        let code = app.receive_code(&o.clerk, "P1").await;
        let d: Value = app
            .get(&format!("/api/v1/dossiers/{code}"), Some(&o.clerk))
            .await
            .expect(200)
            .body;
        assert_eq!(d["rule_regime"], "nd118_2025");
        let f01 = form(&app, &o.clerk, &code, "01").await;
        assert!(
            f01.contains("Mẫu số 01 — Thông tư số 03/2025/TT-VPCP"),
            "{f01}"
        );
        // public.base_url set: the link is that one.
        assert!(
            f01.contains("https://motcua.example.gov.vn/tra-cuu"),
            "{f01}"
        );
        let f06 = form(&app, &o.clerk, &code, "06").await;
        assert!(f06.contains("Phiếu kiểm soát quá trình giải quyết hồ sơ"));
        assert!(f06.contains("Mẫu số 06 — Thông tư số 03/2025/TT-VPCP"));
        // 05 is the stop notice: only for a stopped dossier.
        app.get(&format!("/api/v1/dossiers/{code}/forms/05"), Some(&o.clerk))
            .await
            .expect_problem(409, "form.not_applicable");
        app.act(&o.clerk, &code, "transfer", json!({}))
            .await
            .expect(200);
        app.act(&o.clerk, &code, "request_withdrawal", json!({}))
            .await
            .expect(200);
        app.clock.set(at("2025-09-17T10:00:00+07:00"));
        app.act(
            &o.leader,
            &code,
            "stop",
            json!({"reasons": ["Công dân rút hồ sơ"]}),
        )
        .await
        .expect(200);
        let f05 = form(&app, &o.clerk, &code, "05").await;
        assert!(
            f05.contains("Thông báo dừng giải quyết hồ sơ") && f05.contains("Công dân rút hồ sơ"),
            "{f05}"
        );
        assert!(
            f05.contains("rút hồ sơ") && f05.contains("ngày 17 tháng 09 năm 2025"),
            "{f05}"
        );
        assert!(decode_qr(&f05).ends_with("|Thông báo dừng giải quyết hồ sơ"));
        let f04 = app
            .get(&format!("/api/v1/dossiers/{code}/forms/07"), Some(&o.clerk))
            .await;
        f04.expect_problem(404, "form.not_found");
        // The lookup shows the national label.
        let filed = app
            .post(
                "/api/v1/dossiers",
                Some(&o.portal),
                &dossier_body("P1", "online"),
            )
            .await
            .expect(201);
        assert_eq!(filed.body["status_label"], "Mới đăng ký");
    }
);
