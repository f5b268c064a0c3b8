//! The working calendar: special days, their admin edits, and due-time explanations.

use super::access::{Admin, AnyUser, Caller};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Datelike, NaiveDate};
use serde::Deserialize;
use utoipa::IntoParams;

use super::json::Json;
use crate::app::AppState;
use crate::app::calendar::{self, CalendarChange, CalendarDay, PutCalendarDay};
use crate::domain::deadline::{Duration, DurationUnit};
use crate::error::{AppError, AppResult, Code, FieldErrors, Problem};

#[derive(Debug, Deserialize, IntoParams)]
pub struct YearQuery {
    /// Defaults to the current local year.
    pub year: Option<i32>,
}

fn parse_date(raw: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        AppError::new(
            Code::CalendarBadDate,
            format!("{raw:?} is not a date (YYYY-MM-DD)."),
        )
    })
}

/// The special days of a year; for a year without a holiday decision, the provisional days
/// derived from the Labor Code (`provisional: true`).
#[utoipa::path(get, path = "/api/v1/calendar/days", tag = "calendar", params(YearQuery),
    responses((status = 200, body = Vec<CalendarDay>)))]
pub async fn list_days(
    state: web::Data<AppState>,
    _caller: Caller<AnyUser>,
    q: web::Query<YearQuery>,
) -> AppResult<HttpResponse> {
    let tz = state.calendar.settings().timezone();
    let year = q
        .year
        .unwrap_or_else(|| state.clock.now().with_timezone(&tz).year());
    let cache = state.calendar.clone();
    let days = state
        .run(move |conn| calendar::list_days(conn, &cache, year))
        .await?;
    Ok(HttpResponse::Ok().json(days))
}

/// Set a special day (holiday, compensatory or swapped day off, make-up working day).
#[utoipa::path(put, path = "/api/v1/calendar/days/{date}", tag = "calendar",
    params(("date" = String, Path, format = Date)), request_body = PutCalendarDay,
    responses((status = 200, body = CalendarDay), (status = 422, body = Problem)))]
pub async fn put_day(
    state: web::Data<AppState>,
    caller: Caller<Admin>,
    path: web::Path<String>,
    body: Json<PutCalendarDay>,
) -> AppResult<HttpResponse> {
    let principal = caller.into_inner();
    let date = parse_date(&path)?;
    let now = state.clock.now();
    let cache = state.calendar.clone();
    let day = state
        .run(move |conn| calendar::put_day(conn, &cache, &principal, date, &body, now))
        .await?;
    Ok(HttpResponse::Ok().json(day))
}

/// Remove a special day.
#[utoipa::path(delete, path = "/api/v1/calendar/days/{date}", tag = "calendar",
    params(("date" = String, Path, format = Date)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_day(
    state: web::Data<AppState>,
    caller: Caller<Admin>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let principal = caller.into_inner();
    let date = parse_date(&path)?;
    let now = state.clock.now();
    let cache = state.calendar.clone();
    state
        .run(move |conn| calendar::delete_day(conn, &cache, &principal, date, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The log of calendar edits, newest first (500 at most).
#[utoipa::path(get, path = "/api/v1/calendar/changes", tag = "calendar",
    responses((status = 200, body = Vec<CalendarChange>)))]
pub async fn list_changes(
    state: web::Data<AppState>,
    _caller: Caller<Admin>,
) -> AppResult<HttpResponse> {
    let changes = state.run(calendar::list_changes).await?;
    Ok(HttpResponse::Ok().json(changes))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DueQuery {
    /// RFC 3339 with offset; defaults to now.
    pub start: Option<String>,
    pub value: Option<String>,
    /// `working_days`, `working_hours`, `calendar_days` or `same_day`.
    pub unit: Option<String>,
}

/// The due time of a duration from a start, explained day by day.
#[utoipa::path(get, path = "/api/v1/calendar/due", tag = "calendar", params(DueQuery),
    responses((status = 200, description = "`{start, effective_start, due_at, duration, days: [{date, counted, kind, reason, …}]}`"),
        (status = 422, body = Problem)))]
pub async fn due(
    state: web::Data<AppState>,
    _caller: Caller<AnyUser>,
    q: web::Query<DueQuery>,
) -> AppResult<HttpResponse> {
    let mut errors = FieldErrors::default();
    let start = match &q.start {
        None => Some(state.clock.now()),
        Some(s) => DateTime::parse_from_rfc3339(s).ok().map(|t| t.to_utc()),
    };
    errors.check(
        start.is_some(),
        "start",
        "must be an RFC 3339 time with offset",
    );
    let value = q.value.as_deref().unwrap_or("");
    let value = value.parse::<u32>().ok();
    errors.check(value.is_some(), "value", "must be a whole number ≥ 0");
    let unit = q.unit.as_deref().unwrap_or("").parse::<DurationUnit>();
    if let Err(e) = &unit {
        errors.add("unit", e.to_string());
    }
    errors.into_result()?;
    let (Some(start), Some(value), Ok(unit)) = (start, value, unit) else {
        return Err(AppError::internal("validated due query"));
    };
    let cache = state.calendar.clone();
    let explanation = state
        .run(move |conn| {
            let cal = cache.current(conn)?;
            calendar::explain_due(&cal, start, Duration { value, unit })
        })
        .await?;
    Ok(HttpResponse::Ok().json(explanation))
}
