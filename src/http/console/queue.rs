//! The queue: the dossiers the caller may see (an officer's or leader's: their unit's), by tab
//! (all, overdue, due today, due soon, waiting online) with a count on each, filters by
//! procedure, state and receipt period, and paging. One list use case (`dossiers::list`,
//! the API's) answers every tab.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};

use crate::clock::ApiTime;
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::access::{Caller, Staff};
use super::super::dossiers::with_ctx;
use super::super::session::Csrf;
use super::{layout, render, when};
use crate::app::dossiers::{self, Dossier, ListQuery};
use crate::app::{PageRequest, procedures};
use crate::domain::state::State;
use crate::error::AppResult;

/// Rows per page of the queue.
const PER_PAGE: i64 = 25;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct QueueQuery {
    /// `all` (default), `overdue`, `today`, `soon` or `online`.
    pub tab: Option<String>,
    pub q: Option<String>,
    pub procedure_code: Option<String>,
    pub state: Option<String>,
    pub received_from: Option<String>,
    pub received_to: Option<String>,
    #[serde(default, deserialize_with = "crate::app::page_param")]
    pub page: Option<i64>,
}

const TABS: [(&str, &str); 5] = [
    ("all", "Tất cả"),
    ("overdue", "Quá hạn"),
    ("today", "Đến hạn hôm nay"),
    ("soon", "Sắp đến hạn"),
    ("online", "Trực tuyến chờ tiếp nhận"),
];

/// How urgent a running dossier is, in words and a colour (never the colour alone).
pub(super) fn urgency(d: &Dossier, now: DateTime<Utc>) -> Option<Value> {
    if !d.state.clock_running() {
        return None;
    }
    let due = d.due_at?.local();
    let today = now.with_timezone(due.offset()).date_naive();
    let (class, label) = if d.overdue {
        ("late", "Quá hạn")
    } else if due.date_naive() == today {
        ("today", "Đến hạn hôm nay")
    } else if d.due_soon {
        ("soon", "Sắp đến hạn")
    } else {
        ("ok", "Còn hạn")
    };
    Some(json!({"class": class, "label": label}))
}

fn date(s: &Option<String>) -> Option<NaiveDate> {
    s.as_deref()
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

fn list_query(q: &QueueQuery, tab: &str, page: i64, per_page: i64) -> ListQuery {
    let blank = |s: &Option<String>| s.clone().filter(|v| !v.trim().is_empty());
    let mut lq = ListQuery {
        q: blank(&q.q),
        procedure_code: blank(&q.procedure_code),
        state: blank(&q.state),
        received_from: date(&q.received_from),
        received_to: date(&q.received_to),
        page: Some(page),
        per_page: Some(per_page),
        ..ListQuery::default()
    };
    match tab {
        "overdue" => lq.overdue = Some(true),
        "today" => lq.due_today = Some(true),
        "soon" => lq.due_soon = Some(true),
        "online" => lq.state = Some(State::Submitted.as_str().to_owned()),
        _ => {}
    }
    lq
}

fn href(q: &QueueQuery, tab: &str, page: i64) -> String {
    let mut parts = vec![format!("tab={tab}")];
    let mut add = |k: &str, v: &Option<String>| {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", urlencode(v)));
        }
    };
    add("q", &q.q);
    add("procedure_code", &q.procedure_code);
    add("state", &q.state);
    add("received_from", &q.received_from);
    add("received_to", &q.received_to);
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    format!("/console?{}", parts.join("&"))
}

pub(super) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(super) fn applicant_name(d: &Dossier) -> String {
    d.applicant["name"].as_str().unwrap_or_default().to_owned()
}

fn row(d: &Dossier, now: DateTime<Utc>) -> Value {
    let due = d.due_at_current.or(d.due_at).map(ApiTime::local);
    json!({
        "code": d.code,
        "procedure": d.procedure.name,
        "applicant": applicant_name(d),
        "status_code": d.status_code,
        "status_label": d.status_label,
        "step": d.current_step.as_ref().map(|s| format!("{} ({})", s.name, s.unit_code)),
        "due": when(due),
        "urgency": urgency(d, now),
    })
}

/// The unit's queue with its tabs, counts, filters and pages.
#[utoipa::path(get, path = "/console", tag = "console", params(QueueQuery),
    responses((status = 200, content_type = "text/html"), (status = 401, content_type = "text/html")))]
pub async fn queue(
    state: web::Data<AppState>,
    caller: Caller<Staff>,
    csrf: Csrf,
    q: web::Query<QueueQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let tab = super::choice(q.tab.as_deref(), &TABS, "all");
    let page = q.page.unwrap_or(1).clamp(1, PageRequest::MAX_PAGE);
    let principal = caller.into_inner();
    let queries: Vec<ListQuery> = TABS.iter().map(|(t, _)| list_query(&q, t, 1, 1)).collect();
    let current = list_query(&q, &tab, page, PER_PAGE);
    let now = state.clock.now();
    let (counts, list, procs) = with_ctx(&state, principal.clone(), move |conn, ctx| {
        let mut counts = Vec::new();
        for lq in &queries {
            counts.push(dossiers::list(conn, ctx, lq)?.total);
        }
        let list = dossiers::list(conn, ctx, &current)?;
        let procs = procedures::list(conn, None, PageRequest::new(Some(1), Some(200))?)?;
        Ok((counts, list, procs))
    })
    .await?;
    let pages = ((list.total + PER_PAGE - 1) / PER_PAGE).max(1);
    let mut ctx = layout(
        &state,
        Some(&principal),
        &csrf,
        "Hàng đợi hồ sơ",
        "/console",
    );
    ctx.insert(
        "tabs".into(),
        json!(
            TABS.iter()
                .zip(&counts)
                .map(|((k, label), n)| json!({"href": href(&q, k, 1), "label": label, "count": n, "current": *k == tab}))
                .collect::<Vec<_>>()
        ),
    );
    ctx.insert(
        "filters".into(),
        json!({"tab": tab, "q": q.q, "procedure_code": q.procedure_code, "state": q.state,
               "received_from": q.received_from, "received_to": q.received_to}),
    );
    ctx.insert(
        "procedures".into(),
        json!(
            procs
                .items
                .iter()
                .map(|p| json!({"code": p.definition.code, "name": p.definition.name}))
                .collect::<Vec<_>>()
        ),
    );
    ctx.insert(
        "states".into(),
        json!(
            State::ALL
                .iter()
                .map(
                    |s| json!({"value": s.as_str(), "code": s.status_code(), "label": s.label_vi()})
                )
                .collect::<Vec<_>>()
        ),
    );
    ctx.insert(
        "rows".into(),
        json!(list.items.iter().map(|d| row(d, now)).collect::<Vec<_>>()),
    );
    ctx.insert("total".into(), json!(list.total));
    ctx.insert("page".into(), json!(page));
    ctx.insert("pages".into(), json!(pages));
    ctx.insert(
        "prev_href".into(),
        json!((page > 1).then(|| href(&q, &tab, page - 1))),
    );
    ctx.insert(
        "next_href".into(),
        json!((page < pages).then(|| href(&q, &tab, page + 1))),
    );
    render(StatusCode::OK, "queue.html", ctx)
}

use crate::app::AppState;
