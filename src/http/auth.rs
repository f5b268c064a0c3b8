//! Login, the current user and password change.

use super::access::{AnyUser, Caller};
use super::client::ClientIp;
use actix_web::{HttpResponse, web};

use super::json::Json;
use crate::app::AppState;
use crate::app::users::{self, ChangePasswordRequest, LoginRequest, LoginResponse, User};
use crate::error::{AppResult, Problem};

/// Log in with username and password; answers an access token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = Problem),
        (status = 429, body = Problem, description = "too many failures for this username or address; see `Retry-After`")))]
pub async fn login(
    state: web::Data<AppState>,
    client: ClientIp,
    body: Json<LoginRequest>,
) -> AppResult<HttpResponse> {
    let resp = users::login(&state, body.0, client.0).await?;
    Ok(HttpResponse::Ok().json(resp))
}

/// The logged-in user.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = User), (status = 401, body = Problem)))]
pub async fn me(state: web::Data<AppState>, caller: Caller<AnyUser>) -> AppResult<HttpResponse> {
    let principal = caller.into_inner();
    let user = state
        .run(move |conn| users::get_user_by_id(conn, &principal.user_id))
        .await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Change one's own password; every earlier token stops working.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth",
    request_body = ChangePasswordRequest,
    responses((status = 204), (status = 401, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn change_password(
    state: web::Data<AppState>,
    caller: Caller<AnyUser>,
    client: ClientIp,
    body: Json<ChangePasswordRequest>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    users::change_password(&state, &caller, body.0, client.0, now).await?;
    Ok(HttpResponse::NoContent().finish())
}
