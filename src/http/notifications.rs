//! The notification outbox.

use actix_web::{HttpResponse, web};

use super::access::{Auditors, Caller};
use crate::app::AppState;
use crate::app::notifications::{self, NotificationQuery};
use crate::error::{AppResult, Problem};

/// Outbox rows, newest first: what was sent, what waits, what failed and why.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(NotificationQuery),
    responses((status = 200, description = "`{items: [{id, event, dossier, to, subject, status, attempts, last_error, sent_at, …}], total, page, per_page}`"),
        (status = 422, body = Problem)))]
pub async fn list_notifications(
    state: web::Data<AppState>,
    _caller: Caller<Auditors>,
    q: web::Query<NotificationQuery>,
) -> AppResult<HttpResponse> {
    let page = state.run(move |conn| notifications::list(conn, &q)).await?;
    Ok(HttpResponse::Ok().json(page))
}
