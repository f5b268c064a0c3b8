//! The procedure catalogue (public reads, admin writes).

use super::access::{Admin, Caller};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::json::Json;
use crate::app::procedures::{self, Procedure};
use crate::app::{AppState, PageRequest};
use crate::domain::procedure::ProcedureDefinition;
use crate::error::{AppResult, Problem};

#[derive(Debug, Deserialize, IntoParams)]
pub struct ProcedureQuery {
    pub field: Option<String>,
    #[serde(default, deserialize_with = "crate::app::page_param")]
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<i64>,
    #[serde(default, deserialize_with = "crate::app::page_param")]
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<i64>,
}

/// The catalogue (current versions).
#[utoipa::path(get, path = "/api/v1/procedures", tag = "procedures", params(ProcedureQuery),
    responses((status = 200, description = "`{items: [Procedure], total, page, per_page}`")))]
pub async fn list_procedures(
    state: web::Data<AppState>,
    q: web::Query<ProcedureQuery>,
) -> AppResult<HttpResponse> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let field = q.field.clone();
    let list = state
        .run(move |conn| procedures::list(conn, field.as_deref(), page))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// One procedure (current version).
#[utoipa::path(get, path = "/api/v1/procedures/{code}", tag = "procedures", params(("code" = String, Path)),
    responses((status = 200, body = Procedure), (status = 404, body = Problem)))]
pub async fn get_procedure(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let p = state.run(move |conn| procedures::get(conn, &code)).await?;
    Ok(HttpResponse::Ok().json(p))
}

/// Add a procedure to the catalogue.
#[utoipa::path(post, path = "/api/v1/procedures", tag = "procedures", request_body = ProcedureDefinition,
    responses((status = 201, body = Procedure), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_procedure(
    state: web::Data<AppState>,
    principal: Caller<Admin>,
    body: Json<ProcedureDefinition>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let day = state.calendar.settings().day_length();
    let p = state
        .run(move |conn| procedures::create(conn, &principal.username, &body, day, now))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/procedures/{}", p.definition.code),
        ))
        .json(p))
}

/// Change a procedure: makes a new version; dossiers keep the version they were received under.
#[utoipa::path(put, path = "/api/v1/procedures/{code}", tag = "procedures", params(("code" = String, Path)),
    request_body = ProcedureDefinition,
    responses((status = 200, body = Procedure), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_procedure(
    state: web::Data<AppState>,
    principal: Caller<Admin>,
    path: web::Path<String>,
    body: Json<ProcedureDefinition>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let day = state.calendar.settings().day_length();
    let code = path.into_inner();
    let p = state
        .run(move |conn| procedures::update(conn, &principal.username, &code, &body, day, now))
        .await?;
    Ok(HttpResponse::Ok().json(p))
}
