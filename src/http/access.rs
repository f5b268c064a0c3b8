//! Who may call what: the route table's access column, checked before any handler runs.

use std::future::{Ready, ready};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};

use crate::app::AppState;
use crate::app::users::{self, Principal};
use crate::auth::Role;
use crate::error::AppError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No token needed.
    Public,
    /// Any logged-in user, whatever the role.
    AnyUser,
    /// Only these roles.
    Roles(&'static [Role]),
}

impl Access {
    pub fn allows(self, role: Role) -> bool {
        match self {
            Access::Public | Access::AnyUser => true,
            Access::Roles(roles) => roles.contains(&role),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct RouteSpec {
    /// Lower-case HTTP method, as in `web::get`.
    pub method: &'static str,
    /// The actix pattern, e.g. `/api/v1/users/{username}`.
    pub path: &'static str,
    pub access: Access,
}

fn route_access(method: &str, pattern: &str) -> Option<Access> {
    super::ROUTES
        .iter()
        .find(|r| r.path == pattern && r.method.eq_ignore_ascii_case(method))
        .map(|r| r.access)
}

fn bearer_token(req: &ServiceRequest) -> Option<String> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Resolves the caller for routes that need one and refuses the request (401/403) before
/// the handler when the token or the role does not fit the route's declared access.
pub async fn authorize(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    let access = req
        .match_pattern()
        .and_then(|p| route_access(req.method().as_str(), &p));
    let access = match access {
        // Unknown routes fall through to the 404 handler; public ones need nothing.
        None | Some(Access::Public) => {
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_left_body);
        }
        Some(a) => a,
    };
    match resolve_principal(&req, access).await {
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        Err(e) => Ok(req.into_response(e.error_response()).map_into_right_body()),
    }
}

async fn resolve_principal(req: &ServiceRequest, access: Access) -> Result<Principal, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal("application state missing"))?
        .clone();
    let token = bearer_token(req).ok_or_else(|| {
        AppError::unauthorized("This route needs `Authorization: Bearer <token>`.")
    })?;
    let claims = state
        .tokens
        .verify(&token)
        .map_err(|_| AppError::unauthorized("The token is invalid or expired."))?;
    let principal = state
        .run(move |conn| users::authenticate(conn, &claims))
        .await?;
    if !access.allows(principal.role) {
        return Err(AppError::forbidden(format!(
            "Role {} may not use this route.",
            principal.role
        )));
    }
    Ok(principal)
}

impl FromRequest for Principal {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Principal>()
                .cloned()
                .ok_or_else(|| AppError::unauthorized("Not logged in.")),
        )
    }
}
