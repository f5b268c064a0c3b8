//! The outbox as staff see it (`GET /api/v1/notifications`).

use crate::clock::ApiTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::outbox::{self, OutboxRow, OutboxStatus};
use crate::db::{DbConnection, from_db_time};
use crate::error::{AppResult, FieldErrors};

use super::{Page, PageRequest};

#[derive(Debug, Serialize, ToSchema)]
pub struct Notification {
    pub id: String,
    pub event: String,
    pub dossier: Option<String>,
    pub to: String,
    pub subject: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: ApiTime,
    pub created_at: ApiTime,
    pub sent_at: Option<ApiTime>,
    pub message_id: String,
}

impl From<OutboxRow> for Notification {
    fn from(r: OutboxRow) -> Self {
        Notification {
            id: r.id,
            event: r.event,
            dossier: r.dossier_code,
            to: r.recipient,
            subject: r.subject,
            status: r.status.as_str().to_owned(),
            attempts: r.attempts,
            last_error: r.last_error,
            next_attempt_at: from_db_time(r.next_attempt_at).into(),
            created_at: from_db_time(r.created_at).into(),
            sent_at: r.sent_at.map(|t| from_db_time(t).into()),
            message_id: r.message_id,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct NotificationQuery {
    /// Dossier code.
    pub dossier: Option<String>,
    /// `pending`, `sending`, `sent` or `failed`.
    pub status: Option<String>,
    #[serde(default, deserialize_with = "crate::app::page_param")]
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<i64>,
    #[serde(default, deserialize_with = "crate::app::page_param")]
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<i64>,
}

pub fn list(conn: &mut DbConnection, q: &NotificationQuery) -> AppResult<Page<Notification>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let mut errors = FieldErrors::default();
    let status = match q.status.as_deref().map(str::parse::<OutboxStatus>) {
        Some(Err(_)) => {
            errors.add("status", "must be pending, sending, sent or failed");
            None
        }
        other => other.and_then(Result::ok),
    };
    errors.into_result()?;
    let (rows, total) = outbox::list(
        conn,
        q.dossier.as_deref(),
        status,
        page.offset(),
        page.per_page,
    )?;
    Ok(Page {
        items: rows.into_iter().map(Notification::from).collect(),
        total,
        page: page.page,
        per_page: page.per_page,
    })
}
