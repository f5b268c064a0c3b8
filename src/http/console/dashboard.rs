//! The leader's dashboard (Biểu 06 for a period preset with its CSV/XLSX export and the
//! on-time rate by month — the statistics page's own section, `app::report_page` — the 766
//! indicators, the overdue list) and the
//! administration page (units, users, procedures with their versions, the calendar's change
//! log). Both read through the report, user, unit, procedure and calendar use cases.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{Datelike, Months, NaiveDate};
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::access::{Admin, Caller, Reporters};
use super::super::dossiers::with_ctx;
use super::super::reports::bieu06_response;
use super::super::session::Csrf;
use super::{layout, render, role_label, when};
use crate::app::dossiers::{self, ListQuery};
use crate::app::reports::{self, PeriodQuery};
use crate::app::users::Principal;
use crate::app::{AppState, PageRequest, calendar, procedures, report_page, units, users};
use crate::auth::Role;
use crate::error::{AppError, AppResult, Problem};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DashboardQuery {
    /// `month` (default: this month), `quarter`, `half` (6 months) or `year`, ending today.
    pub period: Option<String>,
}

const PRESETS: [(&str, &str); 4] = [
    ("month", "Tháng này"),
    ("quarter", "Quý này"),
    ("half", "6 tháng"),
    ("year", "Năm nay"),
];

/// The first day of the preset's period that ends on `today`.
fn period_start(period: &str, today: NaiveDate) -> NaiveDate {
    let first_of = |month: u32| NaiveDate::from_ymd_opt(today.year(), month, 1).unwrap_or(today);
    match period {
        "quarter" => first_of((today.month0() / 3) * 3 + 1),
        "half" => first_of(today.month())
            .checked_sub_months(Months::new(5))
            .unwrap_or(today),
        "year" => first_of(1),
        _ => first_of(today.month()),
    }
}

/// Biểu 06, the monthly on-time chart, the 766 indicators and the overdue dossiers.
#[utoipa::path(get, path = "/console/dashboard", tag = "console", params(DashboardQuery),
    responses((status = 200, content_type = "text/html"), (status = 403, content_type = "text/html")))]
pub async fn dashboard(
    state: web::Data<AppState>,
    caller: Caller<Reporters>,
    csrf: Csrf,
    q: web::Query<DashboardQuery>,
) -> AppResult<HttpResponse> {
    let p = caller.into_inner();
    let period = super::choice(q.period.as_deref(), &PRESETS, "month");
    let tz = state.calendar.settings().timezone();
    let today = state.clock.now().with_timezone(&tz).date_naive();
    let from = period_start(&period, today);
    let whole = PeriodQuery {
        from: Some(from),
        to: Some(today),
        period: None,
        cutoff: None,
        group_by: Some("field".into()),
        format: None,
    };
    let rules = state.settings.reports.rules();
    let (report, months, indicators, overdue) = with_ctx(&state, p.clone(), move |conn, ctx| {
        let report = reports::bieu06(conn, tz, rules, &whole)?;
        let months = reports::monthly_rates(conn, rules, report.from, report.to)?;
        let indicators = reports::indicators(conn, ctx.cal, rules, &whole)?.list;
        let overdue = dossiers::list(
            conn,
            ctx,
            &ListQuery {
                overdue: Some(true),
                per_page: Some(50),
                ..ListQuery::default()
            },
        )?;
        Ok((report, months, indicators, overdue))
    })
    .await?;
    // The statistics page's own table and chart (issue 13), built once, placed here.
    let section = report_page::render_section(&report, &months, &state.settings.agency.name)?;
    let mut ctx = layout(&state, Some(&p), &csrf, "Thống kê", "/console/dashboard");
    ctx.insert(
        "presets".into(),
        json!(
            PRESETS
                .iter()
                .map(|(k, l)| json!({"href": format!("/console/dashboard?period={k}"), "label": l, "current": *k == period}))
                .collect::<Vec<_>>()
        ),
    );
    ctx.insert("from".into(), json!(from.format("%d/%m/%Y").to_string()));
    ctx.insert("to".into(), json!(today.format("%d/%m/%Y").to_string()));
    let export =
        |format: &str| format!("/console/dashboard/bieu-06?from={from}&to={today}&format={format}");
    ctx.insert("export_csv".into(), json!(export("csv")));
    ctx.insert("export_html".into(), json!(export("html")));
    ctx.insert("export_xlsx".into(), json!(export("xlsx")));
    ctx.insert("section".into(), json!(section));
    ctx.insert(
        "indicators".into(),
        json!(
            indicators
                .iter()
                .map(|i| json!({"id": i.id, "name": i.name,
                    "rate": i.rate.map_or("—".into(), |r| format!("{r:.1}")),
                    "points": i.points.map_or("—".into(), |x| format!("{x:.2} / {}", i.max_points))}))
                .collect::<Vec<_>>()
        ),
    );
    ctx.insert("overdue_total".into(), json!(overdue.total));
    ctx.insert(
        "overdue".into(),
        json!(
            overdue
                .items
                .iter()
                .map(|d| json!({"code": d.code, "procedure": d.procedure.name,
                    "step": d.current_step.as_ref().map(|s| format!("{} ({})", s.name, s.unit_code)),
                    "due": when(d.due_at_current.or(d.due_at))}))
                .collect::<Vec<_>>()
        ),
    );
    render(StatusCode::OK, "dashboard.html", ctx)
}

/// Biểu 06 of a period as CSV or XLSX, as `GET /api/v1/reports/bieu-06` answers it.
#[utoipa::path(get, path = "/console/dashboard/bieu-06", tag = "console", params(PeriodQuery),
    responses((status = 200, description = "CSV or XLSX"), (status = 422, content_type = "text/html")))]
pub async fn dashboard_export(
    state: web::Data<AppState>,
    _caller: Caller<Reporters>,
    q: web::Query<PeriodQuery>,
) -> AppResult<HttpResponse> {
    bieu06_response(&state, q.into_inner()).await
}

type Fields = Vec<(String, String)>;

fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.trim())
}

fn optional(f: &Fields, name: &str) -> Option<String> {
    Some(field(f, name).to_owned()).filter(|v| !v.is_empty())
}

/// The administration page, with a problem and the form as typed when a change was refused.
async fn admin_page(
    state: &web::Data<AppState>,
    p: &Principal,
    csrf: &Csrf,
    refused: Option<(&str, &Fields, &Problem)>,
    done: Option<&str>,
) -> AppResult<HttpResponse> {
    let tz = state.calendar.settings().timezone();
    let year = state.clock.now().with_timezone(&tz).year();
    let cache = state.calendar.clone();
    let (unit_list, user_page, procs, days, changes) = state
        .run(move |conn| {
            let page = PageRequest::new(Some(1), Some(200))?;
            Ok((
                units::list_units(conn)?,
                users::list_users(conn, page)?,
                procedures::list(conn, None, page)?,
                calendar::list_days(conn, &cache, year)?,
                calendar::list_changes(conn)?,
            ))
        })
        .await?;
    let mut ctx = layout(state, Some(p), csrf, "Quản trị", "/console/admin");
    ctx.insert("units".into(), json!(unit_list));
    ctx.insert("users_total".into(), json!(user_page.total));
    ctx.insert(
        "users".into(),
        json!(
            user_page
                .items
                .iter()
                .map(|u| json!({"username": u.username, "full_name": u.full_name, "role": role_label(u.role),
                                "unit_code": u.unit_code, "active": u.active}))
                .collect::<Vec<_>>()
        ),
    );
    ctx.insert(
        "roles".into(),
        json!(
            [
                Role::Clerk,
                Role::Officer,
                Role::Leader,
                Role::Viewer,
                Role::Admin,
                Role::Portal
            ]
            .iter()
            .map(|r| json!({"value": r.as_str(), "label": role_label(*r)}))
            .collect::<Vec<_>>()
        ),
    );
    let local = |t: crate::clock::ApiTime| t.local().format("%H:%M %d/%m/%Y").to_string();
    ctx.insert(
        "procedures".into(),
        json!(
            procs
                .items
                .iter()
                .map(|pr| json!({"code": pr.definition.code, "name": pr.definition.name,
                    "field": pr.definition.field, "version": pr.version, "updated": local(pr.updated_at)}))
                .collect::<Vec<_>>()
        ),
    );
    ctx.insert("year".into(), json!(year));
    ctx.insert(
        "days".into(),
        json!(
            days.iter()
                .map(|d| json!({"date": d.date.format("%d/%m/%Y").to_string(), "kind": day_kind_label(&d.kind),
                    "name": d.name, "source": d.source, "provisional": d.provisional}))
                .collect::<Vec<_>>()
        ),
    );
    ctx.insert(
        "day_kinds".into(),
        json!(
            DAY_KINDS
                .iter()
                .map(|(v, l)| json!({"value": v, "label": l}))
                .collect::<Vec<_>>()
        ),
    );
    let value = |v: &Option<calendar::CalendarDayValue>| {
        v.as_ref().map_or("—".to_owned(), |v| {
            format!("{}: {}", day_kind_label(&v.kind), v.name)
        })
    };
    ctx.insert(
        "changes".into(),
        json!(
            changes
                .iter()
                .map(
                    |c| json!({"date": c.date.format("%d/%m/%Y").to_string(), "old": value(&c.old),
                    "new": value(&c.new), "actor": c.actor, "at": local(c.at)})
                )
                .collect::<Vec<_>>()
        ),
    );
    let mut typed = serde_json::Map::new();
    let mut status = StatusCode::OK;
    if let Some((form, f, problem)) = refused {
        let values: serde_json::Map<String, Value> = f
            .iter()
            .filter(|(k, _)| k != "_csrf" && k != "password")
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        typed.insert(form.to_owned(), Value::Object(values));
        ctx.insert("problem".into(), super::problem_vi(problem));
        status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    }
    ctx.insert("typed".into(), Value::Object(typed));
    ctx.insert(
        "flash".into(),
        json!(done.map(|d| match d {
            "user" => "Đã tạo người dùng.",
            "unit" => "Đã tạo đơn vị.",
            _ => "Đã lưu ngày đặc biệt; hạn của các hồ sơ đang mở đã được tính lại.",
        })),
    );
    render(status, "admin.html", ctx)
}

const DAY_KINDS: [(&str, &str); 4] = [
    ("holiday", "Nghỉ lễ, Tết"),
    ("compensatory_off", "Nghỉ bù"),
    ("swapped_off", "Nghỉ do hoán đổi"),
    ("makeup_workday", "Làm bù"),
];

fn day_kind_label(kind: &str) -> &str {
    DAY_KINDS
        .iter()
        .find(|(v, _)| *v == kind)
        .map_or(kind, |(_, l)| l)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AdminQuery {
    /// What was just saved: `user`, `unit` or `calendar`.
    pub done: Option<String>,
}

/// Units, users, procedures with their versions, the calendar's special days of this year and
/// its change log, with forms to add a unit, a user and a special day.
#[utoipa::path(get, path = "/console/admin", tag = "console", params(AdminQuery),
    responses((status = 200, content_type = "text/html"), (status = 403, content_type = "text/html")))]
pub async fn admin(
    state: web::Data<AppState>,
    caller: Caller<Admin>,
    csrf: Csrf,
    q: web::Query<AdminQuery>,
) -> AppResult<HttpResponse> {
    admin_page(&state, &caller.into_inner(), &csrf, None, q.done.as_deref()).await
}

/// A refusal by the rules shows the page again with the form as typed; anything else is the
/// error page.
async fn saved_or_refused(
    state: &web::Data<AppState>,
    p: &Principal,
    csrf: &Csrf,
    form: &str,
    f: &Fields,
    outcome: AppResult<()>,
) -> AppResult<HttpResponse> {
    match outcome {
        Ok(()) => Ok(super::see_other(&format!(
            "/console/admin?done={form}#{form}s"
        ))),
        Err(AppError::Problem(problem)) if matches!(problem.status, 409 | 422) => {
            admin_page(state, p, csrf, Some((form, f, &problem)), None).await
        }
        Err(e) => Err(e),
    }
}

/// Adds a user (the API's use case, the password hashed off the pool).
#[utoipa::path(post, path = "/console/admin/users", tag = "console",
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "username, password, full_name, email, role, unit_code, _csrf"),
    responses((status = 303, description = "back to the page"), (status = 409, content_type = "text/html"),
        (status = 422, content_type = "text/html")))]
pub async fn admin_create_user(
    state: web::Data<AppState>,
    caller: Caller<Admin>,
    csrf: Csrf,
    form: web::Form<Fields>,
) -> AppResult<HttpResponse> {
    let p = caller.into_inner();
    let f = form.into_inner();
    let role = field(&f, "role").parse::<Role>();
    let outcome = match role {
        Err(_) => Err(AppError::invalid_field("role", "is not a role")),
        Ok(role) => {
            let req = users::CreateUserRequest {
                username: field(&f, "username").to_owned(),
                password: field(&f, "password").to_owned(),
                full_name: field(&f, "full_name").to_owned(),
                email: optional(&f, "email"),
                role,
                unit_code: optional(&f, "unit_code"),
                active: true,
            };
            let now = state.clock.now();
            let hash = match users::password_acceptable(&req.password) {
                true => Some(state.logins.hash(req.password.clone()).await?),
                false => None,
            };
            state
                .run(move |conn| users::create_user_with_hash(conn, &req, hash, now).map(|_| ()))
                .await
        }
    };
    saved_or_refused(&state, &p, &csrf, "user", &f, outcome).await
}

/// Adds a unit.
#[utoipa::path(post, path = "/console/admin/units", tag = "console",
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "code, name, email, _csrf"),
    responses((status = 303, description = "back to the page"), (status = 409, content_type = "text/html"),
        (status = 422, content_type = "text/html")))]
pub async fn admin_create_unit(
    state: web::Data<AppState>,
    caller: Caller<Admin>,
    csrf: Csrf,
    form: web::Form<Fields>,
) -> AppResult<HttpResponse> {
    let p = caller.into_inner();
    let f = form.into_inner();
    let unit = units::Unit {
        code: field(&f, "code").to_owned(),
        name: field(&f, "name").to_owned(),
        email: optional(&f, "email"),
    };
    let now = state.clock.now();
    let outcome = state
        .run(move |conn| units::create_unit(conn, &unit, now).map(|_| ()))
        .await;
    saved_or_refused(&state, &p, &csrf, "unit", &f, outcome).await
}

/// Sets a special day of the working calendar (logged; open dossiers' due times recomputed).
#[utoipa::path(post, path = "/console/admin/calendar", tag = "console",
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "date (YYYY-MM-DD), kind, name, source, _csrf"),
    responses((status = 303, description = "back to the page"), (status = 422, content_type = "text/html")))]
pub async fn admin_calendar_day(
    state: web::Data<AppState>,
    caller: Caller<Admin>,
    csrf: Csrf,
    form: web::Form<Fields>,
) -> AppResult<HttpResponse> {
    let p = caller.into_inner();
    let f = form.into_inner();
    let outcome = match NaiveDate::parse_from_str(field(&f, "date"), "%Y-%m-%d") {
        Err(_) => Err(AppError::invalid_field("date", "must be a date")),
        Ok(date) => {
            let req = calendar::PutCalendarDay {
                kind: field(&f, "kind").to_owned(),
                name: field(&f, "name").to_owned(),
                source: field(&f, "source").to_owned(),
            };
            let (cache, principal, now) = (state.calendar.clone(), p.clone(), state.clock.now());
            state
                .run(move |conn| {
                    calendar::put_day(conn, &cache, &principal, date, &req, now).map(|_| ())
                })
                .await
        }
    };
    saved_or_refused(&state, &p, &csrf, "calendar", &f, outcome).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_start_where_their_period_does() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let today = d(2025, 8, 14);
        assert_eq!(period_start("month", today), d(2025, 8, 1));
        assert_eq!(period_start("quarter", today), d(2025, 7, 1));
        assert_eq!(period_start("half", today), d(2025, 3, 1));
        assert_eq!(period_start("year", today), d(2025, 1, 1));
    }
}
