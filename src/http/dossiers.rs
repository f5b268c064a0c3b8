//! Dossiers: receipt and online filing, actions, the dossier view, history and queues.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::access::{Actors, Caller, Intake, Staff};
use super::json::Json;
use crate::app::AppState;
use crate::app::dossiers::{
    self, ActionRequest, ComponentsRequest, CreateDossierRequest, CreatedDossier, Ctx, Dossier,
    HistoryRow, ListQuery,
};
use crate::app::users::Principal;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, Code, Problem};

/// Runs a dossier use case on the blocking pool with the current calendar and clock.
pub(super) async fn with_ctx<T: Send + 'static>(
    state: &web::Data<AppState>,
    principal: impl Into<Principal>,
    f: impl FnOnce(&mut DbConnection, &Ctx) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let principal = principal.into();
    let app = state.get_ref().clone();
    let now = app.clock.now();
    state
        .run(move |conn| {
            let cal = app.calendar.current(conn)?;
            let ctx = Ctx {
                state: &app,
                cal: &cal,
                principal: &principal,
                now,
            };
            f(conn, &ctx)
        })
        .await
}

/// `dossiers::create` with its write in the group commit: the reads and rules on a pooled
/// connection, then the writes queued with those of other requests, then the answer.
pub(super) async fn receive(
    state: &web::Data<AppState>,
    principal: impl Into<Principal>,
    req: CreateDossierRequest,
    key: Option<String>,
) -> AppResult<(u16, serde_json::Value)> {
    let random: [u8; 6] = rand::random();
    let prepared = with_ctx(state, principal, move |conn, ctx| {
        dossiers::prepare(conn, ctx, &req, key.as_deref(), random)
    })
    .await?;
    let job = match prepared {
        dossiers::Prepared::Replay(answer) => return Ok(answer),
        dossiers::Prepared::Write(job) => std::sync::Arc::<dossiers::Receipt>::from(job),
    };
    let writer = job.clone();
    match state.write_grouped(move |conn| writer.write(conn)).await {
        Ok(written) => job.answer(written),
        Err(e) if dossiers::Receipt::lost_race(&e) => {
            state.run(move |conn| job.replay_winner(conn)).await
        }
        Err(e) => Err(e),
    }
}

fn etag(version: i32) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{version}\""))
}

/// Receive a dossier at the counter (clerk → `received`), file one online (portal →
/// `submitted`), or back-enter a paper one (admin, with `received_at`). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/dossiers", tag = "dossiers", request_body = CreateDossierRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key answers the first response and creates nothing")),
    responses((status = 201, body = CreatedDossier), (status = 422, body = Problem, description = "validation, or `missing_items`")))]
pub async fn create_dossier(
    state: web::Data<AppState>,
    principal: Caller<Intake>,
    req: HttpRequest,
    body: Json<CreateDossierRequest>,
) -> AppResult<HttpResponse> {
    let key = req
        .headers()
        .get("Idempotency-Key")
        .map(|v| v.to_str().map(str::to_owned))
        .transpose()
        .map_err(|_| AppError::new(Code::RequestBadHeader, "Idempotency-Key must be text."))?;
    if key.as_ref().is_some_and(|k| k.is_empty() || k.len() > 200) {
        return Err(AppError::new(
            Code::RequestBadHeader,
            "Idempotency-Key must be 1–200 characters.",
        ));
    }
    let (status, value) = receive(&state, principal, body.0, key).await?;
    let code = value["code"].as_str().unwrap_or_default().to_owned();
    let version = value["version"].as_i64().unwrap_or(1);
    Ok(HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::CREATED),
    )
    .insert_header((header::LOCATION, format!("/api/v1/dossiers/{code}")))
    .insert_header((header::ETAG, format!("\"{version}\"")))
    .json(value))
}

/// Dossiers visible to the caller, newest first, with queue filters.
#[utoipa::path(get, path = "/api/v1/dossiers", tag = "dossiers", params(ListQuery),
    responses((status = 200, description = "`{items: [Dossier], total, page, per_page}`")))]
pub async fn list_dossiers(
    state: web::Data<AppState>,
    principal: Caller<Staff>,
    q: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let page = with_ctx(&state, principal, move |conn, ctx| {
        dossiers::list(conn, ctx, &q)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One dossier, with its `ETag` (the version to send back in `If-Match`).
#[utoipa::path(get, path = "/api/v1/dossiers/{code}", tag = "dossiers", params(("code" = String, Path)),
    responses((status = 200, body = Dossier), (status = 404, body = Problem)))]
pub async fn get_dossier(
    state: web::Data<AppState>,
    principal: Caller<Staff>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let dossier = with_ctx(&state, principal, move |conn, ctx| {
        dossiers::get(conn, ctx, &path)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(dossier.version))
        .json(dossier))
}

/// Perform an action of the lifecycle (design §4). `If-Match` with the ETag guards against
/// concurrent changes (412 when stale); a state that does not allow the action answers 409
/// with `allowed_actions`.
#[utoipa::path(post, path = "/api/v1/dossiers/{code}/actions/{action}", tag = "dossiers",
    params(("code" = String, Path), ("action" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = ActionRequest,
    responses((status = 200, body = Dossier),
        (status = 400, body = Problem, description = "If-Match is not an ETag"), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn perform_action(
    state: web::Data<AppState>,
    principal: Caller<Actors>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Json<ActionRequest>,
) -> AppResult<HttpResponse> {
    let if_match = if_match(&req)?;
    let (code, action) = path.into_inner();
    let dossier = with_ctx(&state, principal, move |conn, ctx| {
        dossiers::act(conn, ctx, &code, &action, &body, if_match)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(dossier.version))
        .json(dossier))
}

fn if_match(req: &HttpRequest) -> AppResult<Option<i32>> {
    match req.headers().get(header::IF_MATCH) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(dossiers::parse_if_match)
            .map(Some)
            .ok_or_else(|| {
                AppError::new(
                    Code::RequestBadHeader,
                    "If-Match must be the dossier's ETag.",
                )
            }),
    }
}

/// Add components to an online filing that waits for completion (state `submitted`, e.g.
/// after `ask_completion`): the portal on the applicant's behalf, or the counter. Each
/// component is recorded against the checklist, replacing an earlier entry of the same item;
/// the history gets an `add_components` row. Then `accept` can receive the complete dossier.
#[utoipa::path(post, path = "/api/v1/dossiers/{code}/components", tag = "dossiers",
    params(("code" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body = ComponentsRequest,
    responses((status = 200, body = Dossier),
        (status = 400, body = Problem, description = "If-Match is not an ETag"), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the dossier is not waiting for completion"),
        (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn add_components(
    state: web::Data<AppState>,
    principal: Caller<Intake>,
    req: HttpRequest,
    path: web::Path<String>,
    body: Json<ComponentsRequest>,
) -> AppResult<HttpResponse> {
    let if_match = if_match(&req)?;
    let code = path.into_inner();
    let dossier = with_ctx(&state, principal, move |conn, ctx| {
        dossiers::add_components(conn, ctx, &code, &body, if_match)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(dossier.version))
        .json(dossier))
}

/// The processing-control slip: one row per action, with step due times and timeliness.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}/history", tag = "dossiers", params(("code" = String, Path)),
    responses((status = 200, body = Vec<HistoryRow>), (status = 404, body = Problem)))]
pub async fn dossier_history(
    state: web::Data<AppState>,
    principal: Caller<Staff>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let rows = with_ctx(&state, principal, move |conn, ctx| {
        dossiers::history(conn, ctx, &path)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows))
}
