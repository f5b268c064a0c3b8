//! JSON request bodies. Unlike actix's `web::Json`, a body that is not JSON at all is told
//! apart from JSON of the wrong shape (400 vs 422), by re-reading the bytes on the error path.

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::error::AppError;
use crate::error::Code;

/// Largest JSON body accepted.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;

#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    serde_json::from_slice::<T>(bytes).map_err(|e| {
        if serde_json::from_slice::<IgnoredAny>(bytes).is_ok() {
            AppError::new(
                Code::RequestInvalidBody,
                format!("The body does not fit: {e}"),
            )
        } else {
            AppError::new(Code::RequestMalformedJson, format!("Malformed JSON: {e}"))
        }
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !is_json(req) {
            return Box::pin(async {
                Err(AppError::new(
                    Code::RequestContentType,
                    "The body must be JSON (Content-Type: application/json).",
                )
                .into())
            });
        }
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::new(Code::RequestTooLarge, "The body is too large.")
                } else {
                    AppError::new(
                        Code::RequestUnreadableBody,
                        format!("Could not read the body: {e}"),
                    )
                }
            })?;
            Ok(Json(parse(&bytes)?))
        })
    }
}

/// The byte limit for bodies read by [`Json`].
pub fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(MAX_JSON_BYTES)
}
