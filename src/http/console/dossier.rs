//! The dossier page: header with the due time (explained day by day on demand), exactly the
//! actions this user may take now (the view's `allowed_actions`) as forms with their fields,
//! components and scans, the processing-control slip, forms 01–05. An action is the API's
//! use case (`dossiers::act`) with the page's version as `If-Match`: a 409/412 shows the
//! dossier as it now is with the message; a 422 shows the form again as typed, fields marked.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, FixedOffset, NaiveDateTime};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::super::access::{Actors, Caller, Digitisers, Staff};
use super::super::dossiers::with_ctx;
use super::super::files::{receive_upload, send_file};
use super::super::session::Csrf;
use super::queue::urgency;
use super::{layout, problem_vi, render, render_html, see_other, when};
use crate::app::dossiers::{self, ActionRequest, Dossier, HistoryRow, Reasons};
use crate::app::files::{self, DossierFiles};
use crate::app::procedures::{self, Procedure};
use crate::app::users::Principal;
use crate::app::{AppState, forms};
use crate::domain::state::{Action, State};
use crate::error::{AppError, AppResult, Code, Problem};

type Fields = Vec<(String, String)>;

fn get<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn opt(f: &Fields, name: &str) -> Option<String> {
    let v = get(f, name).trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// What one page shows, read in one go.
struct Loaded {
    d: Dossier,
    history: Vec<HistoryRow>,
    files: DossierFiles,
    procedure: Procedure,
}

async fn load(state: &web::Data<AppState>, p: &Principal, code: String) -> AppResult<Loaded> {
    with_ctx(state, p.clone(), move |conn, ctx| {
        let d = dossiers::get(conn, ctx, &code)?;
        let history = dossiers::history(conn, ctx, &code)?;
        let files = files::list(conn, ctx, &code)?;
        let procedure = procedures::get(conn, &d.procedure.code)?;
        Ok(Loaded {
            d,
            history,
            files,
            procedure,
        })
    })
    .await
}

/// One input of an action's form.
fn field(name: &str, label: &str, kind: &str, required: bool) -> Value {
    json!({"name": name, "label": label, "type": kind, "required": required, "value": ""})
}

fn options(pairs: &[(&str, &str)]) -> Value {
    json!(
        pairs
            .iter()
            .map(|(v, l)| json!({"value": v, "label": l}))
            .collect::<Vec<_>>()
    )
}

/// The fields an action needs (the rules' `ActionRequest` members it reads).
fn fields_of(action: Action, l: &Loaded) -> Vec<Value> {
    let def = &l.procedure.definition;
    let items = || {
        let mut f = field("items", "Thành phần cần bổ sung", "checks", true);
        f["options"] = json!(
            def.checklist
                .iter()
                .map(|i| json!({"value": i.code, "label": format!("{}. {}", i.code, i.name), "checked": false}))
                .collect::<Vec<_>>()
        );
        f
    };
    let reasons = || field("reasons", "Lý do (mỗi dòng một lý do)", "textarea", true);
    let note = || field("note", "Ghi chú", "textarea", false);
    match action {
        Action::Forward => {
            let current = l.d.current_step.as_ref().map_or(-1, |s| s.index);
            let next: Vec<(String, String)> = def
                .steps
                .iter()
                .enumerate()
                .filter(|(i, _)| i64::try_from(*i).unwrap_or(0) > i64::from(current))
                .map(|(_, s)| {
                    (
                        s.code.clone(),
                        format!("{} — {} ({})", s.code, s.name, s.unit_code),
                    )
                })
                .collect();
            let mut to = field("to_step", "Chuyển đến bước", "select", false);
            to["options"] = json!(
                next.iter()
                    .map(|(v, l)| json!({"value": v, "label": l}))
                    .collect::<Vec<_>>()
            );
            to["value"] = json!(next.first().map(|(v, _)| v.clone()));
            vec![to, note()]
        }
        Action::RequestSupplement | Action::AskCompletion => vec![
            reasons(),
            items(),
            field(
                "applicant_deadline",
                "Hạn bổ sung của người nộp",
                "datetime-local",
                false,
            ),
        ],
        Action::RequestPayment => vec![
            field("amount_vnd", "Số tiền (đồng)", "number", true),
            note(),
        ],
        Action::PaymentReceived => vec![
            field("reference", "Số biên lai, chứng từ", "text", false),
            field("online", "Nộp trực tuyến", "checkbox", false),
        ],
        Action::Stop | Action::DeclineWithdrawal | Action::Reject | Action::Refuse => {
            vec![reasons()]
        }
        Action::Approve => vec![
            field("result_reference", "Số văn bản kết quả", "text", false),
            field("electronic_result", "Có kết quả điện tử", "checkbox", false),
            note(),
        ],
        Action::Apologize => vec![
            reasons(),
            field("new_due_at", "Ngày hẹn trả mới", "datetime-local", true),
        ],
        Action::Deliver => {
            let mut method = field("method", "Hình thức trả kết quả", "select", true);
            method["options"] = options(&[
                ("counter", "Trả tại quầy"),
                ("post", "Qua dịch vụ bưu chính"),
                ("electronic", "Trực tuyến"),
            ]);
            method["value"] = json!("counter");
            let mut satisfaction = field("satisfaction", "Mức độ hài lòng", "select", false);
            satisfaction["options"] = options(&[
                ("", "Không đánh giá"),
                ("5", "5 — Rất hài lòng"),
                ("4", "4 — Hài lòng"),
                ("3", "3 — Bình thường"),
                ("2", "2 — Không hài lòng"),
                ("1", "1 — Rất không hài lòng"),
            ]);
            satisfaction["value"] = json!("");
            vec![method, satisfaction]
        }
        _ => vec![note()],
    }
}

/// The actions offered (what the view says the user may do now), each with its fields; the
/// one just posted keeps what was typed and shows its errors.
fn actions(l: &Loaded, typed: Option<(&str, &Fields, &Problem)>) -> Vec<Value> {
    l.d.allowed_actions
        .iter()
        .filter_map(|name| Action::parse_postable(name))
        .map(|a| {
            let mut fields = fields_of(a, l);
            if let Some((posted, f, p)) = typed
                && posted == a.as_str()
            {
                for fl in &mut fields {
                    let name = fl["name"].as_str().unwrap_or_default().to_owned();
                    let values: Vec<&str> = f
                        .iter()
                        .filter(|(k, _)| *k == name)
                        .map(|(_, v)| v.as_str())
                        .collect();
                    let checks = fl["type"] == "checks";
                    if let Some(opts) = fl["options"].as_array_mut()
                        && checks
                    {
                        for o in opts {
                            let v = o["value"].as_str().unwrap_or_default().to_owned();
                            o["checked"] = json!(values.contains(&v.as_str()));
                        }
                    } else if fl["type"] == "checkbox" {
                        fl["value"] = json!(!values.is_empty());
                    } else {
                        fl["value"] = json!(values.first().copied().unwrap_or_default());
                    }
                    if let Some(m) = p.errors.get(&name) {
                        fl["error"] = json!(super::field_message_vi(m));
                    }
                }
            }
            json!({"name": a.as_str(), "label": a.label_vi(), "fields": fields})
        })
        .collect()
}

const FORMS: [(&str, &str); 5] = [
    ("01", "Mẫu 01 — Giấy tiếp nhận hồ sơ và hẹn trả kết quả"),
    ("02", "Mẫu 02 — Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"),
    ("03", "Mẫu 03 — Phiếu từ chối tiếp nhận giải quyết hồ sơ"),
    ("04", "Mẫu 04 — Phiếu xin lỗi và hẹn lại ngày trả kết quả"),
    ("05", "Mẫu 05 — Phiếu kiểm soát quá trình giải quyết hồ sơ"),
];

fn action_label(name: &str) -> String {
    if name == "upload" {
        return "Tải bản quét lên".to_owned();
    }
    Action::ALL
        .into_iter()
        .find(|a| a.as_str() == name)
        .map_or(name.to_owned(), |a| a.label_vi().to_owned())
}

fn page(
    state: &AppState,
    p: &Principal,
    csrf: &Csrf,
    l: &Loaded,
    typed: Option<(&str, &Fields, &Problem)>,
    problem: Option<&Problem>,
    flash: Option<String>,
) -> Map<String, Value> {
    let d = &l.d;
    let now = state.clock.now();
    let mut ctx = layout(
        state,
        Some(p),
        csrf,
        &format!("Hồ sơ {}", d.code),
        "/console",
    );
    let a = &d.applicant;
    ctx.insert(
        "applicant".into(),
        json!(format!(
            "{}{}",
            a["name"].as_str().unwrap_or_default(),
            a["id_number"]
                .as_str()
                .map(|i| format!(" (số giấy tờ {i})"))
                .unwrap_or_default()
        )),
    );
    ctx.insert("received".into(), json!(when(d.received_at)));
    ctx.insert("due".into(), json!(when(d.due_at)));
    ctx.insert("due_current".into(), json!(when(d.due_at_current)));
    ctx.insert(
        "step_due".into(),
        json!(when(d.current_step.as_ref().and_then(|s| s.due_at))),
    );
    ctx.insert("urgency".into(), json!(urgency(d, now)));
    ctx.insert(
        "timeliness".into(),
        json!(match d.timeliness.as_deref() {
            Some("early") => "Trước hạn",
            Some("on_time") => "Đúng hạn",
            Some("late") => "Quá hạn",
            _ => "",
        }),
    );
    ctx.insert("actions".into(), json!(actions(l, typed)));
    let files_of = |item: &str| -> Vec<Value> {
        l.files
            .files
            .iter()
            .filter(|f| f.item_code == item)
            .map(|f| json!({"sha256": f.sha256, "name": format!("{} ({} KB)", f.media_type, (f.size + 1023) / 1024)}))
            .collect()
    };
    ctx.insert(
        "components".into(),
        json!(
            d.components
                .iter()
                .map(|c| json!({"item_code": c.item_code, "name": c.name, "required": c.required,
                                "must_digitise": c.must_digitise, "count": c.count, "pages": c.pages,
                                "kind": super::intake::kind_label(c.kind),
                                "files": files_of(&c.item_code)}))
                .collect::<Vec<_>>()
        ),
    );
    ctx.insert(
        "history".into(),
        json!(
            l.history
                .iter()
                .map(|h| json!({
                    "seq": h.seq, "at": when(Some(h.at)), "action": action_label(&h.action),
                    "actor": h.actor, "role": super::role_label(h.role.parse().unwrap_or(crate::auth::Role::Viewer)),
                    "unit": h.unit,
                    "step": h.step.as_ref().map(|s| format!("{s} ({}), hạn {}", h.step_unit.clone().unwrap_or_default(), when(h.step_due_at).unwrap_or_default())),
                    "closed": h.closed_step.as_ref().map(|s| format!("{s}: {}", match h.step_timeliness.as_deref() {
                        Some("early") => "trước hạn", Some("on_time") => "đúng hạn", Some("late") => "quá hạn", _ => "—" })),
                    "note": h.note,
                }))
                .collect::<Vec<_>>()
        ),
    );
    ctx.insert(
        "forms".into(),
        json!(
            FORMS
                .iter()
                .map(|(n, l)| json!({"number": n, "label": l}))
                .collect::<Vec<_>>()
        ),
    );
    ctx.insert("d".into(), json!(d));
    ctx.insert(
        "may_upload".into(),
        json!(
            matches!(
                p.role,
                crate::auth::Role::Admin
                    | crate::auth::Role::Clerk
                    | crate::auth::Role::Officer
                    | crate::auth::Role::Leader
            ) && !matches!(d.state, State::Refused | State::Stopped | State::Delivered)
        ),
    );
    if let Some(p) = problem {
        ctx.insert("problem".into(), problem_vi(p));
    }
    ctx.insert("flash".into(), json!(flash));
    ctx
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DossierPageQuery {
    /// The action just performed (for the confirmation line).
    pub done: Option<String>,
}

/// The dossier page.
#[utoipa::path(get, path = "/console/dossiers/{code}", tag = "console",
    params(("code" = String, Path), DossierPageQuery),
    responses((status = 200, content_type = "text/html"), (status = 404, content_type = "text/html")))]
pub async fn dossier(
    state: web::Data<AppState>,
    caller: Caller<Staff>,
    csrf: Csrf,
    path: web::Path<String>,
    q: web::Query<DossierPageQuery>,
) -> AppResult<HttpResponse> {
    let p = caller.into_inner();
    let l = load(&state, &p, path.into_inner()).await?;
    let flash = q
        .done
        .as_deref()
        .map(|a| format!("Đã thực hiện: {}.", action_label(a)));
    render(
        StatusCode::OK,
        "dossier.html",
        page(&state, &p, &csrf, &l, None, None, flash),
    )
}

/// A `datetime-local` value (agency time) as an instant with its offset.
fn local_time(
    state: &AppState,
    f: &Fields,
    name: &str,
) -> AppResult<Option<DateTime<FixedOffset>>> {
    let Some(v) = opt(f, name) else {
        return Ok(None);
    };
    let tz = state.calendar.settings().timezone();
    NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|t| t.and_local_timezone(tz).earliest())
        .map(|t| Some(t.fixed_offset()))
        .ok_or_else(|| AppError::invalid_field(name, "must be a date and time"))
}

/// The action's request from the form's fields.
fn action_request(state: &AppState, f: &Fields) -> AppResult<ActionRequest> {
    let reasons: Vec<String> = get(f, "reasons")
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    let items: Vec<String> = f
        .iter()
        .filter(|(k, _)| k == "items")
        .map(|(_, v)| v.clone())
        .collect();
    let number = |name: &str| -> AppResult<Option<i64>> {
        opt(f, name)
            .map(|v| {
                v.replace(['.', ',', ' '], "")
                    .parse::<i64>()
                    .map_err(|_| AppError::invalid_field(name, "must be a whole number"))
            })
            .transpose()
    };
    let flag = |name: &str| f.iter().any(|(k, _)| k == name);
    Ok(ActionRequest {
        note: opt(f, "note"),
        reasons: (!reasons.is_empty()).then_some(Reasons::Many(reasons)),
        to_step: opt(f, "to_step"),
        items: f.iter().any(|(k, _)| k == "items").then_some(items),
        applicant_deadline: local_time(state, f, "applicant_deadline")?,
        amount_vnd: number("amount_vnd")?,
        online: flag("online").then_some(true),
        reference: opt(f, "reference"),
        result_reference: opt(f, "result_reference"),
        electronic_result: flag("electronic_result").then_some(true),
        new_due_at: local_time(state, f, "new_due_at")?,
        method: opt(f, "method"),
        satisfaction: number("satisfaction")?.and_then(|s| i32::try_from(s).ok()),
        ..ActionRequest::default()
    })
}

/// Performs one action from its form on the dossier page.
#[utoipa::path(post, path = "/console/dossiers/{code}/actions/{action}", tag = "console",
    params(("code" = String, Path), ("action" = String, Path)),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "the action's fields, `version` (sent as If-Match) and `_csrf`"),
    responses((status = 303, description = "back to the dossier page"),
        (status = 403, content_type = "text/html"), (status = 409, content_type = "text/html"),
        (status = 422, content_type = "text/html")))]
pub async fn dossier_action(
    state: web::Data<AppState>,
    caller: Caller<Actors>,
    csrf: Csrf,
    path: web::Path<(String, String)>,
    form: web::Form<Fields>,
) -> AppResult<HttpResponse> {
    let p = caller.into_inner();
    let (code, action) = path.into_inner();
    let f = form.into_inner();
    let version = get(&f, "version").trim().parse::<i32>().ok();
    let outcome = match action_request(&state, &f) {
        Ok(req) => {
            let (c, a) = (code.clone(), action.clone());
            with_ctx(&state, p.clone(), move |conn, ctx| {
                dossiers::act(conn, ctx, &c, &a, &req, version)
            })
            .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(see_other(&format!(
            "/console/dossiers/{code}?done={}",
            super::queue::urlencode(&action)
        ))),
        Err(AppError::Problem(problem))
            if matches!(
                problem.code,
                Code::DossierConcurrentChange
                    | Code::DossierStale
                    | Code::DossierIllegalTransition
                    | Code::ValidationFailed
                    | Code::DossierLastStep
                    | Code::DossierSupplementLimit
                    | Code::DossierAlreadyApologized
                    | Code::DossierCompletionAlreadyAsked
            ) =>
        {
            // Someone acted first (or the rules said no): the dossier as it is now, with the
            // message; a validation error keeps what was typed in that action's form.
            let l = load(&state, &p, code).await?;
            let status =
                StatusCode::from_u16(problem.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let status = if status == StatusCode::PRECONDITION_FAILED {
                StatusCode::CONFLICT
            } else {
                status
            };
            let typed = (problem.status == 422).then_some((action.as_str(), &f, &*problem));
            let ctx = page(&state, &p, &csrf, &l, typed, Some(&problem), None);
            render(status, "dossier.html", ctx)
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DueQuery {
    /// `1`: only the table, for htmx to put into the page.
    pub fragment: Option<String>,
}

/// The due time explained day by day (a fragment for htmx, or a page without script).
#[utoipa::path(get, path = "/console/dossiers/{code}/due", tag = "console",
    params(("code" = String, Path), DueQuery),
    responses((status = 200, content_type = "text/html"), (status = 404, content_type = "text/html")))]
pub async fn dossier_due(
    state: web::Data<AppState>,
    caller: Caller<Staff>,
    csrf: Csrf,
    path: web::Path<String>,
    q: web::Query<DueQuery>,
) -> AppResult<HttpResponse> {
    let p = caller.into_inner();
    let code = path.into_inner();
    let c = code.clone();
    let (explained, d) = with_ctx(&state, p.clone(), move |conn, ctx| {
        Ok((
            dossiers::explain_due(conn, ctx, &c)?,
            dossiers::get(conn, ctx, &c)?,
        ))
    })
    .await?;
    let mut ctx = layout(
        &state,
        Some(&p),
        &csrf,
        &format!("Cách tính hạn {code}"),
        "/console",
    );
    ctx.insert("code".into(), json!(code));
    match explained {
        Some(e) => {
            ctx.insert("start".into(), json!(when(Some(e.start))));
            ctx.insert("due_at".into(), json!(when(Some(e.due_at))));
            ctx.insert("duration".into(), json!(e.duration.label_vi()));
            ctx.insert(
                "days".into(),
                json!(
                    e.days
                        .iter()
                        .map(
                            |day| json!({"date": day.date.format("%d/%m/%Y").to_string(),
                                          "counted": day.counted, "reason": day.reason})
                        )
                        .collect::<Vec<_>>()
                ),
            );
            let moved = d.supplement_count > 0
                || d.apology.is_some()
                || d.due_at != Some(crate::clock::ApiTime::from(&e.due_at));
            if moved {
                ctx.insert(
                    "note".into(),
                    json!(format!(
                        "Hạn hiện tại của hồ sơ là {}: thời gian chờ bổ sung hoặc văn bản xin lỗi đã dời hạn so với cách tính ban đầu dưới đây.",
                        when(d.due_at_current.or(d.due_at)).unwrap_or_default()
                    )),
                );
            }
        }
        None => {
            ctx.insert("days".into(), json!([]));
            ctx.insert(
                "note".into(),
                json!("Hồ sơ chưa được tiếp nhận nên chưa có hạn giải quyết."),
            );
        }
    }
    let fragment = q.fragment.as_deref() == Some("1");
    let html = render_html(
        if fragment {
            "due.html"
        } else {
            "due_page.html"
        },
        ctx,
    )?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FormQuery {
    /// Form 01: the lookup key, printed when it matches.
    pub key: Option<String>,
}

/// Forms 01–05 to print: the same rendering as the API's `/forms/{form}`.
#[utoipa::path(get, path = "/console/dossiers/{code}/forms/{form}", tag = "console",
    params(("code" = String, Path), ("form" = String, Path, description = "01 to 05"), FormQuery),
    responses((status = 200, content_type = "text/html"), (status = 404, content_type = "text/html"),
        (status = 409, content_type = "text/html")))]
pub async fn dossier_form(
    state: web::Data<AppState>,
    caller: Caller<Staff>,
    path: web::Path<(String, String)>,
    q: web::Query<FormQuery>,
    req: actix_web::HttpRequest,
) -> AppResult<HttpResponse> {
    let (code, number) = path.into_inner();
    let key = q.into_inner().key;
    let reached_at = crate::http::client::reached_at(&req);
    let html = with_ctx(&state, caller.into_inner(), move |conn, ctx| {
        forms::render(conn, ctx, &code, &number, key.as_deref(), &reached_at)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// A scan uploaded from the dossier page (`_csrf` in the query: the form is multipart), by
/// the API's upload; back to the page.
#[utoipa::path(post, path = "/console/dossiers/{code}/components/{item_code}/files", tag = "console",
    params(("code" = String, Path), ("item_code" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "`file`"),
    responses((status = 303, description = "back to the dossier page"), (status = 413, content_type = "text/html"),
        (status = 415, content_type = "text/html")))]
pub async fn dossier_upload(
    state: web::Data<AppState>,
    caller: Caller<Digitisers>,
    path: web::Path<(String, String)>,
    payload: actix_multipart::Multipart,
) -> AppResult<HttpResponse> {
    let (code, item) = path.into_inner();
    receive_upload(&state, caller.into_inner(), code.clone(), item, payload).await?;
    Ok(see_other(&format!("/console/dossiers/{code}?done=upload")))
}

/// A component's scan, to view (the API's download).
#[utoipa::path(get, path = "/console/dossiers/{code}/components/{item_code}/files/{sha256}", tag = "console",
    params(("code" = String, Path), ("item_code" = String, Path), ("sha256" = String, Path)),
    responses((status = 200, description = "the file"), (status = 404, content_type = "text/html")))]
pub async fn dossier_file(
    state: web::Data<AppState>,
    caller: Caller<Staff>,
    path: web::Path<(String, String, String)>,
) -> AppResult<HttpResponse> {
    let (code, item, sha) = path.into_inner();
    send_file(&state, caller.into_inner(), code, item, sha).await
}
