//! Printable forms (Thông tư 01/2018/TT-VPCP, or 03/2025 for dossiers under Nghị định
//! 118/2025: `domain::forms` numbers them by the dossier's rule regime): the data each form
//! shows, gathered from the dossier, its procedure and its history, with people's full names,
//! the date of the event the form records, and a QR code (Thông tư 01/2023) at the top left.

use std::collections::HashMap;

use chrono::DateTime;
use minijinja::Environment;
use serde_json::{Value, json};

use crate::clock::ApiTime;
use crate::db::DbConnection;
use crate::domain::code::lookup_key_matches;
use crate::domain::forms::{Form, Regime, form_label};
use crate::domain::state::State;
use crate::error::{AppError, AppResult, Code};

use super::dossiers::{self, Ctx, HistoryRow, visible_dossier};

const TEMPLATES: [(&str, &str); 7] = [
    (
        "base.html",
        include_str!("../../config/templates/forms/base.html"),
    ),
    (
        "receipt.html",
        include_str!("../../config/templates/forms/receipt.html"),
    ),
    (
        "supplement.html",
        include_str!("../../config/templates/forms/supplement.html"),
    ),
    (
        "refusal.html",
        include_str!("../../config/templates/forms/refusal.html"),
    ),
    (
        "apology.html",
        include_str!("../../config/templates/forms/apology.html"),
    ),
    (
        "stop.html",
        include_str!("../../config/templates/forms/stop.html"),
    ),
    (
        "control.html",
        include_str!("../../config/templates/forms/control.html"),
    ),
];

/// Who works at the counter when the actor has no unit.
const COUNTER: &str = "Bộ phận Một cửa";

pub fn templates() -> Result<Environment<'static>, String> {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| format!("templates/forms/{name}: {e}"))?;
    }
    Ok(env)
}

/// The text of a form's QR code (Thông tư 01/2023): the dossier code, the procedure code, the
/// applicant's identifier and the document's name, separated by `|`.
pub fn qr_text(code: &str, procedure_code: &str, applicant_id: &str, document: &str) -> String {
    format!("{code}|{procedure_code}|{applicant_id}|{document}")
}

/// The QR code as SVG: one square per dark module, a four-module quiet zone.
pub fn qr_svg(text: &str) -> AppResult<String> {
    let qr = qrcode::QrCode::new(text.as_bytes()).map_err(AppError::internal)?;
    let width = qr.width();
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {s} {s}" shape-rendering="crispEdges"><rect width="{s}" height="{s}" fill="#fff"/><g fill="#000">"##,
        s = width + 8
    );
    for (i, color) in qr.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            svg.push_str(&format!(
                r#"<rect x="{}" y="{}" width="1" height="1"/>"#,
                i % width + 4,
                i / width + 4
            ));
        }
    }
    svg.push_str("</g></svg>");
    Ok(svg)
}

fn when(t: Option<ApiTime>) -> String {
    t.map(|t| {
        t.local()
            .format("%H giờ %M phút, ngày %d/%m/%Y")
            .to_string()
    })
    .unwrap_or_default()
}

/// A time written into a history row's details (already in the agency's zone).
fn detail_time(v: &Value) -> Option<ApiTime> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| ApiTime::from(&t))
}

/// "…, ngày 03 tháng 03 năm 2025": the date line under the header, the event's date.
fn place_date(t: ApiTime) -> String {
    let t = t.local();
    format!(
        "ngày {} tháng {} năm {}",
        t.format("%d"),
        t.format("%m"),
        t.format("%Y")
    )
}

fn last<'a>(rows: &'a [HistoryRow], actions: &[&str]) -> Option<&'a HistoryRow> {
    rows.iter()
        .rev()
        .find(|r| actions.contains(&r.action.as_str()))
}

fn reasons(row: Option<&HistoryRow>) -> Vec<String> {
    row.and_then(|r| r.details.get("reasons").cloned())
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

fn not_applicable(why: &str) -> AppError {
    AppError::new(Code::FormNotApplicable, why)
}

/// People and units by their codes, read once per form.
struct Names {
    users: HashMap<String, String>,
    units: HashMap<String, String>,
}

impl Names {
    fn load(conn: &mut DbConnection, history: &[HistoryRow]) -> AppResult<Names> {
        let mut users = HashMap::new();
        for r in history {
            if !users.contains_key(&r.actor) {
                let name = crate::db::users::find_user_by_username(conn, &r.actor)?
                    .map(|u| u.full_name)
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| r.actor.clone());
                users.insert(r.actor.clone(), name);
            }
        }
        let units = crate::db::units::list_units(conn)?
            .into_iter()
            .map(|u| (u.code, u.name))
            .collect();
        Ok(Names { users, units })
    }

    /// The full name of a user (the username if the account is gone).
    fn person(&self, username: &str) -> String {
        self.users
            .get(username)
            .cloned()
            .unwrap_or_else(|| username.to_owned())
    }

    fn unit(&self, code: Option<&str>) -> String {
        match code {
            Some(c) => self.units.get(c).cloned().unwrap_or_else(|| c.to_owned()),
            None => COUNTER.to_owned(),
        }
    }
}

/// What a history row says in words on the control slip.
fn action_vi(action: &str) -> &'static str {
    match action {
        "transfer" => "Chuyển hồ sơ đến cơ quan giải quyết",
        "forward" => "Chuyển bước xử lý",
        "request_supplement" => "Yêu cầu bổ sung hồ sơ",
        "supplement_received" => "Nhận hồ sơ bổ sung",
        "approve" => "Đã giải quyết: phê duyệt",
        "reject" => "Đã giải quyết: không giải quyết",
        "stop" => "Dừng giải quyết hồ sơ",
        "deliver" => "Trả kết quả",
        _ => "",
    }
}

/// The control slip's rows: each hand-over of the dossier as a "giao / nhận" pair, with the
/// person who handed it over (the row's actor) and the one who took it (the first later actor
/// on the receiving side: of that unit, or of the counter; the applicant for the delivery),
/// and how the giving unit kept its step's time.
fn hand_overs(history: &[HistoryRow], names: &Names, applicant: &str) -> Vec<Value> {
    let taker = |after: usize, unit: Option<&str>| {
        history[after + 1..]
            .iter()
            .find(|n| {
                !matches!(n.action.as_str(), "apologize" | "calendar_recomputed")
                    && n.unit.as_deref() == unit
            })
            .map(|n| names.person(&n.actor))
    };
    let mut holder: Option<String> = None;
    let mut out = Vec::new();
    for (i, r) in history.iter().enumerate() {
        let giver = names.person(&r.actor);
        let (from_unit, to_unit, receiver) = match r.action.as_str() {
            "transfer" | "forward" => {
                let from = names.unit(holder.as_deref());
                holder = r.step_unit.clone();
                (
                    from,
                    names.unit(holder.as_deref()),
                    taker(i, holder.as_deref()),
                )
            }
            "request_supplement" | "approve" | "reject" | "stop" => (
                names.unit(holder.as_deref()),
                COUNTER.to_owned(),
                taker(i, None),
            ),
            "supplement_received" => (
                COUNTER.to_owned(),
                names.unit(holder.as_deref()),
                taker(i, holder.as_deref()),
            ),
            "deliver" => (
                COUNTER.to_owned(),
                format!("Người nộp hồ sơ ({applicant})"),
                Some(applicant.to_owned()),
            ),
            _ => continue,
        };
        out.push(json!({
            "from_unit": from_unit,
            "to_unit": to_unit,
            "giver": giver,
            "receiver": receiver.unwrap_or_default(),
            "at": when(Some(r.at)),
            "what": action_vi(&r.action),
            "step_due_at": r.step_due_at.map(|t| when(Some(t))),
            "timeliness": r.step_timeliness.as_deref().map(|t| match t {
                "early" => "Trước hạn", "on_time" => "Đúng hạn", _ => "Quá hạn" }).unwrap_or(""),
            "note": r.note,
        }));
    }
    out
}

/// Renders form `number` of a dossier as HTML, numbered by its rule regime. `lookup_key`,
/// when given and right, is printed on form 01 (the database only keeps its hash);
/// `reached_at` is the address this request reached the service at, for form 01's lookup
/// link when `public.base_url` is not set.
pub fn render(
    conn: &mut DbConnection,
    ctx: &Ctx,
    code: &str,
    number: &str,
    lookup_key: Option<&str>,
    reached_at: &str,
) -> AppResult<String> {
    let row = visible_dossier(conn, ctx, code)?;
    let regime = Regime::parse(&row.rule_regime);
    let form = Form::numbered(regime, number).ok_or_else(|| {
        AppError::new(
            Code::FormNotFound,
            format!(
                "No form {number:?} under {} (the dossier's rule regime {}).",
                regime.circular(),
                row.rule_regime
            ),
        )
    })?;
    let procedure = crate::db::procedures::find_by_id(conn, &row.procedure_id)?
        .ok_or_else(|| AppError::internal("procedure"))?;
    let procedure = super::procedures::Procedure::from_row(procedure)?;
    let d = dossiers::view(ctx.cal, &row, &procedure, ctx.principal, ctx.now)?;
    let history = dossiers::history_of(conn, ctx.tz(), &row)?;
    let names = Names::load(conn, &history)?;
    let def = &procedure.definition;
    let settings = &ctx.state.settings;
    let title = form.title(regime);
    let applicant_id = d
        .applicant
        .get("id_number")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let handling_unit = names.unit(Some(&def.unit_code));
    let first = history
        .first()
        .ok_or_else(|| AppError::internal("a dossier without history"))?;
    // The form is dated by the event it records; each arm says which.
    let (event_at, extra): (ApiTime, Value) = match form {
        Form::Receipt => {
            let received = d
                .received_at
                .ok_or_else(|| not_applicable("Form 01 is issued once the dossier is received."))?;
            let receipt = last(&history, &["receive", "accept"]).unwrap_or(first);
            let key = lookup_key
                .filter(|k| lookup_key_matches(&row.code, &row.lookup_key_hash, k))
                .map(crate::domain::code::normalise_lookup_key);
            // A restart (supplement policy `restart`) reissues the form with the new appointment.
            let restarts: Vec<&HistoryRow> = history
                .iter()
                .filter(|r| {
                    r.action == "supplement_received" && r.details.get("previous_due_at").is_some()
                })
                .collect();
            let reissued = restarts.last().map(|r| {
                let earlier: Vec<String> = restarts
                    .iter()
                    .filter_map(|r| detail_time(&r.details["previous_due_at"]))
                    .map(|t| when(Some(t)))
                    .collect();
                json!({"at": when(Some(r.at)), "earlier": earlier})
            });
            let dated = restarts.last().map_or(received, |r| r.at);
            let base = settings
                .public
                .base_url
                .as_deref()
                .unwrap_or(reached_at)
                .trim_end_matches('/');
            (
                dated,
                json!({
                    "received_at": when(Some(received)),
                    // The legal appointment, never the apology's; none when none is issued.
                    "due_at": def.issues_appointment.then(|| when(d.due_at)),
                    "duration": def.duration_for(row.channel.is_online()).label_vi(),
                    "online": row.channel.is_online() && def.online_duration.is_some(),
                    "lookup_url": format!("{base}/tra-cuu"),
                    "lookup_key": key,
                    "sequence": d.code.rsplit('-').next().unwrap_or_default(),
                    "signer": names.person(&receipt.actor),
                    "reissued": reissued,
                }),
            )
        }
        Form::Supplement => {
            let ev = last(&history, &["request_supplement", "ask_completion"])
                .ok_or_else(|| not_applicable("No supplement or completion was requested."))?;
            let items: Vec<String> = ev
                .details
                .get("items")
                .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
                .unwrap_or_default()
                .iter()
                .map(|c| def.item(c).map_or(c.clone(), |i| i.name.clone()))
                .collect();
            let deadline = ev
                .details
                .get("applicant_deadline")
                .and_then(detail_time)
                .map(|t| when(Some(t)));
            (
                ev.at,
                json!({"items": items, "reasons": reasons(Some(ev)), "deadline": deadline,
                       "event_at": when(Some(ev.at)), "signer": names.person(&ev.actor)}),
            )
        }
        Form::Refusal => {
            let ev = last(&history, &["refuse", "reject"])
                .ok_or_else(|| not_applicable("The dossier was neither refused nor rejected."))?;
            (
                ev.at,
                json!({"reasons": reasons(Some(ev)), "event_at": when(Some(ev.at)),
                       "signer": names.person(&ev.actor), "rejected": ev.action == "reject"}),
            )
        }
        Form::Apology => {
            let apology = d
                .apology
                .as_ref()
                .ok_or_else(|| not_applicable("No apology was issued."))?;
            (
                apology.at,
                json!({"reason": apology.reason,
                       "new_due_at": when(Some(apology.new_due_at)),
                       "received_at": when(d.received_at), "due_at": when(d.due_at),
                       "signer": names.person(&apology.by)}),
            )
        }
        Form::StopNotice => {
            let ev = last(&history, &["stop"])
                .filter(|_| d.state == State::Stopped)
                .ok_or_else(|| not_applicable("Processing of the dossier was not stopped."))?;
            let withdrawal = ev.from_state.as_deref() == Some(State::WithdrawalRequested.as_str());
            (
                ev.at,
                json!({"reasons": reasons(Some(ev)), "event_at": when(Some(ev.at)),
                       "received_at": when(d.received_at), "withdrawal": withdrawal,
                       "signer": names.person(&ev.actor)}),
            )
        }
        Form::ControlSlip => {
            let received = d.received_at.ok_or_else(|| {
                not_applicable("The control slip starts when the dossier is received.")
            })?;
            let mut partners: Vec<String> = def
                .steps
                .iter()
                .filter(|s| s.unit_code != def.unit_code)
                .map(|s| names.unit(Some(&s.unit_code)))
                .collect();
            partners.dedup();
            (
                received,
                json!({"received_at": when(Some(received)),
                       "due_at": def.issues_appointment.then(|| when(d.due_at)),
                       "partners": partners.join(", "),
                       "rows": hand_overs(&history, &names, &row.applicant_name)}),
            )
        }
    };
    let mut context = json!({
        "d": d,
        "title": title,
        "form_label": form_label(form, regime),
        "agency_name": settings.agency.name,
        "issuer": COUNTER.to_uppercase(),
        "handling_unit": handling_unit,
        "place_date": place_date(event_at),
        "qr_svg": qr_svg(&qr_text(&d.code, &d.procedure.code, applicant_id, title))?,
        "kinds": {"original": "Bản chính", "copy": "Bản sao", "certified_copy": "Bản sao chứng thực", "electronic": "Bản điện tử"},
    });
    if let (Value::Object(a), Value::Object(b)) = (&mut context, extra) {
        a.extend(b);
    }
    ctx.state
        .forms
        .get_template(form.template())
        .and_then(|t| t.render(minijinja::value::Serde(&context)))
        .map_err(|e| AppError::internal(format!("form {number}: {e}")))
}
