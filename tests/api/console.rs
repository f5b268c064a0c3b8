//! The staff console in a real browser (headless Chromium over WebDriver), against the
//! service started as `serve` starts it (`startup::start`), on each backend: a clerk
//! receives a dossier and prints form 01, an officer finds it in the unit's queue and
//! forwards it, a leader approves (after someone else acted first: 409, reloaded), the clerk
//! delivers, the dashboard counts it, the applicant finds it on /tra-cuu. On the way: a
//! CSRF-less post is refused, a user without the role sees no button and gets 403 posting
//! anyway, typed values survive a refusal, and axe-core finds no serious or critical
//! violation on any page. `MOTCUA_SCREENSHOTS=docs/console` also saves each page at
//! 1366×768 (two at a phone's 390×844) there, with `axe.md` (the per-page axe result).
//!
//! Also, without a browser: the session cookie is accepted on page routes only, revoked
//! with the token, and a cookie post without its CSRF token changes nothing.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::helpers::*;
use crate::webdriver::{Browser, browser_available};
use crate::{backend_test, per_backend_test};

const AXE: &str = include_str!("../vendor/axe-core/axe-4.14.1.min.js");

/// Runs axe-core in the page; answers a one-line summary and fails on serious/critical.
async fn axe(b: &Browser, page: &str) -> String {
    let loaded = b
        .execute("return typeof window.axe !== 'undefined'", json!([]))
        .await;
    if loaded != true {
        b.execute(&format!("{AXE}\n;return true;"), json!([])).await;
    }
    let out = b
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']})
               .then(r => done(JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact,
                     help: v.help, nodes: v.nodes.map(n => n.target.join(' '))})))))
               .catch(e => done('error: ' + e));",
            json!([]),
        )
        .await;
    let text = out.as_str().unwrap_or_default();
    let violations: Vec<Value> =
        serde_json::from_str(text).unwrap_or_else(|_| panic!("axe on {page}: {text}"));
    let bad: Vec<&Value> = violations
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .collect();
    assert!(
        bad.is_empty(),
        "axe on {page}: serious/critical violations: {}",
        serde_json::to_string_pretty(&bad).unwrap()
    );
    let minor: Vec<String> = violations
        .iter()
        .map(|v| {
            format!(
                "{} ({})",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?")
            )
        })
        .collect();
    if minor.is_empty() {
        "no violations".to_owned()
    } else {
        format!(
            "no serious or critical; minor/moderate: {}",
            minor.join(", ")
        )
    }
}

/// Checks the page with axe, and saves its screenshot when asked to.
struct Pages {
    dir: Option<std::path::PathBuf>,
    results: Vec<(String, String)>,
}

impl Pages {
    fn new() -> Self {
        let dir = std::env::var("MOTCUA_SCREENSHOTS").ok().map(|d| {
            let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(d);
            std::fs::create_dir_all(&p).unwrap();
            p
        });
        Pages {
            dir,
            results: Vec::new(),
        }
    }

    async fn check(&mut self, b: &Browser, name: &str, what: &str) {
        let result = axe(b, name).await;
        if let Some(dir) = &self.dir {
            std::fs::write(dir.join(format!("{name}.png")), b.screenshot_png().await).unwrap();
        }
        self.results.push((format!("{name} — {what}"), result));
    }

    fn write_summary(&self, backend: Backend) {
        let Some(dir) = &self.dir else { return };
        if backend != Backend::Sqlite {
            return;
        }
        let mut md = String::from(
            "# Console pages: screenshots and axe-core results\n\n\
             Made by `MOTCUA_SCREENSHOTS=docs/console cargo test --test api console::browser_walk::sqlite` \
             (headless Chromium, 1366×768, axe-core 4.14.1). Every page passes with no serious or \
             critical violation (the test fails otherwise).\n\n| Page | axe-core |\n|---|---|\n",
        );
        for (page, result) in &self.results {
            let _ = writeln!(md, "| {page} | {result} |");
        }
        std::fs::write(dir.join("axe.md"), md).unwrap();
    }
}

async fn login(b: &Browser, app: &TestApp, username: &str) {
    let password = if username == "admin" {
        ADMIN_PASSWORD.to_owned()
    } else {
        format!("{username}-password")
    };
    b.goto(&format!("{}/console/login", app.base)).await;
    b.fill("#f-username", username).await;
    b.fill("#f-password", &password).await;
    b.click("form[action='/console/login'] button[type=submit]")
        .await;
    b.wait_for("form[action='/console/logout']").await;
}

async fn logout(b: &Browser) {
    b.click("form[action='/console/logout'] button").await;
    b.wait_for("#f-username").await;
}

/// A same-origin form post from the page (the browser sends the session cookie).
async fn post_from_page(b: &Browser, path: &str, fields: Value) -> u16 {
    let v = b
        .execute_async(
            "const [path, fields, done] = arguments;
             fetch(path, {method: 'POST', body: new URLSearchParams(fields), credentials: 'same-origin', redirect: 'manual'})
               .then(r => done(r.status)).catch(e => done(-1));",
            json!([path, fields]),
        )
        .await;
    u16::try_from(v.as_i64().unwrap_or(-1)).unwrap_or(0)
}

async fn open_dossier(b: &Browser, app: &TestApp, code: &str) {
    b.goto(&format!("{}/console/dossiers/{code}", app.base))
        .await;
    b.wait_for("#dossier-state").await;
}

per_backend_test!(browser_walk, |backend| {
    let Some((chromium, driver)) = browser_available() else {
        return;
    };
    let app = TestApp::spawn(backend).await;
    let office = app.office().await;
    let b = Browser::start(&chromium, &driver).await;
    let mut pages = Pages::new();

    // Nobody logged in: the console answers 401 as a page that leads to the login.
    b.goto(&format!("{}/console", app.base)).await;
    b.wait_for("a[href='/console/login']").await;
    b.goto(&format!("{}/console/login", app.base)).await;
    b.wait_for("#f-username").await;
    pages.check(&b, "01-login", "đăng nhập").await;

    // The clerk: intake. The procedure is found by name, the checklist shows.
    login(&b, &app, "clerk1").await;
    pages
        .check(&b, "02-queue-clerk", "hàng đợi (cán bộ tiếp nhận)")
        .await;
    b.goto(&format!("{}/console/intake", app.base)).await;
    b.fill("#f-pq", "p1").await;
    b.click("form[role=search] button").await;
    b.click("a[href='/console/intake?procedure_code=P1']").await;
    b.wait_for("#f-item-TP01").await;
    // Required items come ticked; untick TP02 to see the refusal path keep what was typed.
    b.click("#f-item-TP02").await;
    b.fill("#f-applicant\\.name", "Công ty TNHH Trình Duyệt")
        .await;
    b.fill("#f-applicant\\.id_number", "0108999001").await;
    b.fill("#f-applicant\\.email", "trinh.duyet@example.com")
        .await;
    b.fill("#f-pages-TP01", "4").await;
    b.click("form[action='/console/intake'] > p > button[type=submit]")
        .await;
    b.wait_for("#problem").await;
    assert!(
        b.text("#problem").await.contains("thiếu"),
        "{}",
        b.source().await
    );
    assert_eq!(
        b.value("#f-applicant\\.name").await,
        "Công ty TNHH Trình Duyệt"
    );
    assert_eq!(b.value("#f-pages-TP01").await, "4");
    b.find("#f-refused_reasons").await;
    pages
        .check(
            &b,
            "03-intake-missing",
            "tiếp nhận: thiếu thành phần, nội dung đã nhập được giữ",
        )
        .await;
    // Ticked again, received: the receipt with the code, the key and form 01 one click away.
    b.click("#f-item-TP02").await;
    b.click("form[action='/console/intake'] > p > button[type=submit]")
        .await;
    b.wait_for("#lookup-key").await;
    let code = b.text("#dossier-code").await;
    let key = b.text("#lookup-key").await;
    assert!(code.contains("-"), "{code}");
    assert_eq!(key.len(), 6, "{key}");
    pages
        .check(&b, "04-received", "đã tiếp nhận, in mẫu 01")
        .await;
    let main = b.windows().await[0].clone();
    b.click("#print-form").await;
    let windows = crate::helpers::poll_until("form 01 to open", 30, || async {
        let w = b.windows().await;
        (w.len() == 2).then_some(w)
    })
    .await;
    let form = windows.iter().find(|w| **w != main).unwrap().clone();
    b.switch_to(&form).await;
    b.wait_for("svg").await;
    let form01 = b.source().await;
    assert!(
        form01.contains(&code) && form01.contains(&key),
        "form 01 lacks the code or key"
    );
    assert!(form01.contains("GIẤY TIẾP NHẬN") || form01.to_lowercase().contains("giấy tiếp nhận"));
    pages.check(&b, "05-form-01", "mẫu 01 in được").await;
    b.close_window().await;
    b.switch_to(&main).await;

    // The clerk scans TP01 on the dossier page, then transfers it to the unit.
    open_dossier(&b, &app, &code).await;
    assert!(b.text("#dossier-state").await.contains("Được tiếp nhận"));
    let scan = app.db.dir().join("to-ba-khai.png");
    std::fs::write(&scan, b"\x89PNG\r\n\x1a\n0000IHDR a scanned page").unwrap();
    b.fill("#f-file-TP01", scan.to_str().unwrap()).await;
    b.click("#upload-TP01 button[type=submit]").await;
    b.wait_for("[role=status]").await;
    let link = b.find("a.scan[data-item='TP01']").await;
    let _ = link;
    let href = b
        .execute(
            "return document.querySelector(\"a.scan[data-item='TP01']\").getAttribute('href')",
            json!([]),
        )
        .await;
    let status = b
        .execute_async(
            "const [href, done] = arguments; fetch(href).then(r => done(r.status)).catch(() => done(-1));",
            json!([href]),
        )
        .await;
    assert_eq!(status, 200, "{href}");
    b.click("#action-transfer button[type=submit]").await;
    b.wait_for("[role=status]").await;
    assert!(b.text("#dossier-state").await.contains("Đang xử lý"));
    logout(&b).await;

    // The officer finds it in the unit's queue and forwards it to the leader's step.
    login(&b, &app, "officer1").await;
    b.wait_for(&format!("a[href='/console/dossiers/{code}']"))
        .await;
    pages
        .check(&b, "06-queue-officer", "hàng đợi của phòng (chuyên viên)")
        .await;
    b.click(&format!("a[href='/console/dossiers/{code}']"))
        .await;
    b.wait_for("#action-forward").await;
    b.click("a[href$='/due']").await;
    b.wait_for("#due-explained table").await;
    pages
        .check(
            &b,
            "07-dossier-officer",
            "trang hồ sơ, giải thích hạn từng ngày",
        )
        .await;
    let version = b.value("#action-forward input[name=version]").await;
    b.click("#action-forward button[type=submit]").await;
    b.wait_for("[role=status]").await;

    // A form post without the CSRF token is refused and changes nothing.
    let status = post_from_page(
        &b,
        &format!("/console/dossiers/{code}/actions/request_payment"),
        json!({"version": "3", "amount_vnd": "1000"}),
    )
    .await;
    assert_eq!(status, 403);
    // No approve button for an officer; posting it anyway with a valid token: 403.
    assert!(b.try_find("#action-approve").await.is_none());
    let csrf = b
        .value("form[action='/console/logout'] input[name=_csrf]")
        .await;
    let status = post_from_page(
        &b,
        &format!("/console/dossiers/{code}/actions/approve"),
        json!({"version": "3", "_csrf": csrf}),
    )
    .await;
    assert_eq!(status, 403);
    let d = app
        .get(&format!("/api/v1/dossiers/{code}"), Some(&office.officer))
        .await
        .expect(200);
    assert_eq!(
        (d.body["state"].as_str(), d.body["version"].as_i64()),
        (Some("processing"), Some(3))
    );
    assert_ne!(version, "3");
    logout(&b).await;

    // The leader opens it; meanwhile someone else acts first: the page says so and reloads.
    login(&b, &app, "leader1").await;
    open_dossier(&b, &app, &code).await;
    app.act(
        &office.leader,
        &code,
        "request_payment",
        json!({"amount_vnd": 50000}),
    )
    .await
    .expect(200);
    b.fill("#f-approve-result_reference", "GP-123/2025").await;
    b.click("#action-approve button[type=submit]").await;
    b.wait_for("#problem").await;
    assert!(b.text("#problem").await.contains("Người khác vừa xử lý"));
    assert!(
        b.text("#dossier-state")
            .await
            .contains("nghĩa vụ tài chính")
    );
    assert!(b.try_find("#action-approve").await.is_none());
    pages
        .check(
            &b,
            "08-dossier-conflict",
            "409: người khác xử lý trước, trang tải lại",
        )
        .await;
    app.act(
        &office.clerk,
        &code,
        "payment_received",
        json!({"reference": "BL-1"}),
    )
    .await
    .expect(200);
    open_dossier(&b, &app, &code).await;
    b.fill("#f-approve-result_reference", "GP-123/2025").await;
    b.click("#action-approve button[type=submit]").await;
    b.wait_for("[role=status]").await;
    assert!(b.text("#dossier-state").await.contains("Đã xử lý xong"));
    logout(&b).await;

    // The clerk delivers.
    login(&b, &app, "clerk1").await;
    open_dossier(&b, &app, &code).await;
    b.click("#action-deliver button[type=submit]").await;
    b.wait_for("[role=status]").await;
    assert!(b.text("#dossier-state").await.contains("Đã trả kết quả"));
    assert!(b.try_find("#no-actions").await.is_some());
    pages
        .check(
            &b,
            "09-dossier-delivered",
            "hồ sơ đã trả kết quả, phiếu kiểm soát",
        )
        .await;
    // On a phone's screen: the dossier page and the queue.
    b.resize(390, 844).await;
    open_dossier(&b, &app, &code).await;
    pages
        .check(
            &b,
            "14-phone-dossier",
            "trang hồ sơ trên điện thoại (390×844)",
        )
        .await;
    b.goto(&format!("{}/console", app.base)).await;
    b.wait_for("table").await;
    pages
        .check(&b, "15-phone-queue", "hàng đợi trên điện thoại (390×844)")
        .await;
    b.resize(1366, 768).await;
    // A page the clerk may not open answers 403 as a page.
    b.goto(&format!("{}/console/dashboard", app.base)).await;
    b.wait_for("#problem").await;
    assert!(b.text("h1").await.contains("Không có quyền"));
    pages.check(&b, "10-forbidden", "403 bằng tiếng Việt").await;
    logout(&b).await;

    // The leader's dashboard counts it as resolved early or on time.
    login(&b, &app, "leader1").await;
    b.goto(&format!("{}/console/dashboard", app.base)).await;
    b.wait_for(".bieu06 tr.total").await;
    // Columns (8) and (9) of the form: resolved early, on time.
    let early: i64 = b
        .text(".bieu06 tr.total td:nth-child(8)")
        .await
        .parse()
        .unwrap();
    let on_time: i64 = b
        .text(".bieu06 tr.total td:nth-child(9)")
        .await
        .parse()
        .unwrap();
    assert_eq!(early + on_time, 1);
    pages
        .check(&b, "11-dashboard", "thống kê Biểu 06, biểu đồ, chỉ số 766")
        .await;
    logout(&b).await;

    // Administration.
    login(&b, &app, "admin").await;
    b.goto(&format!("{}/console/admin", app.base)).await;
    b.wait_for("#users").await;
    assert!(b.source().await.contains("officer1"));
    // A user with a too short password: refused, what was typed (but the password) kept.
    b.fill("#f-user-username", "clerk2").await;
    b.fill("#f-user-full_name", "Cán bộ Hai").await;
    b.fill("#f-user-password", "short").await;
    b.click("#form-user button[type=submit]").await;
    b.wait_for("#problem").await;
    assert_eq!(b.value("#f-user-full_name").await, "Cán bộ Hai");
    assert_eq!(b.value("#f-user-password").await, "");
    b.fill("#f-user-password", "clerk2-password").await;
    b.click("#form-user button[type=submit]").await;
    b.wait_for("[role=status]").await;
    assert!(b.source().await.contains("Cán bộ Hai"));
    // A make-up working day, logged in the calendar's change log.
    b.execute(
        "document.getElementById('f-day-date').value = '2025-03-15'",
        json!([]),
    )
    .await;
    b.execute(
        "document.getElementById('f-day-kind').value = 'makeup_workday'",
        json!([]),
    )
    .await;
    b.fill("#f-day-name", "Làm bù thử").await;
    b.click("#form-calendar button[type=submit]").await;
    b.wait_for("[role=status]").await;
    assert!(
        b.text("#calendar-log + .table-wrap")
            .await
            .contains("Làm bù thử")
    );
    b.goto(&format!("{}/console/admin", app.base)).await;
    b.wait_for("#users").await;
    pages
        .check(
            &b,
            "12-admin",
            "quản trị: đơn vị, người dùng, thủ tục, lịch và nhật ký",
        )
        .await;
    logout(&b).await;

    // The applicant looks it up with the code and the key from the receipt.
    b.goto(&format!("{}/tra-cuu", app.base)).await;
    b.fill("#code", &code).await;
    b.fill("#key", &key).await;
    b.click("form button[type=submit]").await;
    b.wait_for(".result").await;
    assert!(b.text(".state").await.contains("Đã trả kết quả"));
    pages
        .check(&b, "13-tra-cuu", "tra cứu công khai của người nộp")
        .await;

    pages.write_summary(backend);
    for (page, result) in &pages.results {
        eprintln!("axe {backend:?}: {page}: {result}");
    }
    b.quit().await;
    let _ = office.viewer;
    app.stop().await;
});

/// The login form's answer: the session cookie's value and the `Set-Cookie` line.
async fn page_login(app: &TestApp, username: &str, password: &str) -> (String, String) {
    let mut resp = no_redirects()
        .post(format!("{}/console/login", app.base))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .send_body(format!("username={username}&password={password}"))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303, "{:?}", resp.body().await);
    let set = resp
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let value = set
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("motcua_session=")
        .to_owned();
    (value, set)
}

backend_test!(a_login_form_posted_from_another_site_is_refused, |app| {
    app.office().await;
    let post = |headers: Vec<(&'static str, String)>| {
        let mut req = no_redirects()
            .post(format!("{}/console/login", app.base))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"));
        for h in headers {
            req = req.insert_header(h);
        }
        req.send_body("username=clerk1&password=clerk1-password")
    };
    let host = app.base.trim_start_matches("http://").to_owned();
    for headers in [
        vec![("Sec-Fetch-Site", "cross-site".to_owned())],
        vec![("Sec-Fetch-Site", "same-site".to_owned())],
        vec![("Origin", "http://evil.example".to_owned())],
        vec![("Origin", "null".to_owned())],
        // A browser's own header wins over an Origin that looks right.
        vec![
            ("Sec-Fetch-Site", "cross-site".to_owned()),
            ("Origin", app.base.clone()),
        ],
    ] {
        let resp = post(headers.clone()).await.unwrap();
        assert_eq!(resp.status().as_u16(), 403, "{headers:?}");
        assert!(resp.headers().get("set-cookie").is_none(), "{headers:?}");
    }
    for headers in [
        vec![
            ("Sec-Fetch-Site", "same-origin".to_owned()),
            ("Origin", app.base.clone()),
        ],
        vec![("Origin", format!("http://{host}"))],
        vec![],
    ] {
        let resp = post(headers.clone()).await.unwrap();
        assert_eq!(resp.status().as_u16(), 303, "{headers:?}");
        assert!(resp.headers().get("set-cookie").is_some(), "{headers:?}");
    }
    app.stop().await;
});

/// A client that shows redirects instead of following them (awc follows by default).
fn no_redirects() -> awc::Client {
    awc::Client::builder().max_redirects(0).finish()
}

async fn with_cookie(
    app: &TestApp,
    method: &str,
    path: &str,
    cookie: &str,
    body: Option<String>,
) -> Response {
    let client = no_redirects();
    let req = match method {
        "POST" => client.post(format!("{}{path}", app.base)),
        _ => client.get(format!("{}{path}", app.base)),
    }
    .insert_header(("Cookie", format!("motcua_session={cookie}")));
    let mut resp = match body {
        Some(b) => {
            req.insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .send_body(b)
                .await
        }
        None => req.send().await,
    }
    .unwrap();
    let bytes = resp.body().limit(16 * 1024 * 1024).await.unwrap();
    Response {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

backend_test!(
    the_session_cookie_works_on_pages_only_and_needs_its_csrf_token,
    |app| {
        let office = app.office().await;
        let code = app.receive_code(&office.clerk, "P1").await;
        let (cookie, set) = page_login(&app, "clerk1", "clerk1-password").await;
        for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(set.contains(part), "{set}");
        }
        // Tests run plain HTTP on 127.0.0.1 (`server.plain_http_cookies`); the default is Secure.
        assert!(!set.contains("Secure"), "{set}");

        // Pages take the cookie; the API does not.
        let page = with_cookie(
            &app,
            "GET",
            &format!("/console/dossiers/{code}"),
            &cookie,
            None,
        )
        .await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.text.contains(&code));
        let api = with_cookie(
            &app,
            "GET",
            &format!("/api/v1/dossiers/{code}"),
            &cookie,
            None,
        )
        .await;
        api.expect_problem(401, "auth.unauthorized");

        // A cookie post without the token, or with another session's, changes nothing.
        // Another session's token (the officer's): refused too.
        let (other, _) = page_login(&app, "officer1", "officer1-password").await;
        let other_csrf = {
            let p = with_cookie(&app, "GET", "/console", &other, None).await;
            let at = p.text.find("name=\"_csrf\" value=\"").unwrap() + 20;
            p.text[at..at + 64].to_owned()
        };
        for body in [
            "version=1&note=x".to_owned(),
            format!("version=1&note=x&_csrf={other_csrf}"),
            "version=1&note=x&_csrf=00".to_owned(),
        ] {
            let r = with_cookie(
                &app,
                "POST",
                &format!("/console/dossiers/{code}/actions/transfer"),
                &cookie,
                Some(body),
            )
            .await;
            assert_eq!(r.status, 403, "{}", r.text);
            assert!(r.content_type().starts_with("text/html"));
            assert!(r.text.contains("mã xác thực"), "{}", r.text);
        }
        let d = app
            .get(&format!("/api/v1/dossiers/{code}"), Some(&office.clerk))
            .await
            .expect(200);
        assert_eq!(d.body["state"], "received");
        // With its own token the same post goes through.
        let own = {
            let p = with_cookie(&app, "GET", "/console", &cookie, None).await;
            let at = p.text.find("name=\"_csrf\" value=\"").unwrap() + 20;
            p.text[at..at + 64].to_owned()
        };
        let r = with_cookie(
            &app,
            "POST",
            &format!("/console/dossiers/{code}/actions/transfer"),
            &cookie,
            Some(format!("version=1&_csrf={own}")),
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let d = app
            .get(&format!("/api/v1/dossiers/{code}"), Some(&office.clerk))
            .await
            .expect(200);
        assert_eq!(d.body["state"], "processing");

        // Revocation is the token's: after a password change the cookie no longer logs in.
        app.post(
            "/api/v1/auth/password",
            Some(&office.clerk),
            &json!({"current_password": "clerk1-password", "new_password": "clerk1-password-2"}),
        )
        .await
        .expect(204);
        let r = with_cookie(&app, "GET", "/console", &cookie, None).await;
        assert_eq!(r.status, 401);
        assert!(r.text.contains("/console/login"));
        // Wrong password: the form again, the username kept, in Vietnamese.
        let mut resp = app
            .client
            .post(format!("{}/console/login", app.base))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .send_body("username=clerk1&password=wrong-password")
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 401);
        let text = String::from_utf8(resp.body().await.unwrap().to_vec()).unwrap();
        assert!(
            text.contains("Sai tên đăng nhập hoặc mật khẩu") && text.contains("value=\"clerk1\"")
        );
    }
);

backend_test!(
    allowed_actions_follow_the_unit_that_holds_the_dossier,
    |app| {
        // A procedure whose last step is another unit's leader: once forwarded there, the first
        // unit's leader is offered nothing (it would answer 403), the second unit's leader is.
        let office = app.office().await;
        let mut p = test_procedure("P2", "pause", 1);
        p["steps"] = json!([
            {"code": "B1", "name": "Thẩm định", "unit_code": "U1", "role": "leader", "allowance": {"value": 3, "unit": "working_days"}},
            {"code": "B2", "name": "Lãnh đạo Ban ký", "unit_code": "U2", "role": "leader", "allowance": {"value": 2, "unit": "working_days"}}
        ]);
        app.post("/api/v1/procedures", Some(&app.admin_token), &p)
            .await
            .expect(201);
        let other_leader = app
            .user_with_role("leader2", motcua::auth::Role::Leader, Some("U2"))
            .await;
        let code = app.receive_code(&office.clerk, "P2").await;
        app.act(&office.clerk, &code, "transfer", json!({}))
            .await
            .expect(200);
        let d = app
            .act(&office.leader, &code, "forward", json!({}))
            .await
            .expect(200);
        assert_eq!(d.body["current_step"]["unit_code"], "U2");
        // The forwarding leader's own answer already offers nothing more.
        assert_eq!(d.body["allowed_actions"], json!([]));
        let seen = app
            .get(&format!("/api/v1/dossiers/{code}"), Some(&office.leader))
            .await
            .expect(200);
        assert_eq!(seen.body["allowed_actions"], json!([]));
        app.act(&office.leader, &code, "approve", json!({}))
            .await
            .expect_problem(403, "auth.forbidden");
        let there = app
            .get(&format!("/api/v1/dossiers/{code}"), Some(&other_leader))
            .await
            .expect(200);
        let offered: Vec<&str> = there.body["allowed_actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(
            offered.contains(&"approve")
                && offered.contains(&"reject")
                && offered.contains(&"apologize"),
            "{offered:?}"
        );
        app.act(&other_leader, &code, "approve", json!({}))
            .await
            .expect(200);
    }
);
