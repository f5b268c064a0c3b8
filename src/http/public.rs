//! Public status lookup for applicants: JSON and a mobile-friendly page (`/tra-cuu`).

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::{HttpResponse, web};
use minijinja::Environment;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::client::ClientIp;
use super::json::Json;
use crate::app::AppState;
use crate::app::public::{self, PublicStatus};
use crate::app::throttle::{LookupRefused, retry_after};
use crate::error::{AppError, AppResult, Code, Problem};

#[derive(Debug, Deserialize, IntoParams)]
pub struct LookupQuery {
    /// Dossier code.
    pub code: Option<String>,
    /// Lookup key from the receipt. Prefer `POST /api/v1/public/lookup`: a URL is kept in
    /// browser histories and proxy logs (this service never logs it).
    pub key: Option<String>,
}

/// The code and the key, in a body so that the key stays out of URLs.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LookupRequest {
    /// Dossier code.
    #[schema(max_length = 64)]
    pub code: String,
    /// Lookup key from the receipt (6 characters).
    #[schema(max_length = 64)]
    pub key: String,
}

/// The page's form; either field may be empty (then the page shows the blank form).
#[derive(Debug, Deserialize, ToSchema)]
pub struct LookupForm {
    #[schema(max_length = 64)]
    pub code: Option<String>,
    #[schema(max_length = 64)]
    pub key: Option<String>,
}

/// Longest code or key looked at; real ones are far shorter.
const MAX_LOOKUP_LEN: usize = 64;

fn too_many(code: Code, detail: &str, wait: std::time::Duration) -> AppError {
    AppError::new(code, detail.to_owned()).with_retry_after(retry_after(wait))
}

/// Applies the per-address limit and the per-code lock, then looks up; logs every attempt for
/// audit (the code, never the key).
async fn checked_lookup(
    state: &web::Data<AppState>,
    client: ClientIp,
    code: String,
    key: String,
) -> AppResult<PublicStatus> {
    let ip = client.0;
    if code.chars().count() > MAX_LOOKUP_LEN || key.chars().count() > MAX_LOOKUP_LEN {
        return Err(AppError::new(
            Code::LookupTooLong,
            "A dossier code or a lookup key is never that long.",
        ));
    }
    let now = Instant::now();
    match state.lookup_limiter.check(ip, &code, now) {
        Ok(()) => {}
        Err(LookupRefused::Address(wait)) => {
            tracing::warn!(audit = "lookup", client.ip = %ip, dossier.code = ?code, result = "rate_limited", "public lookup");
            return Err(too_many(
                Code::LookupRateLimited,
                "Too many look-ups from this address; try again shortly.",
                wait,
            ));
        }
        Err(LookupRefused::Code(wait)) => {
            tracing::warn!(audit = "lookup", client.ip = %ip, dossier.code = ?code, result = "code_locked", "public lookup");
            return Err(too_many(
                Code::LookupCodeLocked,
                "Too many wrong keys for this code; look-ups of it are paused.",
                wait,
            ));
        }
    }
    let tz = state.calendar.settings().timezone();
    let c = code.clone();
    let result = state
        .run(move |conn| public::lookup(conn, tz, &c, &key))
        .await;
    let outcome = match &result {
        Ok(_) => "found",
        Err(e) if e.code() == Code::LookupNotFound => {
            if let Some(lock) = state.lookup_limiter.wrong_key(&code, now) {
                tracing::warn!(audit = "lookup", client.ip = %ip, dossier.code = ?code, lock.seconds = lock.as_secs(), result = "code_locked", "public lookup: too many wrong keys, code locked");
            }
            "not_found"
        }
        Err(_) => "error",
    };
    tracing::info!(audit = "lookup", client.ip = %ip, dossier.code = ?code, result = outcome, "public lookup");
    result
}

/// A dossier's status by code and lookup key; an unknown code and a wrong key answer the same
/// 404. Kept for links and scripts; `POST` keeps the key out of the URL.
#[utoipa::path(get, path = "/api/v1/public/lookup", tag = "public", params(LookupQuery),
    responses((status = 200, body = PublicStatus), (status = 404, body = Problem), (status = 429, body = Problem)))]
pub async fn lookup(
    state: web::Data<AppState>,
    client: ClientIp,
    q: web::Query<LookupQuery>,
) -> AppResult<HttpResponse> {
    let (Some(code), Some(key)) = (q.code.clone(), q.key.clone()) else {
        return Err(
            AppError::new(Code::LookupMissing, "Both code and key are required.")
                .with_field("code", "required")
                .with_field("key", "required"),
        );
    };
    let status = checked_lookup(&state, client, code, key).await?;
    Ok(HttpResponse::Ok().json(status))
}

/// The same look-up with the code and the key in a JSON body.
#[utoipa::path(post, path = "/api/v1/public/lookup", tag = "public", request_body = LookupRequest,
    responses((status = 200, body = PublicStatus), (status = 404, body = Problem), (status = 429, body = Problem)))]
pub async fn lookup_post(
    state: web::Data<AppState>,
    client: ClientIp,
    body: Json<LookupRequest>,
) -> AppResult<HttpResponse> {
    let Json(LookupRequest { code, key }) = body;
    let status = checked_lookup(&state, client, code, key).await?;
    Ok(HttpResponse::Ok().json(status))
}

fn page_env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // Compiled in; a broken template fails the test suite, not a request.
        let _ = env.add_template(
            "tra-cuu.html",
            include_str!("../../config/templates/web/tra-cuu.html"),
        );
        env
    })
}

/// The lookup as a page for phones, in Vietnamese; its form posts the key (never in the URL).
#[utoipa::path(get, path = "/tra-cuu", tag = "public", params(LookupQuery), responses((status = 200, content_type = "text/html")))]
pub async fn lookup_page(
    state: web::Data<AppState>,
    client: ClientIp,
    q: web::Query<LookupQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    render_page(&state, client, q.code, q.key).await
}

/// The page's form: code and key as `application/x-www-form-urlencoded`.
#[utoipa::path(post, path = "/tra-cuu", tag = "public",
    request_body(content = LookupForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, content_type = "text/html")))]
pub async fn lookup_page_post(
    state: web::Data<AppState>,
    client: ClientIp,
    form: web::Form<LookupForm>,
) -> AppResult<HttpResponse> {
    let f = form.into_inner();
    render_page(&state, client, f.code, f.key).await
}

async fn render_page(
    state: &web::Data<AppState>,
    client: ClientIp,
    code: Option<String>,
    key: Option<String>,
) -> AppResult<HttpResponse> {
    let code = code.unwrap_or_default();
    let (mut status, mut error, mut http) = (None, None, actix_web::http::StatusCode::OK);
    let too_long = |s: &str| s.chars().count() > MAX_LOOKUP_LEN;
    if too_long(&code) || key.as_deref().is_some_and(too_long) {
        error = Some("Mã hồ sơ hoặc mã tra cứu không hợp lệ.");
        http = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    } else if let (false, Some(key)) = (code.is_empty(), key) {
        match checked_lookup(state, client, code.clone(), key).await {
            Ok(s) => status = Some(s),
            Err(e) if matches!(e.code(), Code::LookupRateLimited | Code::LookupCodeLocked) => {
                error = Some("Quý vị tra cứu quá nhiều lần. Vui lòng thử lại sau ít phút.");
                http = actix_web::http::StatusCode::TOO_MANY_REQUESTS;
            }
            Err(e) if e.code() == Code::LookupNotFound => {
                error = Some("Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu đã nhập.");
                http = actix_web::http::StatusCode::NOT_FOUND;
            }
            Err(e) => return Err(e),
        }
    }
    let fmt = |t: Option<crate::clock::ApiTime>| {
        t.map(|t| t.local().format("%H:%M ngày %d/%m/%Y").to_string())
    };
    let html = page_env()
        .get_template("tra-cuu.html")
        .and_then(|t| {
            t.render(minijinja::value::Serde(json!({
                "agency_name": state.settings.agency.name,
                "code": code,
                "status": status,
                "error": error,
                "received_at": fmt(status.as_ref().and_then(|s| s.received_at)),
                "due_at": fmt(status.as_ref().and_then(|s| s.due_at_current)),
                "resolved_at": fmt(status.as_ref().and_then(|s| s.resolved_at)),
                "delivered_at": fmt(status.as_ref().and_then(|s| s.delivered_at)),
            })))
        })
        .map_err(AppError::internal)?;
    Ok(HttpResponse::build(http)
        .content_type("text/html; charset=utf-8")
        .body(html))
}
