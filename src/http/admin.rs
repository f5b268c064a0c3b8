//! Administration of units and users.

use super::access::{Admin, AnyUser, Caller};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::json::Json;
use crate::app::units::{self, Unit};
use crate::app::users::{self, CreateUserRequest, UpdateUserRequest, User};
use crate::app::{AppState, PageRequest};
use crate::error::{AppResult, Problem};

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    #[serde(default, deserialize_with = "crate::app::page_param")]
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<i64>,
    #[serde(default, deserialize_with = "crate::app::page_param")]
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<i64>,
}

/// All handling units.
#[utoipa::path(get, path = "/api/v1/units", tag = "admin",
    responses((status = 200, body = Vec<Unit>)))]
pub async fn list_units(
    state: web::Data<AppState>,
    _caller: Caller<AnyUser>,
) -> AppResult<HttpResponse> {
    let units = state.run(units::list_units).await?;
    Ok(HttpResponse::Ok().json(units))
}

/// Create a handling unit.
#[utoipa::path(post, path = "/api/v1/units", tag = "admin", request_body = Unit,
    responses((status = 201, body = Unit), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_unit(
    state: web::Data<AppState>,
    _caller: Caller<Admin>,
    body: Json<Unit>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let unit = state
        .run(move |conn| units::create_unit(conn, &body, now))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/units/{}", unit.code)))
        .json(unit))
}

/// Users, by username, a page at a time.
#[utoipa::path(get, path = "/api/v1/users", tag = "admin", params(PageQuery),
    responses((status = 200, description = "`{items: [User], total, page, per_page}`")))]
pub async fn list_users(
    state: web::Data<AppState>,
    _caller: Caller<Admin>,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let users = state.run(move |conn| users::list_users(conn, page)).await?;
    Ok(HttpResponse::Ok().json(users))
}

/// Create a user.
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = CreateUserRequest,
    responses((status = 201, body = User), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_user(
    state: web::Data<AppState>,
    _caller: Caller<Admin>,
    body: Json<CreateUserRequest>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let hash = match users::password_acceptable(&body.password) {
        true => Some(state.logins.hash(body.password.clone()).await?),
        false => None,
    };
    let user = state
        .run(move |conn| users::create_user_with_hash(conn, &body, hash, now))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", user.username)))
        .json(user))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{username}", tag = "admin",
    params(("username" = String, Path)),
    responses((status = 200, body = User), (status = 404, body = Problem)))]
pub async fn get_user(
    state: web::Data<AppState>,
    _caller: Caller<Admin>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let username = path.into_inner();
    let user = state
        .run(move |conn| users::get_user(conn, &username))
        .await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Change a user (role, unit, password, active…); changes of password, role, unit or
/// deactivation end the user's sessions.
#[utoipa::path(patch, path = "/api/v1/users/{username}", tag = "admin",
    params(("username" = String, Path)), request_body = UpdateUserRequest,
    responses((status = 200, body = User), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`user.last_admin`: it would leave no active admin"),
        (status = 422, body = Problem)))]
pub async fn update_user(
    state: web::Data<AppState>,
    _caller: Caller<Admin>,
    path: web::Path<String>,
    body: Json<UpdateUserRequest>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let username = path.into_inner();
    let hash = match &body.password {
        Some(p) if users::password_acceptable(p) => Some(state.logins.hash(p.clone()).await?),
        _ => None,
    };
    let user = state
        .run(move |conn| users::update_user(conn, &username, &body, hash, now))
        .await?;
    Ok(HttpResponse::Ok().json(user))
}
