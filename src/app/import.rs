//! `motcua import dossiers FILE`: paper-era dossiers from CSV (the header in `docs/import.md`)
//! or JSON (an array of objects in the API's field names). The whole file is read and every
//! row built first (`domain::dossier::import`); any bad row stops the import with errors that
//! name the row and the column, and nothing is written. Then the rows are written in batches
//! of [`BATCH`], one transaction each. A code already present is skipped, so the import can be
//! run again (after a crash mid-way, or with the file extended). Nothing is emailed, and the
//! staff notices whose moment has passed are recorded as raised.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::db::dossiers::{self as store, EventRow};
use crate::db::{self, DbConnection, procedures as procedure_store, to_db_time};
use crate::domain::code;
use crate::domain::dossier::import::{self as rules, ImportRow};
use crate::domain::dossier::receipt::ProcedureVersion;
use crate::error::AppError;

use super::AppState;
use super::dossiers::quiet_passed_notices;
use super::procedures::Procedure;

/// Dossiers written per transaction.
pub const BATCH: usize = 500;

/// The CSV columns, in the documented order (`docs/import.md`).
pub const CSV_COLUMNS: [&str; 22] = [
    "code",
    "procedure_code",
    "procedure_version",
    "duration_value",
    "duration_unit",
    "channel",
    "applicant_kind",
    "applicant_name",
    "applicant_id_number",
    "applicant_phone",
    "applicant_email",
    "applicant_address",
    "components",
    "received_at",
    "steps",
    "resolved_at",
    "outcome",
    "result_reference",
    "reasons",
    "delivered_at",
    "delivery_method",
    "note",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    /// By the file's extension (`.json`, else CSV).
    pub fn of(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Csv,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub read: usize,
    pub created: usize,
    /// Codes already in the database (an earlier run).
    pub skipped: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is wrong: one line per problem, each naming the row and the column.
    #[error("nothing imported; the file has {} problem(s):\n{}", .0.len(), .0.join("\n"))]
    Invalid(Vec<String>),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<db::DbError> for ImportError {
    fn from(e: db::DbError) -> Self {
        ImportError::App(e.into())
    }
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        ImportError::App(e.into())
    }
}

/// A row's column as the file names it: CSV columns are flat (`applicant_name`), JSON fields
/// keep their path (`applicant.name`); list positions are left to the message.
fn column(format: Format, field: &str) -> String {
    let field = field.split('[').next().unwrap_or(field);
    match format {
        Format::Csv => field.replace('.', "_"),
        Format::Json => field.to_owned(),
    }
}

/// `TP01:original:1;TP02:copy` → components.
fn csv_components(s: &str) -> Result<Value, String> {
    let mut out = Vec::new();
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let mut bits = part.split(':').map(str::trim);
        let item = bits.next().unwrap_or_default();
        let kind = bits.next().unwrap_or("original");
        let count: u32 = match bits.next() {
            Some(n) => n
                .parse()
                .map_err(|_| format!("{part:?}: the count must be a whole number"))?,
            None => 1,
        };
        out.push(json!({"item_code": item, "kind": kind, "count": count}));
    }
    Ok(Value::Array(out))
}

/// `B1@2024-01-16T08:00:00+07:00;B2@…` → steps.
fn csv_steps(s: &str) -> Result<Value, String> {
    let mut out = Vec::new();
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (step, at) = part
            .split_once('@')
            .ok_or_else(|| format!("{part:?}: write STEP@TIME"))?;
        out.push(json!({"step": step.trim(), "at": at.trim()}));
    }
    Ok(Value::Array(out))
}

/// A CSV record as the JSON object the rules read; errors name the column.
fn csv_row(record: &HashMap<&str, &str>) -> Result<Value, (String, String)> {
    let get = |k: &str| record.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let text = |k: &str| get(k).map_or(Value::Null, |v| json!(v));
    let mut row = json!({
        "code": get("code").unwrap_or_default(),
        "procedure_code": get("procedure_code").unwrap_or_default(),
        "channel": get("channel").unwrap_or("direct"),
        "applicant": {
            "kind": get("applicant_kind").unwrap_or("citizen"),
            "name": get("applicant_name").unwrap_or_default(),
            "id_number": text("applicant_id_number"),
            "phone": text("applicant_phone"),
            "email": text("applicant_email"),
            "address": text("applicant_address"),
        },
        "note": get("note").unwrap_or_default(),
        "received_at": get("received_at").unwrap_or_default(),
        "resolved_at": text("resolved_at"),
        "outcome": text("outcome"),
        "result_reference": text("result_reference"),
        "delivered_at": text("delivered_at"),
        "delivery_method": text("delivery_method"),
    });
    if let Some(v) = get("procedure_version") {
        let n: i32 = v.parse().map_err(|_| {
            (
                "procedure_version".to_owned(),
                "must be a whole number".to_owned(),
            )
        })?;
        row["procedure_version"] = json!(n);
    }
    match (get("duration_value"), get("duration_unit")) {
        (Some(v), unit) => {
            let n: u32 = v.parse().map_err(|_| {
                (
                    "duration_value".to_owned(),
                    "must be a whole number".to_owned(),
                )
            })?;
            row["duration"] = json!({"value": n, "unit": unit.unwrap_or("working_days")});
        }
        (None, Some(_)) => {
            return Err((
                "duration_value".to_owned(),
                "is required with duration_unit".to_owned(),
            ));
        }
        (None, None) => {}
    }
    row["components"] = csv_components(get("components").unwrap_or_default())
        .map_err(|m| ("components".to_owned(), m))?;
    row["steps"] =
        csv_steps(get("steps").unwrap_or_default()).map_err(|m| ("steps".to_owned(), m))?;
    if let Some(r) = get("reasons") {
        row["reasons"] = json!(
            r.split(';')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
        );
    }
    Ok(row)
}

/// The serde message names the field (`missing field `received_at``, `unknown variant …`).
fn serde_column(format: Format, message: &str) -> String {
    let named = message
        .split('`')
        .nth(1)
        .filter(|_| message.contains("field"))
        .map(|f| column(format, f));
    named.unwrap_or_else(|| "-".to_owned())
}

/// The row's times, checked before serde reads them (whose message would not name them).
fn check_times(value: &Value) -> Result<(), (String, String)> {
    let bad = |v: &Value| {
        v.as_str()
            .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_err())
    };
    for k in ["received_at", "resolved_at", "delivered_at"] {
        if bad(&value[k]) {
            return Err((
                k.to_owned(),
                format!(
                    "{:?} is not an RFC 3339 time with offset (2024-01-15T08:30:00+07:00)",
                    value[k].as_str().unwrap_or_default()
                ),
            ));
        }
    }
    if let Some(steps) = value["steps"].as_array() {
        for s in steps {
            if bad(&s["at"]) {
                return Err((
                    "steps".to_owned(),
                    format!(
                        "{:?} is not an RFC 3339 time with offset",
                        s["at"].as_str().unwrap_or_default()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The rows read, with their numbers, and the problems of those that could not be read.
pub type Parsed = (Vec<(usize, ImportRow)>, Vec<String>);

/// Reads the file into rows (1-based row numbers: the CSV's data rows, the JSON array's items)
/// and the problems of the rows that could not be read; `Err` when the file itself cannot be.
pub fn parse(text: &str, format: Format) -> Result<Parsed, Vec<String>> {
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut push = |n: usize, value: Value, errors: &mut Vec<String>| {
        if let Err((col, msg)) = check_times(&value) {
            errors.push(format!("row {n}, column {}: {msg}", column(format, &col)));
            return;
        }
        match serde_json::from_value::<ImportRow>(value) {
            Ok(r) => rows.push((n, r)),
            Err(e) => {
                let msg = e.to_string();
                errors.push(format!(
                    "row {n}, column {}: {msg}",
                    serde_column(format, &msg)
                ));
            }
        }
    };
    match format {
        Format::Json => {
            let items: Vec<Value> = serde_json::from_str(text)
                .map_err(|e| vec![format!("the file is not a JSON array of dossiers: {e}")])?;
            for (i, v) in items.into_iter().enumerate() {
                push(i + 1, v, &mut errors);
            }
        }
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .trim(csv::Trim::Headers)
                .from_reader(text.as_bytes());
            let headers = reader
                .headers()
                .map_err(|e| vec![format!("the CSV header cannot be read: {e}")])?
                .clone();
            let unknown: Vec<&str> = headers
                .iter()
                .filter(|h| !CSV_COLUMNS.contains(h))
                .collect();
            if !unknown.is_empty() {
                return Err(vec![format!(
                    "header: unknown column(s) {}; the columns are {}",
                    unknown.join(", "),
                    CSV_COLUMNS.join(",")
                )]);
            }
            for required in ["code", "procedure_code", "received_at", "applicant_name"] {
                if !headers.iter().any(|h| h == required) {
                    errors.push(format!("header: column {required} is required"));
                }
            }
            if !errors.is_empty() {
                return Err(errors);
            }
            for (i, record) in reader.records().enumerate() {
                let n = i + 1;
                let record = match record {
                    Ok(r) => r,
                    Err(e) => {
                        errors.push(format!("row {n}: {e}"));
                        continue;
                    }
                };
                let map: HashMap<&str, &str> = headers.iter().zip(record.iter()).collect();
                match csv_row(&map) {
                    Ok(v) => push(n, v, &mut errors),
                    Err((col, msg)) => errors.push(format!("row {n}, column {col}: {msg}")),
                }
            }
        }
    }
    Ok((rows, errors))
}

/// Imports the file's dossiers (see the module's comment); `format` as the file is written.
pub fn import_dossiers(
    conn: &mut DbConnection,
    state: &AppState,
    text: &str,
    format: Format,
) -> Result<ImportReport, ImportError> {
    let (rows, mut errors) = parse(text, format).map_err(ImportError::Invalid)?;
    let cal = state.calendar.current(conn)?;
    let now = state.clock.now();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut procedures: HashMap<String, Procedure> = HashMap::new();
    let mut built = Vec::with_capacity(rows.len());
    for (n, row) in &rows {
        if let Some(first) = seen.insert(row.code.clone(), *n) {
            errors.push(format!(
                "row {n}, column code: {} is also on row {first}",
                row.code
            ));
            continue;
        }
        let found = match row.procedure_version {
            Some(v) => procedure_store::find_version(conn, &row.procedure_code, v)?,
            None => procedure_store::find_in_force(
                conn,
                &row.procedure_code,
                to_db_time(row.received_at.to_utc()),
            )?,
        };
        let Some(found) = found else {
            let what = match row.procedure_version {
                Some(v) => format!("{} has no version {v}", row.procedure_code),
                None => format!("unknown procedure {:?}", row.procedure_code),
            };
            let col = if row.procedure_version.is_some() {
                "procedure_version"
            } else {
                "procedure_code"
            };
            errors.push(format!("row {n}, column {col}: {what}"));
            continue;
        };
        let procedure = match procedures.get(&found.id) {
            Some(p) => p.clone(),
            None => {
                let p = Procedure::from_row(found)?;
                procedures.insert(p.version_id.clone(), p.clone());
                p
            }
        };
        let version = ProcedureVersion {
            version_id: &procedure.version_id,
            definition: &procedure.definition,
        };
        match rules::build(row, version, &cal, now) {
            Ok(b) => built.push((b, procedure.definition.clone())),
            Err(r) if r.fields.is_empty() => errors.push(format!("row {n}: {}", r.detail)),
            Err(r) => {
                for (field, message) in &r.fields {
                    errors.push(format!(
                        "row {n}, column {}: {message}",
                        column(format, field)
                    ));
                }
            }
        }
    }
    if !errors.is_empty() {
        // In file order, whichever check found them.
        errors.sort_by_key(|e| {
            e.strip_prefix("row ")
                .and_then(|r| r.split([',', ':']).next())
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0)
        });
        return Err(ImportError::Invalid(errors));
    }
    let agency = state.settings.agency.code.clone();
    let days = state.settings.notify.due_soon_working_days;
    let mut report = ImportReport {
        read: built.len(),
        ..Default::default()
    };
    for batch in built.chunks(BATCH) {
        let (created, skipped) = db::write_tx(conn, |conn| {
            let (mut created, mut skipped) = (0, 0);
            for (b, def) in batch {
                let mut d = b.dossier.clone();
                if store::find_by_code(conn, &d.code)?.is_some() {
                    skipped += 1;
                    continue;
                }
                d.id = uuid::Uuid::new_v4().to_string();
                // Paper dossiers had no lookup key: one nobody knows (staff may print a new one).
                let key = code::lookup_key(rand::random());
                d.lookup_key_hash = code::hash_lookup_key(&d.code, &key);
                d.created_at = now;
                d.updated_at = now;
                store::insert(conn, &d)?;
                for (i, e) in b.events.iter().enumerate() {
                    store::insert_event(
                        conn,
                        &EventRow {
                            dossier_id: d.id.clone(),
                            seq: i32::try_from(i + 1).unwrap_or(i32::MAX),
                            action: e.action.as_str().to_owned(),
                            from_state: e.from.map(|s| s.as_str().to_owned()),
                            to_state: e.to.as_str().to_owned(),
                            actor: "import".to_owned(),
                            role: "admin".to_owned(),
                            unit_code: None,
                            occurred_at: to_db_time(e.at),
                            recorded_at: to_db_time(now),
                            note: if i == 0 {
                                d.note.clone()
                            } else {
                                String::new()
                            },
                            details: e.details.to_string(),
                            step: e.step.as_ref().map(|s| s.code.clone()),
                            step_unit: e.step.as_ref().map(|s| s.unit_code.clone()),
                            step_due_at: e.step.as_ref().map(|s| to_db_time(s.due_at)),
                            closed_step: e.closed.as_ref().map(|c| c.code.clone()),
                            closed_step_due_at: e
                                .closed
                                .as_ref()
                                .and_then(|c| c.due_at.map(to_db_time)),
                            step_timeliness: e
                                .closed
                                .as_ref()
                                .map(|c| c.timeliness.as_str().to_owned()),
                            due_at: e.due_at.map(to_db_time),
                        },
                    )?;
                }
                // Officers and leaders of every unit it passed through may see it.
                for step in b.events.iter().filter_map(|e| e.step.as_ref()) {
                    store::mark_unit(conn, &d.id, &step.unit_code)?;
                }
                // A code of this agency's shape keeps the day's sequence beyond it.
                if let Some((day, seq)) = code::parse_dossier_code(&agency, &d.code) {
                    store::raise_sequence(conn, &agency, day, seq)?;
                }
                quiet_passed_notices(conn, &cal, days, &d, def, now)?;
                created += 1;
            }
            Ok::<_, AppError>((created, skipped))
        })?;
        report.created += created;
        report.skipped += skipped;
    }
    tracing::info!(
        import.read = report.read,
        import.created = report.created,
        import.skipped = report.skipped,
        "dossiers imported"
    );
    Ok(report)
}
