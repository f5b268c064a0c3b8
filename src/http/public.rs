//! Public status lookup for applicants: JSON and a mobile-friendly page (`/tra-cuu`).

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::Environment;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::app::public::{self, PublicStatus};
use crate::error::{AppError, AppResult, Problem};

#[derive(Debug, Deserialize, IntoParams)]
pub struct LookupQuery {
    /// Dossier code.
    pub code: Option<String>,
    /// Lookup key from the receipt.
    pub key: Option<String>,
}

fn client_ip(req: &HttpRequest) -> std::net::IpAddr {
    req.peer_addr()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |a| a.ip())
}

/// Applies the per-client limit, then looks up; logs every attempt for audit (never the key).
async fn checked_lookup(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    code: String,
    key: String,
) -> AppResult<PublicStatus> {
    let ip = client_ip(req);
    if let Err(wait) = state.lookup_limiter.check(ip, Instant::now()) {
        tracing::warn!(audit = "lookup", client.ip = %ip, dossier.code = %code, result = "rate_limited", "public lookup");
        return Err(AppError::new(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            "lookup.rate_limited",
            "Too many look-ups from this address; try again shortly.",
        )
        .with_retry_after(wait));
    }
    let tz = state.calendar.settings().timezone();
    let c = code.clone();
    let result = state
        .run(move |conn| public::lookup(conn, tz, &c, &key))
        .await;
    let outcome = match &result {
        Ok(_) => "found",
        Err(_) => "not_found",
    };
    tracing::info!(audit = "lookup", client.ip = %ip, dossier.code = %code, result = outcome, "public lookup");
    result
}

/// A dossier's status by code and lookup key; an unknown code and a wrong key answer the same 404.
#[utoipa::path(get, path = "/api/v1/public/lookup", tag = "public", params(LookupQuery),
    responses((status = 200, body = PublicStatus), (status = 404, body = Problem), (status = 429, body = Problem)))]
pub async fn lookup(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LookupQuery>,
) -> AppResult<HttpResponse> {
    let (Some(code), Some(key)) = (q.code.clone(), q.key.clone()) else {
        return Err(
            AppError::validation("lookup.missing", "Both code and key are required.")
                .with_field("code", "required")
                .with_field("key", "required"),
        );
    };
    let status = checked_lookup(&state, &req, code, key).await?;
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

/// The lookup as a page for phones, in Vietnamese.
#[utoipa::path(get, path = "/tra-cuu", tag = "public", params(LookupQuery), responses((status = 200, content_type = "text/html")))]
pub async fn lookup_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LookupQuery>,
) -> AppResult<HttpResponse> {
    let code = q.code.clone().unwrap_or_default();
    let (mut status, mut error, mut http) = (None, None, actix_web::http::StatusCode::OK);
    if let (false, Some(key)) = (code.is_empty(), q.key.clone()) {
        match checked_lookup(&state, &req, code.clone(), key).await {
            Ok(s) => status = Some(s),
            Err(e) if e.code() == "lookup.rate_limited" => {
                error = Some("Quý vị tra cứu quá nhiều lần. Vui lòng thử lại sau ít phút.");
                http = actix_web::http::StatusCode::TOO_MANY_REQUESTS;
            }
            Err(e) if e.code() == "lookup.not_found" => {
                error = Some("Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu đã nhập.");
                http = actix_web::http::StatusCode::NOT_FOUND;
            }
            Err(e) => return Err(e),
        }
    }
    let fmt = |t: Option<chrono::DateTime<chrono::FixedOffset>>| {
        t.map(|t| t.format("%H:%M ngày %d/%m/%Y").to_string())
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
