//! Counter intake: find the procedure, tick its checklist, the applicant (reused from an
//! earlier dossier by identity number), receive → the receipt with form 01 one click away;
//! required items missing → the refusal path with form 03. Online filings waiting for
//! acceptance are listed below. Receipt is the API's use case (`dossiers::create`, written in the group commit).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};

use super::super::access::{Caller, Counter};
use super::super::dossiers::{receive, with_ctx};
use super::super::session::Csrf;
use super::queue::{applicant_name, urlencode};
use super::{layout, problem_vi, render, when};
use crate::app::AppState;
use crate::app::PageRequest;
use crate::app::dossiers::{
    self, Applicant, Channel, ComponentInput, ComponentKind, CreateDossierRequest, ListQuery,
};
use crate::app::procedures::{self, Procedure};
use crate::app::users::Principal;
use crate::domain::state::State;
use crate::error::{AppError, AppResult};

/// The form's fields as sent (repeated names kept: `item` once per ticked row).
type Fields = Vec<(String, String)>;

fn get<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn all<'a>(f: &'a Fields, name: &str) -> Vec<&'a str> {
    f.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

const KINDS: [(&str, &str); 4] = [
    ("original", "Bản chính"),
    ("copy", "Bản sao"),
    ("certified_copy", "Bản sao chứng thực"),
    ("electronic", "Bản điện tử"),
];

/// How a handed-in component is named on the page.
pub(super) fn kind_label(k: ComponentKind) -> &'static str {
    match k {
        ComponentKind::Original => "Bản chính",
        ComponentKind::Copy => "Bản sao",
        ComponentKind::CertifiedCopy => "Bản sao chứng thực",
        ComponentKind::Electronic => "Bản điện tử",
    }
}

fn kind(s: &str) -> ComponentKind {
    match s {
        "copy" => ComponentKind::Copy,
        "certified_copy" => ComponentKind::CertifiedCopy,
        "electronic" => ComponentKind::Electronic,
        _ => ComponentKind::Original,
    }
}

/// The receipt request the form describes (a counter receipt, or a refusal on the spot).
fn request(f: &Fields) -> CreateDossierRequest {
    let components = all(f, "item")
        .into_iter()
        .map(|code| ComponentInput {
            item_code: code.to_owned(),
            kind: kind(get(f, &format!("kind_{code}"))),
            count: 1,
            pages: get(f, &format!("pages_{code}")).trim().parse().ok(),
        })
        .collect();
    let refused_reasons = (get(f, "refuse") == "1").then(|| {
        get(f, "refused_reasons")
            .lines()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect()
    });
    CreateDossierRequest {
        procedure_code: get(f, "procedure_code").trim().to_owned(),
        channel: Channel::Direct,
        applicant: Applicant {
            kind: match get(f, "applicant_kind") {
                "citizen" => "citizen".into(),
                _ => "organisation".into(),
            },
            name: get(f, "name").trim().to_owned(),
            id_number: opt(get(f, "id_number")),
            phone: opt(get(f, "phone")),
            email: opt(get(f, "email")),
            address: opt(get(f, "address")),
            language: None,
        },
        components,
        note: get(f, "note").trim().to_owned(),
        received_at: None,
        refused_reasons,
    }
}

/// What the intake page shows, read in one go.
struct Intake {
    matches: Vec<Procedure>,
    procedure: Option<Procedure>,
    online: Vec<dossiers::Dossier>,
    /// An earlier dossier of this identity number: its code and applicant.
    reused: Option<(String, Value)>,
}

async fn load(state: &web::Data<AppState>, principal: &Principal, f: &Fields) -> AppResult<Intake> {
    let pq = get(f, "pq").trim().to_lowercase();
    let code = get(f, "procedure_code").trim().to_owned();
    let id_number = (get(f, "reuse") == "1")
        .then(|| get(f, "id_number").trim().to_owned())
        .filter(|s| !s.is_empty());
    with_ctx(state, principal.clone(), move |conn, ctx| {
        let matches = if pq.is_empty() {
            Vec::new()
        } else {
            procedures::list(conn, None, PageRequest::new(Some(1), Some(200))?)?
                .items
                .into_iter()
                .filter(|p| {
                    p.definition.code.to_lowercase().contains(&pq)
                        || p.definition.name.to_lowercase().contains(&pq)
                })
                .collect()
        };
        let procedure = match code.as_str() {
            "" => None,
            c => procedures::get(conn, c).ok(),
        };
        let online = dossiers::list(
            conn,
            ctx,
            &ListQuery {
                state: Some(State::Submitted.as_str().to_owned()),
                per_page: Some(50),
                ..ListQuery::default()
            },
        )?
        .items;
        let reused = match id_number {
            None => None,
            Some(id) => dossiers::list(
                conn,
                ctx,
                &ListQuery {
                    q: Some(id.clone()),
                    per_page: Some(20),
                    ..ListQuery::default()
                },
            )?
            .items
            .into_iter()
            .find(|d| d.applicant["id_number"].as_str() == Some(id.as_str()))
            .map(|d| (d.code.clone(), d.applicant.clone())),
        };
        Ok(Intake {
            matches,
            procedure,
            online,
            reused,
        })
    })
    .await
}

/// The page's context: the search, the procedure's checklist with what was ticked, the
/// applicant as typed (or reused), the online list, and the problem if any.
fn page_ctx(
    state: &AppState,
    principal: &Principal,
    csrf: &Csrf,
    f: &Fields,
    data: &Intake,
    problem: Option<&crate::error::Problem>,
) -> Map<String, Value> {
    let mut ctx = layout(
        state,
        Some(principal),
        csrf,
        "Tiếp nhận hồ sơ",
        "/console/intake",
    );
    ctx.insert("pq".into(), json!(get(f, "pq")));
    // A double click or a resent form receives the dossier once (`Idempotency-Key`).
    ctx.insert("idem".into(), json!(uuid::Uuid::new_v4().to_string()));
    ctx.insert(
        "matches".into(),
        json!(
            data.matches
                .iter()
                .map(|p| json!({"code": p.definition.code, "name": p.definition.name, "field": p.definition.field,
                    "href": format!("/console/intake?procedure_code={}", urlencode(&p.definition.code))}))
                .collect::<Vec<_>>()
        ),
    );
    let ticked = all(f, "item");
    let missing: Vec<String> = problem
        .and_then(|p| p.extra.get("missing_items"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if let Some(p) = &data.procedure {
        let def = &p.definition;
        ctx.insert(
            "procedure".into(),
            json!({"code": def.code, "name": def.name, "duration": def.duration.label_vi(),
                   "fee": if def.fee_vnd == 0 { "Không".to_owned() } else { format!("{} đồng", def.fee_vnd) }}),
        );
        let fresh = !f.iter().any(|(k, _)| k == "name");
        ctx.insert(
            "checklist".into(),
            json!(
                def.checklist
                    .iter()
                    .map(|i| {
                        let kind = get(f, &format!("kind_{}", i.code));
                        let kind = if kind.is_empty() {
                            if i.originals > 0 { "original" } else { "copy" }
                        } else {
                            kind
                        };
                        json!({
                            "code": i.code, "name": i.name, "required": i.required,
                            "originals": i.originals, "copies": i.copies, "must_digitise": i.must_digitise,
                            "checked": ticked.contains(&i.code.as_str()) || (fresh && i.required),
                            "kind": kind, "pages": get(f, &format!("pages_{}", i.code)),
                            "error": missing.contains(&i.code).then_some("Thiếu — thành phần bắt buộc"),
                        })
                    })
                    .collect::<Vec<_>>()
            ),
        );
    }
    ctx.insert(
        "kinds".into(),
        json!(
            KINDS
                .iter()
                .map(|(v, l)| json!({"value": v, "label": l}))
                .collect::<Vec<_>>()
        ),
    );
    let typed = json!({
        "kind": get(f, "applicant_kind"), "name": get(f, "name"), "id_number": get(f, "id_number"),
        "phone": get(f, "phone"), "email": get(f, "email"), "address": get(f, "address"),
    });
    let applicant = match &data.reused {
        Some((code, a)) => {
            ctx.insert("reused".into(), json!(code));
            a.clone()
        }
        None => typed,
    };
    ctx.insert("a".into(), applicant);
    ctx.insert("note".into(), json!(get(f, "note")));
    ctx.insert("refused_reasons".into(), json!(get(f, "refused_reasons")));
    ctx.insert("missing".into(), json!(missing));
    let errors: Map<String, Value> = problem
        .map(|p| {
            p.errors
                .iter()
                .map(|(k, v)| (k.clone(), json!(super::field_message_vi(v))))
                .collect()
        })
        .unwrap_or_default();
    ctx.insert("errors".into(), Value::Object(errors));
    if let Some(p) = problem {
        ctx.insert("problem".into(), problem_vi(p));
    }
    ctx.insert(
        "online".into(),
        json!(
            data.online
                .iter()
                .map(|d| json!({"code": d.code, "procedure": d.procedure.name,
                                "applicant": applicant_name(d), "submitted": when(d.submitted_at)}))
                .collect::<Vec<_>>()
        ),
    );
    ctx
}

/// The intake page: search, checklist, applicant; `reuse=1` fills the applicant from the
/// latest dossier of the identity number typed, keeping everything else typed.
#[utoipa::path(get, path = "/console/intake", tag = "console",
    params(("pq" = Option<String>, Query, description = "procedure code or name contains"),
        ("procedure_code" = Option<String>, Query), ("reuse" = Option<String>, Query), ("id_number" = Option<String>, Query)),
    responses((status = 200, content_type = "text/html")))]
pub async fn intake_page(
    state: web::Data<AppState>,
    caller: Caller<Counter>,
    csrf: Csrf,
    q: web::Query<Fields>,
) -> AppResult<HttpResponse> {
    let principal = caller.into_inner();
    let f = q.into_inner();
    let data = load(&state, &principal, &f).await?;
    let ctx = page_ctx(&state, &principal, &csrf, &f, &data, None);
    render(StatusCode::OK, "intake.html", ctx)
}

/// Receives (or refuses) at the counter. A refusal by the rules (missing items, a field)
/// shows the form again as it was typed, with the fields marked.
#[utoipa::path(post, path = "/console/intake", tag = "console",
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "procedure_code, item (repeated), kind_{item}, pages_{item}, applicant fields, note, refuse, refused_reasons, idem, _csrf"),
    responses((status = 201, content_type = "text/html", description = "the receipt, with form 01 (or 03) to print"),
        (status = 403, content_type = "text/html"), (status = 422, content_type = "text/html")))]
pub async fn intake(
    state: web::Data<AppState>,
    caller: Caller<Counter>,
    csrf: Csrf,
    form: web::Form<Fields>,
) -> AppResult<HttpResponse> {
    let principal = caller.into_inner();
    let f = form.into_inner();
    let req = request(&f);
    let idem = opt(get(&f, "idem")).filter(|k| k.len() <= 200);
    let outcome = receive(&state, principal.clone(), req, idem).await;
    match outcome {
        Ok((_, created)) => {
            let mut ctx = layout(
                &state,
                Some(&principal),
                &csrf,
                "Đã tiếp nhận",
                "/console/intake",
            );
            ctx.insert("code".into(), created["code"].clone());
            ctx.insert("key".into(), created["lookup_key"].clone());
            ctx.insert("procedure".into(), created["procedure"]["name"].clone());
            ctx.insert("refused".into(), json!(created["state"] == "refused"));
            let due = created["due_at"]
                .as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
            ctx.insert("due".into(), json!(when(due)));
            render(StatusCode::CREATED, "received.html", ctx)
        }
        Err(AppError::Problem(p)) if p.status == 422 => {
            let data = load(&state, &principal, &f).await?;
            let ctx = page_ctx(&state, &principal, &csrf, &f, &data, Some(&p));
            render(StatusCode::UNPROCESSABLE_ENTITY, "intake.html", ctx)
        }
        Err(e) => Err(e),
    }
}
