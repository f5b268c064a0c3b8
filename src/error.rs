//! One error type for the whole service. Client faults are RFC 9457 problems with a stable
//! machine `code` ([`Code`], with the status it goes with); everything else is an opaque 500,
//! logged once here with its cause.

pub mod code;

pub use code::Code;

use crate::domain::rejection::Rejection;

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{Map, Value};

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:motcua:problem:{code}`
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `dossier.illegal_transition`.
    #[serde(serialize_with = "code_text")]
    #[schema(value_type = String)]
    pub code: Code,
    /// Per-field messages for validation failures.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, String>,
    /// Further members (e.g. `missing_items`, `allowed_actions`).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: Map<String, Value>,
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

fn code_text<S: serde::Serializer>(code: &Code, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(code.as_str())
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{}: {}", .0.code, .0.detail)]
    Problem(Box<Problem>),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

/// What a 503 tells the client to wait, in seconds.
const RETRY_AFTER_SECONDS: u64 = 5;

impl AppError {
    /// A problem with `code`, at the code's own status.
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        let status =
            StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::with_status(status, code, detail)
    }

    /// A problem whose status is not the code's own (`http.error` keeps the status of the
    /// response it stands in for).
    pub fn with_status(status: StatusCode, code: Code, detail: impl Into<String>) -> Self {
        AppError::Problem(Box::new(Problem {
            type_: format!("urn:motcua:problem:{}", code.as_str()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code,
            errors: BTreeMap::new(),
            extra: Map::new(),
            retry_after: None,
        }))
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(Code::AuthUnauthorized, detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(Code::AuthForbidden, detail)
    }
    /// A 422 about one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(Code::ValidationFailed, format!("{field}: {message}")).with_field(field, message)
    }
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::Internal(cause.to_string())
    }

    /// 503 `database.unavailable` with Retry-After: no pooled connection within
    /// `database.acquire_timeout_ms`, or the connection was lost. Logged once, here.
    pub fn database_unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error.cause = %cause, "database unavailable");
        Self::new(
            Code::DatabaseUnavailable,
            "The database cannot be reached just now; try again in a few seconds \
             (a receipt retried with the same Idempotency-Key is received once).",
        )
        .with_retry_after(RETRY_AFTER_SECONDS)
    }

    /// A failed write to `storage.dir`: disk full is 507 `storage.full`, a read-only file
    /// system 503 `storage.read_only`; anything else is internal.
    pub fn storage(e: std::io::Error) -> Self {
        use std::io::ErrorKind;
        match e.kind() {
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded => {
                tracing::warn!(error.cause = %e, "upload refused: storage full");
                Self::new(
                    Code::StorageFull,
                    "There is no room left to store the file; nothing was kept.",
                )
            }
            ErrorKind::ReadOnlyFilesystem => {
                tracing::warn!(error.cause = %e, "upload refused: storage is read-only");
                Self::new(
                    Code::StorageReadOnly,
                    "File storage is read-only just now; nothing was kept. Try again later.",
                )
                .with_retry_after(RETRY_AFTER_SECONDS)
            }
            _ => Self::internal(format!("storage: {e}")),
        }
    }

    pub fn with_field(mut self, field: &str, message: impl Into<String>) -> Self {
        if let AppError::Problem(p) = &mut self {
            p.errors.insert(field.to_owned(), message.into());
        }
        self
    }

    pub fn with_extra(mut self, key: &str, value: impl Into<Value>) -> Self {
        if let AppError::Problem(p) = &mut self {
            p.extra.insert(key.to_owned(), value.into());
        }
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        if let AppError::Problem(p) = &mut self {
            p.retry_after = Some(seconds);
        }
        self
    }

    pub fn code(&self) -> Code {
        match self {
            AppError::Problem(p) => p.code,
            AppError::Internal(_) => Code::Internal,
        }
    }
}

pub use crate::domain::rejection::FieldErrors;

impl FieldErrors {
    /// The collected messages as one 422, or nothing.
    pub fn into_result(self) -> AppResult<()> {
        self.into_checked().map_err(AppError::from)
    }
}

impl From<Rejection> for AppError {
    fn from(r: Rejection) -> Self {
        if r.code == Code::Internal {
            return AppError::Internal(r.detail);
        }
        let mut err = AppError::new(r.code, r.detail);
        if let AppError::Problem(p) = &mut err {
            p.errors = r.fields;
            p.extra
                .extend(r.extra.into_iter().map(|(k, v)| (k.to_owned(), v)));
        }
        err
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Problem(p) => {
                StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Problem(p) => {
                let mut resp = HttpResponse::build(self.status_code());
                resp.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
                if let Some(secs) = p.retry_after {
                    resp.insert_header((header::RETRY_AFTER, secs.to_string()));
                }
                resp.body(serde_json::to_string(p).unwrap_or_default())
            }
            AppError::Internal(cause) => {
                tracing::error!(error.cause = %cause, "internal error");
                let p = AppError::new(
                    Code::Internal,
                    "The server could not complete the request; it has been logged.",
                );
                match p {
                    AppError::Problem(p) => HttpResponse::InternalServerError()
                        .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
                        .body(serde_json::to_string(&p).unwrap_or_default()),
                    AppError::Internal(_) => HttpResponse::InternalServerError().finish(),
                }
            }
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => AppError::new(Code::NotFound, "No such record."),
            other if crate::db::is_connection_lost(&other) => {
                AppError::database_unavailable(format!("database: {other}"))
            }
            other => AppError::internal(format!("database: {other}")),
        }
    }
}

impl From<crate::db::DbError> for AppError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Query(q) => q.into(),
            e @ (crate::db::DbError::Pool(_) | crate::db::DbError::Connection(_)) => {
                AppError::database_unavailable(format!("database: {e}"))
            }
            other => AppError::internal(format!("database: {other}")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::database_unavailable(format!("database pool: {e}"))
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::internal(format!("blocking pool: {e}"))
    }
}
