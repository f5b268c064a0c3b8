//! Digitised documents: uploads streamed to content-addressed storage, downloads, limits,
//! reuse, digitisation status, and the printable forms with their QR code.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::backend_test;
use crate::helpers::*;

async fn upload(
    app: &TestApp,
    token: &str,
    code: &str,
    item: &str,
    content_type: &str,
    bytes: &[u8],
    meta: &[(&str, &str)],
) -> Response {
    let mut parts: Vec<(&str, Option<&str>, &str, &[u8])> = meta
        .iter()
        .map(|(k, v)| (*k, None, "text/plain", v.as_bytes()))
        .collect();
    parts.push(("file", Some("../../etc/passwd"), content_type, bytes));
    let (ct, body) = multipart(&parts);
    let mut resp = app
        .client
        .post(format!(
            "{}/api/v1/dossiers/{code}/components/{item}/files",
            app.base
        ))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Content-Type", ct))
        .send_body(body)
        .await
        .unwrap();
    let bytes = resp.body().limit(1 << 20).await.unwrap();
    Response {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Files at their content address (not temporary ones).
fn stored_files(app: &TestApp) -> usize {
    let root = app.db.dir().join("files");
    let mut n = 0;
    for a in std::fs::read_dir(&root).unwrap() {
        let a = a.unwrap().path();
        if a.file_name().unwrap().len() != 2 {
            continue;
        }
        for b in std::fs::read_dir(a).unwrap() {
            n += std::fs::read_dir(b.unwrap().path()).unwrap().count();
        }
    }
    n
}

fn pdf(len: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    b.extend((0..len).map(|i| (i * 31 % 251) as u8));
    b
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake png body";

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

backend_test!(
    upload_then_download_gives_the_same_bytes_and_digitisation_follows,
    |app| {
        let o = app.office().await;
        let code = app.receive_code(&o.clerk, "P1").await;
        let bytes = pdf(300_000);
        let up = upload(
            &app,
            &o.clerk,
            &code,
            "TP01",
            "application/pdf",
            &bytes,
            &[
                ("document_number", "123/QĐ-UBND"),
                ("issue_date", "2024-05-02"),
                ("issuer", "UBND tỉnh"),
            ],
        )
        .await
        .expect(201);
        assert_eq!(up.body["sha256"], hex(&bytes));
        assert_eq!(up.body["size"], bytes.len());
        assert_eq!(up.body["media_type"], "application/pdf");
        assert_eq!(up.body["document_number"], "123/QĐ-UBND");
        assert_eq!(up.body["digitised_by"], "clerk1");
        // Stored by its hash, never by the name the client sent.
        let on_disk = app.state.store.path_of(&hex(&bytes)).unwrap();
        assert_eq!(std::fs::read(&on_disk).unwrap(), bytes);
        assert!(!app.db.dir().join("files").join("etc").exists());

        let mut resp = app
            .client
            .get(format!(
                "{}/api/v1/dossiers/{code}/components/TP01/files/{}",
                app.base,
                hex(&bytes)
            ))
            .insert_header(("Authorization", format!("Bearer {}", o.viewer)))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers().get("content-type").unwrap(),
            "application/pdf"
        );
        // Streamed with its length; a PDF may open in the browser, never sniffed or cached.
        let h = |name: &str| {
            resp.headers()
                .get(name)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(h("content-length"), bytes.len().to_string());
        assert_eq!(
            h("content-disposition"),
            format!("inline; filename=\"{}.pdf\"", hex(&bytes))
        );
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert_eq!(h("cache-control"), "no-store");
        let got = resp.body().limit(10 << 20).await.unwrap();
        assert_eq!(hex(&got), hex(&bytes));

        let files = app
            .get(&format!("/api/v1/dossiers/{code}/files"), Some(&o.clerk))
            .await
            .expect(200);
        assert_eq!(files.body["digitised"], false);
        assert_eq!(files.body["missing"], json!(["TP02"]));
        upload(&app, &o.officer, &code, "TP02", "image/png", PNG, &[])
            .await
            .expect(201);
        let files = app
            .get(&format!("/api/v1/dossiers/{code}/files"), Some(&o.clerk))
            .await
            .expect(200);
        assert_eq!(files.body["digitised"], true);
        assert_eq!(files.body["files"].as_array().unwrap().len(), 2);
        let d = app
            .get(&format!("/api/v1/dossiers/{code}"), Some(&o.clerk))
            .await
            .expect(200);
        assert_eq!(d.body["digitised"], true);
        // The same file twice on one component is refused.
        upload(&app, &o.clerk, &code, "TP02", "image/png", PNG, &[])
            .await
            .expect_problem(409, "file.exists");
        app.get(
            &format!(
                "/api/v1/dossiers/{code}/components/TP01/files/{}",
                "0".repeat(64)
            ),
            Some(&o.clerk),
        )
        .await
        .expect_problem(404, "file.not_found");
    }
);

backend_test!(
    oversize_wrong_type_and_failed_transactions_leave_nothing,
    |app| {
        let o = app.office().await;
        let code = app.receive_code(&o.clerk, "P1").await;
        let max = app.state.settings.storage.max_upload_bytes as usize;
        upload(
            &app,
            &o.clerk,
            &code,
            "TP01",
            "application/pdf",
            &pdf(max + 10),
            &[],
        )
        .await
        .expect_problem(413, "file.too_large");
        upload(
            &app,
            &o.clerk,
            &code,
            "TP01",
            "application/pdf",
            b"<html>not a pdf</html>",
            &[],
        )
        .await
        .expect_problem(415, "file.media_type");
        upload(&app, &o.clerk, &code, "TP01", "application/pdf", PNG, &[])
            .await
            .expect_problem(415, "file.media_type");
        // The transaction fails after the file is on disk (no such component): no row is written.
        upload(
            &app,
            &o.clerk,
            &code,
            "TP03",
            "application/pdf",
            &pdf(1000),
            &[],
        )
        .await
        .expect_problem(404, "component.not_found");
        upload(
            &app,
            &o.clerk,
            &code,
            "TP01",
            "application/pdf",
            &pdf(1000),
            &[("issue_date", "yesterday")],
        )
        .await
        .expect_problem(422, "validation.failed");
        let files = app
            .get(&format!("/api/v1/dossiers/{code}/files"), Some(&o.clerk))
            .await
            .expect(200);
        assert_eq!(files.body["files"], json!([]));
        let tmp = app.db.dir().join("files").join("tmp");
        assert_eq!(
            std::fs::read_dir(tmp).unwrap().count(),
            0,
            "temporary uploads left behind"
        );
        // Refused before the file was kept: nothing is stored at all.
        assert_eq!(stored_files(&app), 0, "a refused upload was kept");
        upload(
            &app,
            &o.clerk,
            "NOPE-1",
            "TP01",
            "application/pdf",
            &pdf(10),
            &[],
        )
        .await
        .expect_problem(404, "dossier.not_found");
        assert_eq!(stored_files(&app), 0);
        // A viewer may not upload.
        upload(
            &app,
            &o.viewer,
            &code,
            "TP01",
            "application/pdf",
            &pdf(10),
            &[],
        )
        .await
        .expect_problem(403, "auth.forbidden");
    }
);

backend_test!(a_later_dossier_of_the_same_applicant_reuses_a_file, |app| {
    let o = app.office().await;
    let first = app.receive_code(&o.clerk, "P1").await;
    let bytes = pdf(5000);
    upload(
        &app,
        &o.clerk,
        &first,
        "TP02",
        "application/pdf",
        &bytes,
        &[("document_number", "GCN-1")],
    )
    .await
    .expect(201);
    let second = app.receive_code(&o.clerk, "P1").await;
    let r = app
        .post(
            &format!("/api/v1/dossiers/{second}/components/TP02/reuse"),
            Some(&o.clerk),
            &json!({"sha256": hex(&bytes), "document_number": "GCN-1"}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["reused_from"], first.as_str());
    // Another applicant cannot point at it.
    let mut other = dossier_body("P1", "direct");
    other["applicant"]["id_number"] = json!("0999999999");
    let third = app
        .post("/api/v1/dossiers", Some(&o.clerk), &other)
        .await
        .expect(201)
        .body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/api/v1/dossiers/{third}/components/TP02/reuse"),
        Some(&o.clerk),
        &json!({"sha256": hex(&bytes)}),
    )
    .await
    .expect_problem(404, "reuse.not_found");
    let ind = app
        .get(
            "/api/v1/reports/indicators?from=2025-03-01&to=2025-03-31",
            Some(&app.admin_token),
        )
        .await
        .expect(200);
    let reuse = ind
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "4.3")
        .unwrap()
        .clone();
    assert_eq!(
        (reuse["numerator"].as_f64(), reuse["denominator"].as_f64()),
        (Some(1.0), Some(3.0))
    );
});

/// Reads the QR code back from the form's SVG (one rect per dark module) and decodes it.
pub fn decode_qr(html: &str) -> String {
    let svg = &html[html.find("<svg").unwrap()..html.find("</svg>").unwrap()];
    let size: usize = svg
        .split("viewBox=\"0 0 ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut dark = vec![false; size * size];
    for rect in svg.split("<rect x=\"").skip(1) {
        let x: usize = rect.split('"').next().unwrap().parse().unwrap();
        let y: usize = rect
            .split("y=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        dark[y * size + x] = true;
    }
    let scale = 4;
    let mut img =
        rqrr::PreparedImage::prepare_from_greyscale(size * scale, size * scale, |x, y| {
            if dark[(y / scale) * size + x / scale] {
                0
            } else {
                255
            }
        });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().unwrap().1
}

backend_test!(
    forms_render_with_the_dossier_data_and_a_decodable_qr_code,
    |app| {
        let o = app.office().await;
        let d = app.receive(&o.clerk, "P1").await;
        let code = d["code"].as_str().unwrap().to_owned();
        let key = d["lookup_key"].as_str().unwrap().to_owned();
        let f01 = app
            .get(
                &format!("/api/v1/dossiers/{code}/forms/01?key={key}"),
                Some(&o.clerk),
            )
            .await
            .expect(200);
        assert!(f01.content_type().starts_with("text/html"));
        let text = f01.text.replace("&#x2f;", "/");
        for needle in [
            "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
            &code,
            "Công ty TNHH Thử Nghiệm",
            "Văn bản đề nghị",
            "Bản sao giấy tờ pháp lý",
            "09 giờ 00 phút, ngày 03/03/2025",
            "09 giờ 00 phút, ngày 10/03/2025",
            &key,
            "5 ngày làm việc",
        ] {
            assert!(text.contains(needle), "form 01 lacks {needle}");
        }
        assert_eq!(
            decode_qr(&f01.text),
            format!("{code}|P1|0108000001|Giấy tiếp nhận hồ sơ và hẹn trả kết quả")
        );
        // Without the key (or with a wrong one) the form is printed without it.
        let again = app
            .get(
                &format!("/api/v1/dossiers/{code}/forms/01?key=WRONG1"),
                Some(&o.clerk),
            )
            .await
            .expect(200);
        assert!(!again.text.contains("WRONG1") && !again.text.contains(&key));

        app.get(&format!("/api/v1/dossiers/{code}/forms/02"), Some(&o.clerk))
            .await
            .expect_problem(409, "form.not_applicable");
        app.act(&o.clerk, &code, "transfer", json!({}))
            .await
            .expect(200);
        app.clock.advance(chrono::Duration::days(1));
        app.act(
            &o.officer,
            &code,
            "request_supplement",
            json!({"reasons": ["Thiếu chữ ký người đại diện"], "items": ["TP02"],
        "applicant_deadline": "2025-03-14T17:00:00+07:00"}),
        )
        .await
        .expect(200);
        let f02 = app
            .get(&format!("/api/v1/dossiers/{code}/forms/02"), Some(&o.clerk))
            .await
            .expect(200);
        let t02 = f02.text.replace("&#x2f;", "/");
        assert!(
            t02.contains("Bản sao giấy tờ pháp lý")
                && t02.contains("Thiếu chữ ký người đại diện")
                && t02.contains("17 giờ 00 phút, ngày 14/03/2025"),
            "{t02}"
        );
        app.act(&o.clerk, &code, "supplement_received", json!({}))
            .await
            .expect(200);
        app.act(
            &o.leader,
            &code,
            "apologize",
            json!({"reasons": "Chờ ý kiến Sở Xây dựng", "new_due_at": "2025-03-20T09:00:00+07:00"}),
        )
        .await
        .expect(200);
        let f04 = app
            .get(&format!("/api/v1/dossiers/{code}/forms/04"), Some(&o.clerk))
            .await
            .expect(200);
        let t04 = f04.text.replace("&#x2f;", "/");
        assert!(
            t04.contains("Chờ ý kiến Sở Xây dựng")
                && t04.contains("09 giờ 00 phút, ngày 20/03/2025"),
            "{t04}"
        );
        app.act(&o.officer, &code, "forward", json!({"note": "Trình ký"}))
            .await
            .expect(200);
        app.act(
            &o.leader,
            &code,
            "reject",
            json!({"reasons": ["Không phù hợp quy hoạch"]}),
        )
        .await
        .expect(200);
        let f03 = app
            .get(&format!("/api/v1/dossiers/{code}/forms/03"), Some(&o.clerk))
            .await
            .expect(200);
        assert!(
            f03.text.contains("Không phù hợp quy hoạch") && f03.text.contains("không giải quyết")
        );
        let f05 = app
            .get(&format!("/api/v1/dossiers/{code}/forms/05"), Some(&o.clerk))
            .await
            .expect(200);
        let t05 = f05.text.replace("&#x2f;", "/");
        assert!(t05.contains("Phiếu kiểm soát quá trình giải quyết hồ sơ"));
        for needle in [
            "Chuyển hồ sơ đến cơ quan giải quyết",
            "Yêu cầu bổ sung hồ sơ",
            "Chuyển bước xử lý",
            "Đã giải quyết: không giải quyết",
            "1. Giao: Bộ phận Một cửa",
            "2. Nhận: Phòng U1",
            "officer1",
            "Trước hạn",
            "Trình ký",
        ] {
            assert!(t05.contains(needle), "form 05 lacks {needle}");
        }
        app.get(&format!("/api/v1/dossiers/{code}/forms/06"), Some(&o.clerk))
            .await
            .expect_problem(404, "form.not_found");
    }
);

backend_test!(supplements_add_or_replace_components_with_history, |app| {
    let o = app.office().await;
    let code = app.receive_code(&o.clerk, "P1").await;
    app.act(&o.clerk, &code, "transfer", json!({}))
        .await
        .expect(200);
    app.act(
        &o.officer,
        &code,
        "request_supplement",
        json!({"reasons": "Thiếu bản sao chứng thực", "items": ["TP02"]}),
    )
    .await
    .expect(200);
    app.act(
        &o.clerk,
        &code,
        "supplement_received",
        json!({"components": [{"item_code": "NOPE", "kind": "copy"}]}),
    )
    .await
    .expect_problem(422, "validation.failed");
    app.act(&o.clerk, &code, "transfer", json!({"components": []}))
        .await
        .expect_problem(422, "validation.failed");
    let d = app
        .act(
            &o.clerk,
            &code,
            "supplement_received",
            json!({"components": [
            {"item_code": "TP02", "kind": "certified_copy", "count": 2},
            {"item_code": "TP03", "kind": "copy", "pages": 7}]}),
        )
        .await
        .expect(200);
    let components = d.body["components"].as_array().unwrap();
    assert_eq!(components.len(), 3);
    let tp02 = components
        .iter()
        .find(|c| c["item_code"] == "TP02")
        .unwrap();
    assert_eq!(
        (tp02["kind"].as_str(), tp02["count"].as_i64()),
        (Some("certified_copy"), Some(2))
    );
    assert!(
        components
            .iter()
            .any(|c| c["item_code"] == "TP03" && c["pages"] == 7)
    );
    let h = app
        .get(&format!("/api/v1/dossiers/{code}/history"), Some(&o.clerk))
        .await
        .expect(200);
    let row = h
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "supplement_received")
        .unwrap()
        .clone();
    assert_eq!(row["details"]["components"].as_array().unwrap().len(), 2);
});

backend_test!(the_sweep_removes_files_no_row_names, |app| {
    let o = app.office().await;
    let code = app.receive_code(&o.clerk, "P1").await;
    let kept = pdf(500);
    upload(&app, &o.clerk, &code, "TP01", "application/pdf", &kept, &[])
        .await
        .expect(201);
    // As if the process had died between the rename and the commit.
    let mut orphan = app.state.store.begin().unwrap();
    orphan.write(&pdf(700)).unwrap();
    let orphan = app.state.store.finish(orphan).unwrap();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for sha in [hex(&kept), orphan.sha256.clone()] {
        std::fs::File::options()
            .write(true)
            .open(app.state.store.path_of(&sha).unwrap())
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
    }
    let mut conn = app.state.pool.get().unwrap();
    let grace = std::time::Duration::from_secs(600);
    let report =
        motcua::app::files::sweep_orphan_files(&mut conn, &app.state.store, grace).unwrap();
    assert_eq!((report.orphans, report.kept), (1, 1), "{report:?}");
    assert!(!app.state.store.path_of(&orphan.sha256).unwrap().exists());
    drop(conn);
    // The retention job that `serve` runs sweeps with `storage.orphan_grace_minutes` (60).
    let mut young = app.state.store.begin().unwrap();
    young.write(&pdf(800)).unwrap();
    let young = app.state.store.finish(young).unwrap();
    let mut stale = app.state.store.begin().unwrap();
    stale.write(&pdf(900)).unwrap();
    let stale = app.state.store.finish(stale).unwrap();
    std::fs::File::options()
        .write(true)
        .open(app.state.store.path_of(&stale.sha256).unwrap())
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 3600))
        .unwrap();
    {
        use motcua::jobs::Job;
        motcua::jobs::retention::OrphanFileSweep
            .run(&app.job_context())
            .await
            .unwrap();
    }
    assert!(!app.state.store.path_of(&stale.sha256).unwrap().exists());
    assert!(app.state.store.path_of(&young.sha256).unwrap().exists());
    app.get(
        &format!(
            "/api/v1/dossiers/{code}/components/TP01/files/{}",
            hex(&kept)
        ),
        Some(&o.clerk),
    )
    .await
    .expect(200);
});
