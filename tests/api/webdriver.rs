//! A small W3C WebDriver client over `awc` (already the suite's HTTP client), driving Debian's
//! headless Chromium through `chromedriver`: the handful of commands the console walk needs
//! (navigate, find, click, type, run a script, screenshot, windows). A crate such as
//! fantoccini would add a second HTTP stack to the build for the same dozen requests.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where Debian puts them (`apt-get install chromium chromium-driver`).
pub fn browser_paths() -> Option<(String, String)> {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    Some((chromium.to_owned(), driver.to_owned()))
}

/// Whether the browser tests run: without Chromium they are skipped, except in CI, where
/// `.ci/run` installs it and a missing browser is a failure.
pub fn browser_available() -> Option<(String, String)> {
    match browser_paths() {
        Some(p) => Some(p),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but chromium / chromedriver are not installed (.ci/run installs them)")
        }
        None => {
            eprintln!("chromium or chromedriver not installed: the browser walk is skipped");
            None
        }
    }
}

pub struct Browser {
    client: awc::Client,
    base: String,
    session: String,
    driver: Child,
}

#[derive(Clone, Debug)]
pub struct Element(String);

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium with a 1366×768 window.
    pub async fn start(chromium: &str, driver: &str) -> Browser {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(120))
            .finish();
        let base = format!("http://127.0.0.1:{port}");
        crate::helpers::poll_until("chromedriver to listen", 30, || {
            let c = client.clone();
            let url = format!("{base}/status");
            async move {
                let mut r = c.get(url).send().await.ok()?;
                let v: Value = r.json().await.ok()?;
                (v["value"]["ready"] == true).then_some(())
            }
        })
        .await;
        let mut b = Browser {
            client,
            base,
            session: String::new(),
            driver: child,
        };
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1366,768", "--lang=vi", "--hide-scrollbars", "--force-device-scale-factor=1"
            ]}
        }}});
        let v = b.raw("POST", "/session", Some(caps)).await;
        b.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("new session: {v}"))
            .to_owned();
        b.cmd(
            "POST",
            "/timeouts",
            json!({"script": 120_000, "pageLoad": 60_000, "implicit": 0}),
        )
        .await;
        b
    }

    async fn raw(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "POST" => self.client.post(url),
            "DELETE" => self.client.delete(url),
            _ => self.client.get(url),
        };
        let mut resp = match body {
            Some(b) => req.send_json(&b).await,
            None => req.send().await,
        }
        .unwrap_or_else(|e| panic!("webdriver {method} {path}: {e}"));
        let bytes = resp.body().limit(64 * 1024 * 1024).await.unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        v["value"].clone()
    }

    /// One command of this session; a WebDriver error fails the test with its message.
    async fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let body = (method == "POST").then_some(body);
        let v = self
            .raw(method, &format!("/session/{}{path}", self.session), body)
            .await;
        if let Some(e) = v.get("error") {
            panic!("webdriver {method} {path}: {e}: {}", v["message"]);
        }
        v
    }

    pub async fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({"url": url})).await;
    }

    pub async fn source(&self) -> String {
        self.cmd("GET", "/source", json!(null))
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The element, if the page has it now.
    pub async fn try_find(&self, css: &str) -> Option<Element> {
        let v = self
            .raw(
                "POST",
                &format!("/session/{}/element", self.session),
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT].as_str().map(|id| Element(id.to_owned()))
    }

    /// The element, waiting (bounded) for the page to show it.
    pub async fn find(&self, css: &str) -> Element {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(e) = self.try_find(css).await {
                return e;
            }
            if std::time::Instant::now() > deadline {
                let url = self.cmd("GET", "/url", json!(null)).await;
                let text = self
                    .execute(
                        "return document.body ? document.body.innerText : ''",
                        json!([]),
                    )
                    .await;
                panic!("gave up after 30 s waiting for element {css} on {url}:\n{text}");
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd("POST", &format!("/element/{}/click", e.0), json!({}))
            .await;
    }

    /// Clears the field and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd("POST", &format!("/element/{}/clear", e.0), json!({}))
            .await;
        self.cmd(
            "POST",
            &format!("/element/{}/value", e.0),
            json!({"text": text}),
        )
        .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.cmd("GET", &format!("/element/{}/text", e.0), json!(null))
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn value(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.cmd(
            "GET",
            &format!("/element/{}/property/value", e.0),
            json!(null),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    pub async fn execute(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
        .await
    }

    /// Runs an async script: its last argument is the callback that answers.
    pub async fn execute_async(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/async",
            json!({"script": script, "args": args}),
        )
        .await
    }

    /// Waits (bounded) until `document.readyState` is complete and `css` is on the page.
    pub async fn wait_for(&self, css: &str) {
        self.find(css).await;
        crate::helpers::poll_until("the page to load", 30, || async {
            (self.execute("return document.readyState", json!([])).await == "complete")
                .then_some(())
        })
        .await;
    }

    /// Resizes the window (a phone's width, then back to 1366×768).
    pub async fn resize(&self, width: u32, height: u32) {
        self.cmd(
            "POST",
            "/window/rect",
            json!({"width": width, "height": height}),
        )
        .await;
    }

    pub async fn screenshot_png(&self) -> Vec<u8> {
        let b64 = self.cmd("GET", "/screenshot", json!(null)).await;
        base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .unwrap()
    }

    pub async fn windows(&self) -> Vec<String> {
        self.cmd("GET", "/window/handles", json!(null))
            .await
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub async fn switch_to(&self, handle: &str) {
        self.cmd("POST", "/window", json!({"handle": handle})).await;
    }

    /// Closes the current window (the others stay).
    pub async fn close_window(&self) {
        self.cmd("DELETE", "/window", json!(null)).await;
    }

    pub async fn quit(mut self) {
        let _ = self
            .raw("DELETE", &format!("/session/{}", self.session), None)
            .await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
