//! Login, the current user and password change.

use actix_web::{HttpResponse, web};

use super::json::Json;
use crate::app::AppState;
use crate::app::users::{
    self, ChangePasswordRequest, LoginRequest, LoginResponse, Principal, User,
};
use crate::error::{AppResult, Problem};

/// Log in with username and password; answers an access token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = Problem)))]
pub async fn login(
    state: web::Data<AppState>,
    body: Json<LoginRequest>,
) -> AppResult<HttpResponse> {
    let tokens = state.tokens.clone();
    let resp = state
        .run(move |conn| users::login(conn, &tokens, &body))
        .await?;
    Ok(HttpResponse::Ok().json(resp))
}

/// The logged-in user.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = User), (status = 401, body = Problem)))]
pub async fn me(state: web::Data<AppState>, principal: Principal) -> AppResult<HttpResponse> {
    let user = state
        .run(move |conn| users::get_user_by_id(conn, &principal.user_id))
        .await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Change one's own password; every earlier token stops working.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth",
    request_body = ChangePasswordRequest,
    responses((status = 204), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn change_password(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<ChangePasswordRequest>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    state
        .run(move |conn| users::change_password(conn, &principal, &body, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
