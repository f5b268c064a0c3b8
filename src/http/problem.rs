//! Every error leaves as `application/problem+json`: extractor errors, unknown routes and any
//! stray non-problem error response.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::error::AppError;
use crate::error::Code;

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _| {
        AppError::new(Code::RequestBadPath, format!("No such resource: {err}")).into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _| {
        AppError::new(Code::RequestBadQuery, format!("Bad query string: {err}")).into()
    })
}

pub async fn not_found(req: HttpRequest) -> AppError {
    AppError::new(
        Code::RouteNotFound,
        format!("No route for {} {}.", req.method(), req.path()),
    )
}

impl actix_web::Responder for AppError {
    type Body = actix_web::body::BoxBody;
    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        self.error_response()
    }
}

/// Rewrites any error response that is not yet a problem document (actix's own 404/405/413
/// and the like) into one, so clients see a single error format.
pub async fn problem_fallback(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let res = next.call(req).await?;
    let status = res.status();
    // actix's own errors come as text/plain or with no body type; pages (HTML) and problem
    // documents are left as they are.
    let plain = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if (status.is_client_error() || status.is_server_error()) && plain {
        let err = AppError::with_status(
            status,
            Code::HttpError,
            status.canonical_reason().unwrap_or("Error"),
        );
        let (req, _) = res.into_parts();
        return Ok(ServiceResponse::new(req, err.error_response()).map_into_right_body());
    }
    Ok(res.map_into_left_body())
}
