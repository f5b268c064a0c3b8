//! Who may call what, enforced twice so that either lock alone stops a request:
//!
//! 1. [`enforce`], a middleware wrapped around each *resource* the route table registers, so it
//!    runs for the resource the router actually picked (the router matches the percent-decoded
//!    path; a lookup on the raw path would not see `/api/v1/%75sers` as `/api/v1/users`). A path
//!    that matches no resource reaches the 404 handler and nothing else.
//! 2. [`Caller<P>`], the extractor every non-public handler takes: it verifies the token and the
//!    roles of its policy `P` itself, so a handler fails closed even without the middleware.

use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};

use crate::app::AppState;
use crate::app::users::{self, Principal};
use crate::domain::role::Role;
use crate::error::AppError;

use super::session;

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

/// An access policy as a type, so that a handler's signature states who may call it.
pub trait Policy: 'static {
    const ACCESS: Access;
}

macro_rules! policies {
    ($( $(#[$doc:meta])* $name:ident = $access:expr; )*) => {
        $( $(#[$doc])* #[derive(Debug)] pub struct $name; impl Policy for $name { const ACCESS: Access = $access; } )*
    };
}

policies! {
    /// No token needed (no handler takes a `Caller<Public>`).
    Public = Access::Public;
    /// Any logged-in user.
    AnyUser = Access::AnyUser;
    Admin = Access::Roles(&[Role::Admin]);
    /// Admins, clerks, officers, leaders, viewers (not the portal account).
    Staff = Access::Roles(&[Role::Admin, Role::Clerk, Role::Officer, Role::Leader, Role::Viewer]);
    /// Who creates dossiers: counter clerks, the online portal, admins (back-entry).
    Intake = Access::Roles(&[Role::Admin, Role::Clerk, Role::Portal]);
    /// Who performs actions; each action's own roles (design §4) are checked by the use case.
    Actors = Access::Roles(&[Role::Admin, Role::Clerk, Role::Officer, Role::Leader]);
    /// Who receives at the counter through the console (the portal files through the API).
    Counter = Access::Roles(&[Role::Admin, Role::Clerk]);
    /// Who scans and attaches documents.
    Digitisers = Access::Roles(&[Role::Admin, Role::Clerk, Role::Officer, Role::Leader]);
    /// Who pulls statistics.
    Reporters = Access::Roles(&[Role::Admin, Role::Leader, Role::Viewer]);
    /// Who reads the notification outbox (applicants' addresses).
    Auditors = Access::Roles(&[Role::Admin, Role::Viewer]);
}

/// The access rules of one resource (one path), by method; set as the resource's app data.
/// `page`: a console page (its path in the table starts with `/console`), which also takes
/// the page session's cookie; every other route takes bearer tokens only.
#[derive(Debug, Clone)]
pub struct ResourceRules {
    pub rules: Vec<(Method, Access)>,
    pub page: bool,
}

/// How the caller proved who they are.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Credential {
    Bearer(String),
    /// The console's session cookie (page routes only).
    Session(String),
}

impl Credential {
    fn token(&self) -> &str {
        match self {
            Credential::Bearer(t) | Credential::Session(t) => t,
        }
    }
}

fn is_page(req: &HttpRequest) -> bool {
    req.app_data::<ResourceRules>().is_some_and(|r| r.page)
}

/// A bearer token wherever; the session cookie only on page routes. A bearer token is never
/// sent by a browser on its own, so it needs no CSRF token; the cookie is, so it does.
fn credential(req: &HttpRequest) -> Option<Credential> {
    if let Some(t) = bearer_token(req) {
        return Some(Credential::Bearer(t));
    }
    if is_page(req) {
        return session::session_token(req).map(Credential::Session);
    }
    None
}

/// The caller, checked against the policy `P` of the route.
#[derive(Debug)]
pub struct Caller<P: Policy> {
    principal: Principal,
    policy: PhantomData<P>,
}

impl<P: Policy> Caller<P> {
    pub fn into_inner(self) -> Principal {
        self.principal
    }
}

impl<P: Policy> From<Caller<P>> for Principal {
    fn from(c: Caller<P>) -> Principal {
        c.principal
    }
}

impl<P: Policy> Deref for Caller<P> {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.principal
    }
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
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

/// The caller of a request to a route with this access: 401 without a valid token, 403 when
/// the role does not fit. The token's role is checked before the database is asked, so a
/// refusal never waits behind (or loses the race to) the other extractors of a handler; the
/// user as the database has it now is then checked again.
async fn resolve_principal(req: &HttpRequest, access: Access) -> Result<Principal, AppError> {
    if let Some(p) = req.extensions().get::<Principal>() {
        check(access, p)?;
        return Ok(p.clone());
    }
    let credential = credential(req).ok_or_else(|| {
        if is_page(req) {
            AppError::unauthorized("Log in first (/console/login).")
        } else {
            AppError::unauthorized("This route needs `Authorization: Bearer <token>`.")
        }
    })?;
    let token = credential.token().to_owned();
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal("application state missing"))?
        .clone();
    let claims = state
        .tokens
        .verify(&token)
        .map_err(|_| AppError::unauthorized("The token is invalid or expired."))?;
    if !access.allows(claims.role) {
        return Err(forbidden(claims.role));
    }
    let principal = state
        .run(move |conn| users::authenticate(conn, &claims))
        .await?;
    check(access, &principal)?;
    req.extensions_mut().insert(principal.clone());
    req.extensions_mut().insert(credential);
    Ok(principal)
}

/// A page-session request that changes state and whose CSRF token was not checked.
fn unchecked_session_write(req: &HttpRequest) -> bool {
    session::changes_state(req.method())
        && matches!(
            req.extensions().get::<Credential>(),
            Some(Credential::Session(_))
        )
        && req.extensions().get::<session::CsrfChecked>().is_none()
}

fn forbidden(role: Role) -> AppError {
    AppError::forbidden(format!("Role {role} may not use this route."))
}

fn check(access: Access, principal: &Principal) -> Result<(), AppError> {
    if access.allows(principal.role) {
        Ok(())
    } else {
        Err(forbidden(principal.role))
    }
}

/// Lock 1: refuses (401/403) before the handler when the token or the role does not fit the
/// access the route table declares for this resource and method. A method the resource does
/// not have goes on to the resource's 405 answer, which runs no handler.
/// On page routes it also checks the CSRF token of every state-changing request made with
/// the session cookie, before any handler reads the form: the one place for it.
pub async fn enforce(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let access = match req.app_data::<ResourceRules>() {
        Some(rules) => rules
            .rules
            .iter()
            .find(|(m, _)| m == req.method())
            .map(|(_, a)| *a),
        // Wrapped around a resource without rules: a wiring mistake, refused.
        None => Some(Access::Roles(&[])),
    };
    let mut outcome = match access {
        None | Some(Access::Public) => Ok(()),
        Some(access) => resolve_principal(req.request(), access).await.map(|_| ()),
    };
    let session = match req.extensions().get::<Credential>() {
        Some(Credential::Session(t)) if session::changes_state(req.method()) => Some(t.clone()),
        _ => None,
    };
    if let (Ok(()), Some(session)) = (&outcome, session) {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        outcome = match state {
            Some(state) => session::check_csrf(&mut req, &state, &session).await,
            None => Err(AppError::internal("application state missing")),
        };
        if outcome.is_ok() {
            req.extensions_mut().insert(session::CsrfChecked);
        }
    }
    match outcome {
        Ok(()) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        Err(e) => Ok(req.into_response(e.error_response()).map_into_right_body()),
    }
}

/// Lock 2: the handler's own check, independent of the middleware.
impl<P: Policy> FromRequest for Caller<P> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let principal = resolve_principal(&req, P::ACCESS).await?;
            if unchecked_session_write(&req) {
                return Err(AppError::new(
                    crate::error::Code::AuthCsrf,
                    "The CSRF token of this form was not checked.",
                ));
            }
            Ok(Caller {
                principal,
                policy: PhantomData,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn principal(role: Role) -> Principal {
        Principal {
            user_id: "u".into(),
            username: "u".into(),
            role,
            unit_code: None,
        }
    }

    #[actix_web::test]
    async fn the_extractor_refuses_without_a_token_and_with_a_wrong_role() {
        // No token, no middleware, no state: refused before anything else is looked at.
        let req = TestRequest::default().to_http_request();
        let err = Caller::<Admin>::extract(&req).await.unwrap_err();
        assert_eq!(err.status_code(), 401);

        // A caller the middleware resolved is still checked against the handler's own policy.
        let req = TestRequest::default().to_http_request();
        req.extensions_mut().insert(principal(Role::Clerk));
        let err = Caller::<Admin>::extract(&req).await.unwrap_err();
        assert_eq!(err.status_code(), 403);
        let ok = Caller::<Staff>::extract(&req).await.unwrap();
        assert_eq!(ok.role, Role::Clerk);
    }
}
