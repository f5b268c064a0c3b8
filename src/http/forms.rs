//! Printable forms 01–05 as A4 HTML pages.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::access::{Caller, Staff};
use super::dossiers::with_ctx;
use crate::app::AppState;
use crate::app::forms;
use crate::error::{AppResult, Problem};

#[derive(Debug, Deserialize, IntoParams)]
pub struct FormQuery {
    /// Form 01: the lookup key from the creation answer, printed when it matches.
    pub key: Option<String>,
}

/// Printable forms, numbered by the dossier's rule regime. Under Thông tư 01/2018 (dossiers
/// of `nd61_2018`): 01 receipt and appointment slip, 02 request to complete or supplement, 03
/// refusal (or rejection), 04 apology with a new appointment, 05 processing-control slip.
/// Under Thông tư 03/2025 (`nd118_2025`): 01–04 the same, 05 stop notice, 06 control slip.
/// Each carries a QR code (Thông tư 01/2023) at the top left; form 01 only once received.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}/forms/{form}", tag = "documents",
    params(("code" = String, Path), ("form" = String, Path, description = "01 to 05 (nd61_2018) or 01 to 06 (nd118_2025)"), FormQuery),
    responses((status = 200, content_type = "text/html"), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn form(
    state: web::Data<AppState>,
    principal: Caller<Staff>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<FormQuery>,
) -> AppResult<HttpResponse> {
    let (code, number) = path.into_inner();
    let key = q.into_inner().key;
    let reached_at = super::client::reached_at(&req);
    let html = with_ctx(&state, principal, move |conn, ctx| {
        forms::render(conn, ctx, &code, &number, key.as_deref(), &reached_at)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}
