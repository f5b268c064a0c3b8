//! Printable forms (mẫu 01–05 of Thông tư 01/2018, design §1): the data each form shows,
//! gathered from the dossier, its procedure and its history, and the QR code of form 01.

use chrono::{DateTime, FixedOffset};
use minijinja::Environment;
use serde_json::{Value, json};

use crate::db::DbConnection;
use crate::domain::code::lookup_key_matches;
use crate::error::{AppError, AppResult, Code};

use super::dossiers::{self, Ctx, HistoryRow, visible_dossier};

const TEMPLATES: [(&str, &str); 6] = [
    (
        "base.html",
        include_str!("../../config/templates/forms/base.html"),
    ),
    (
        "01.html",
        include_str!("../../config/templates/forms/01.html"),
    ),
    (
        "02.html",
        include_str!("../../config/templates/forms/02.html"),
    ),
    (
        "03.html",
        include_str!("../../config/templates/forms/03.html"),
    ),
    (
        "04.html",
        include_str!("../../config/templates/forms/04.html"),
    ),
    (
        "05.html",
        include_str!("../../config/templates/forms/05.html"),
    ),
];

pub fn templates() -> Result<Environment<'static>, String> {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| format!("templates/forms/{name}: {e}"))?;
    }
    Ok(env)
}

/// The text of form 01's QR code: dossier code, procedure code and applicant identifier.
pub fn qr_text(code: &str, procedure_code: &str, applicant_id: &str) -> String {
    format!("{code}|{procedure_code}|{applicant_id}")
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

fn when(t: Option<DateTime<FixedOffset>>) -> String {
    t.map(|t| t.format("%H giờ %M phút, ngày %d/%m/%Y").to_string())
        .unwrap_or_default()
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

/// Renders form `number` ("01".."05") of a dossier as HTML. `lookup_key`, when given and
/// right, is printed on form 01 (the database only keeps its hash).
pub fn render(
    conn: &mut DbConnection,
    ctx: &Ctx,
    code: &str,
    number: &str,
    lookup_key: Option<&str>,
) -> AppResult<String> {
    let template = match number {
        "01" | "02" | "03" | "04" | "05" => format!("{number}.html"),
        _ => return Err(AppError::new(Code::FormNotFound, "Forms are 01 to 05.")),
    };
    // The dossier is read once; the view, the history and the procedure follow from it.
    let row = visible_dossier(conn, ctx, code)?;
    let procedure = crate::db::procedures::find_by_id(conn, &row.procedure_id)?
        .ok_or_else(|| AppError::internal("procedure"))?;
    let procedure = super::procedures::Procedure::from_row(procedure)?;
    let d = dossiers::view(ctx.cal, &row, &procedure, ctx.principal, ctx.now)?;
    let history = dossiers::history_of(conn, ctx.tz(), &row)?;
    let def = &procedure.definition;
    let key = lookup_key
        .filter(|k| lookup_key_matches(&row.code, &row.lookup_key_hash, k))
        .map(crate::domain::code::normalise_lookup_key);
    let settings = &ctx.state.settings;
    let local_now = ctx.now.with_timezone(&ctx.cal.settings().timezone());
    let mut context = json!({
        "d": d,
        "agency_name": settings.agency.name,
        "place_date": format!("ngày {} tháng {} năm {}", local_now.format("%d"), local_now.format("%m"), local_now.format("%Y")),
        "received_at": when(d.received_at),
        "due_at": when(d.due_at_current.or(d.due_at)),
        "duration": def.duration.label_vi(),
        "kinds": {"original": "Bản chính", "copy": "Bản sao", "certified_copy": "Bản sao chứng thực", "electronic": "Bản điện tử"},
        "lookup_url": format!("{}/tra-cuu", settings.public.base_url.trim_end_matches('/')),
        "lookup_key": key,
        "sequence": d.code.rsplit('-').next().unwrap_or_default(),
        "received_by": history.first().map(|r| r.actor.clone()).unwrap_or_default(),
    });
    let extra = match number {
        "01" => {
            let id = d
                .applicant
                .get("id_number")
                .and_then(Value::as_str)
                .unwrap_or_default();
            json!({"qr_svg": qr_svg(&qr_text(&d.code, &d.procedure.code, id))?})
        }
        "02" => {
            let ev =
                last(&history, &["request_supplement", "ask_completion"]).ok_or_else(|| {
                    AppError::new(
                        Code::FormNotApplicable,
                        "No supplement or completion was requested.",
                    )
                })?;
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
                .and_then(Value::as_str)
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| {
                    when(Some(
                        t.with_timezone(&ctx.cal.settings().timezone())
                            .fixed_offset(),
                    ))
                });
            json!({"items": items, "reasons": reasons(Some(ev)), "deadline": deadline, "event_at": when(Some(ev.at)), "actor": ev.actor})
        }
        "03" => {
            let ev = last(&history, &["refuse", "reject"]).ok_or_else(|| {
                AppError::new(
                    Code::FormNotApplicable,
                    "The dossier was neither refused nor rejected.",
                )
            })?;
            json!({"reasons": reasons(Some(ev)), "event_at": when(Some(ev.at)), "actor": ev.actor, "action": ev.action})
        }
        "04" => {
            let apology = d
                .apology
                .as_ref()
                .ok_or_else(|| AppError::new(Code::FormNotApplicable, "No apology was issued."))?;
            let tz = ctx.cal.settings().timezone();
            json!({"reason": apology.reason, "new_due_at": when(Some(apology.new_due_at.with_timezone(&tz).fixed_offset())),
                   "due_at": when(d.due_at), "actor": apology.by})
        }
        _ => {
            let rows: Vec<Value> = history
                .iter()
                .map(|r| json!({
                    "unit": r.unit.clone().or(r.step_unit.clone()).unwrap_or_else(|| "Bộ phận Một cửa".into()),
                    "at": when(Some(r.at)),
                    "action": r.action,
                    "step_due_at": r.step_due_at.map(|t| when(Some(t))),
                    "actor": format!("{} ({})", r.actor, r.role),
                    "timeliness": r.step_timeliness.as_deref().map(|t| match t { "early" => "Trước hạn", "on_time" => "Đúng hạn", _ => "Quá hạn" }).unwrap_or(""),
                    "note": r.note,
                }))
                .collect();
            json!({"rows": rows})
        }
    };
    if let (Value::Object(a), Value::Object(b)) = (&mut context, extra) {
        a.extend(b);
    }
    ctx.state
        .forms
        .get_template(&template)
        .and_then(|t| t.render(minijinja::value::Serde(&context)))
        .map_err(|e| AppError::internal(format!("form {number}: {e}")))
}
