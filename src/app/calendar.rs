//! The working calendar: loading the shipped year files, admin edits with their log, the
//! cached `Calendar` every deadline is computed with, and the due-time explanation.

use std::path::Path;

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::calendar::{self as store, CalendarChangeRow, CalendarDayRow};
use crate::db::{self, DbConnection, from_db_time, to_db_time};
use crate::domain::calendar::{
    Calendar, DayKind, SpecialDay, WorkingTimeSettings, parse_calendar_file, validate_special_day,
};
use crate::domain::deadline::{self, Duration, Explanation};
use crate::error::{AppError, AppResult, Code};

use super::users::Principal;

/// A special date as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalendarDay {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// `holiday`, `compensatory_off`, `swapped_off` or `makeup_workday`.
    pub kind: String,
    pub name: String,
    pub source: String,
    /// Derived from the Labor Code because the year has no holiday decision (no shipped
    /// file, no admin entry); the first entry for the year replaces all of them.
    #[serde(default)]
    pub provisional: bool,
}

impl From<CalendarDayRow> for CalendarDay {
    fn from(r: CalendarDayRow) -> Self {
        CalendarDay {
            date: r.date,
            kind: r.kind,
            name: r.name,
            source: r.source,
            provisional: false,
        }
    }
}

impl CalendarDay {
    fn provisional(d: &SpecialDay) -> Self {
        CalendarDay {
            date: d.date,
            kind: d.kind.as_str().to_owned(),
            name: d.name.clone(),
            source: d.source.clone(),
            provisional: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutCalendarDay {
    /// `holiday`, `compensatory_off`, `swapped_off` or `makeup_workday`.
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarChange {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub actor: String,
    pub at: crate::clock::ApiTime,
    pub old: Option<CalendarDayValue>,
    pub new: Option<CalendarDayValue>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarDayValue {
    pub kind: String,
    pub name: String,
}

impl From<CalendarChangeRow> for CalendarChange {
    fn from(r: CalendarChangeRow) -> Self {
        let value = |k: Option<String>, n: Option<String>| {
            k.map(|kind| CalendarDayValue {
                kind,
                name: n.unwrap_or_default(),
            })
        };
        CalendarChange {
            date: r.date,
            actor: r.actor,
            at: from_db_time(r.at).into(),
            old: value(r.old_kind, r.old_name),
            new: value(r.new_kind, r.new_name),
        }
    }
}

/// The calendar as last loaded, with the database revision it reflects. Each use reads the
/// revision (one tiny query) and reloads after any change, by this instance or another.
/// Revisions are random (`db::calendar::bump_revision`), so a calendar cached from inside a
/// transaction that then rolled back is never taken for a later change's.
pub struct CalendarCache {
    settings: WorkingTimeSettings,
    loaded: RwLock<Option<(i64, Arc<Calendar>)>>,
}

impl CalendarCache {
    pub fn new(settings: WorkingTimeSettings) -> Self {
        CalendarCache {
            settings,
            loaded: RwLock::new(None),
        }
    }

    pub fn settings(&self) -> &WorkingTimeSettings {
        &self.settings
    }

    pub fn current(&self, conn: &mut DbConnection) -> AppResult<Arc<Calendar>> {
        let revision = store::revision(conn)?;
        if let Ok(guard) = self.loaded.read()
            && let Some((rev, cal)) = guard.as_ref()
            && *rev == revision
        {
            return Ok(cal.clone());
        }
        let days = store::list_days(conn)?
            .into_iter()
            .map(special_day)
            .collect::<AppResult<Vec<_>>>()?;
        // A year loaded from a file counts as decided even if the file lists no day.
        let loaded = store::loaded_years(conn)?;
        let cal = Arc::new(Calendar::with_provisional(
            days,
            &loaded,
            self.settings.clone(),
        ));
        if let Ok(mut guard) = self.loaded.write() {
            *guard = Some((revision, cal.clone()));
        }
        Ok(cal)
    }
}

fn special_day(r: CalendarDayRow) -> AppResult<SpecialDay> {
    Ok(SpecialDay {
        date: r.date,
        kind: r
            .kind
            .parse()
            .map_err(|e| AppError::internal(format!("calendar_days {}: {e}", r.date)))?,
        name: r.name,
        source: r.source,
    })
}

/// The shipped year files, compiled in: used when `calendar.data_dir` does not exist.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "vn-2023.toml",
        include_str!("../../config/calendars/vn-2023.toml"),
    ),
    (
        "vn-2024.toml",
        include_str!("../../config/calendars/vn-2024.toml"),
    ),
    (
        "vn-2025.toml",
        include_str!("../../config/calendars/vn-2025.toml"),
    ),
    (
        "vn-2026.toml",
        include_str!("../../config/calendars/vn-2026.toml"),
    ),
];

/// Reads the `*.toml` files of `dir`, or the built-in ones when `dir` does not exist.
pub fn read_calendar_files(dir: &Path) -> AppResult<Vec<(String, String)>> {
    if !dir.is_dir() {
        tracing::warn!(calendar.data_dir = %dir.display(), "calendar folder not found; using the built-in 2023–2026 data");
        return Ok(BUILTIN_FILES
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect());
    }
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| AppError::internal(format!("calendar.data_dir {}: {e}", dir.display())))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            std::fs::read_to_string(&p)
                .map(|t| (p.display().to_string(), t))
                .map_err(|e| AppError::internal(format!("{}: {e}", p.display())))
        })
        .collect()
}

/// Loads each year file whose year was never loaded. Idempotent: a year loaded once is not
/// loaded again, so an admin's later edits survive restarts.
pub fn load_calendar_files(
    conn: &mut DbConnection,
    files: &[(String, String)],
    now: DateTime<Utc>,
) -> AppResult<Vec<i32>> {
    let mut loaded = Vec::new();
    for (name, text) in files {
        let file =
            parse_calendar_file(text).map_err(|e| AppError::internal(format!("{name}: {e}")))?;
        let done = db::write_tx(conn, |conn| {
            if store::loaded_years(conn)?.contains(&file.year) {
                return Ok::<_, AppError>(false);
            }
            for day in &file.days {
                // A date an admin already entered by hand is kept as it is.
                if store::find_day(conn, day.date)?.is_none() {
                    store::insert_day(conn, &row(day, "system", now))?;
                }
            }
            store::insert_loaded_year(conn, file.year, to_db_time(now))?;
            store::bump_revision(conn)?;
            Ok(true)
        })?;
        if done {
            tracing::info!(
                calendar.year = file.year,
                calendar.days = file.days.len(),
                "calendar data loaded"
            );
            loaded.push(file.year);
        }
    }
    Ok(loaded)
}

fn row(day: &SpecialDay, actor: &str, now: DateTime<Utc>) -> CalendarDayRow {
    CalendarDayRow {
        date: day.date,
        kind: day.kind.as_str().to_owned(),
        name: day.name.trim().to_owned(),
        source: day.source.trim().to_owned(),
        updated_by: actor.to_owned(),
        updated_at: to_db_time(now),
    }
}

/// The special days of `year`: the stored ones, or the provisional ones while the year has
/// no decision.
pub fn list_days(
    conn: &mut DbConnection,
    cache: &CalendarCache,
    year: i32,
) -> AppResult<Vec<CalendarDay>> {
    if !(1..=9999).contains(&year) {
        return Err(AppError::invalid_field("year", "must be 1–9999"));
    }
    let (from, to) = NaiveDate::from_ymd_opt(year, 1, 1)
        .zip(NaiveDate::from_ymd_opt(year, 12, 31))
        .ok_or_else(|| AppError::invalid_field("year", "is out of range"))?;
    let cal = cache.current(conn)?;
    if cal.is_provisional_year(year) {
        return Ok(cal
            .days_in_year(year)
            .iter()
            .map(CalendarDay::provisional)
            .collect());
    }
    Ok(store::list_days_between(conn, from, to)?
        .into_iter()
        .map(CalendarDay::from)
        .collect())
}

pub fn list_changes(conn: &mut DbConnection) -> AppResult<Vec<CalendarChange>> {
    Ok(store::list_changes(conn, 500)?
        .into_iter()
        .map(CalendarChange::from)
        .collect())
}

fn log_change(
    conn: &mut DbConnection,
    date: NaiveDate,
    actor: &str,
    now: DateTime<Utc>,
    old: Option<&CalendarDayRow>,
    new: Option<&CalendarDayRow>,
) -> AppResult<()> {
    store::insert_change(
        conn,
        &CalendarChangeRow {
            id: uuid::Uuid::new_v4().to_string(),
            date,
            actor: actor.to_owned(),
            at: to_db_time(now),
            old_kind: old.map(|r| r.kind.clone()),
            old_name: old.map(|r| r.name.clone()),
            new_kind: new.map(|r| r.kind.clone()),
            new_name: new.map(|r| r.name.clone()),
        },
    )?;
    store::bump_revision(conn)?;
    tracing::info!(calendar.date = %date, user.name = actor, "calendar changed");
    Ok(())
}

/// Sets a special date (creates or replaces it), logging who changed what.
pub fn put_day(
    conn: &mut DbConnection,
    cache: &CalendarCache,
    principal: &Principal,
    date: NaiveDate,
    req: &PutCalendarDay,
    now: DateTime<Utc>,
) -> AppResult<CalendarDay> {
    let kind: DayKind = req
        .kind
        .parse()
        .map_err(|e: crate::domain::calendar::UnknownValue| {
            AppError::invalid_field("kind", e.to_string())
        })?;
    let day = SpecialDay {
        date,
        kind,
        name: req.name.clone(),
        source: req.source.clone(),
    };
    validate_special_day(&day)
        .map_err(|e| AppError::new(Code::CalendarInvalidDay, e.to_string()))?;
    let actor = principal.username.as_str();
    let new = row(&day, actor, now);
    db::write_tx(conn, |conn| {
        if cache.current(conn)?.is_provisional_year(date.year()) {
            tracing::info!(calendar.year = date.year(), calendar.date = %date,
                "first entry for a year without a decision: its provisional days are replaced");
        }
        let old = store::find_day(conn, date)?;
        match &old {
            Some(_) => store::update_day(conn, &new)?,
            None => store::insert_day(conn, &new)?,
        }
        log_change(conn, date, actor, now, old.as_ref(), Some(&new))?;
        recompute(conn, cache, principal, now)
    })?;
    Ok(new.into())
}

/// Removes a special date (it becomes an ordinary weekday or weekend day).
pub fn delete_day(
    conn: &mut DbConnection,
    cache: &CalendarCache,
    principal: &Principal,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let actor = principal.username.as_str();
    db::write_tx(conn, |conn| {
        let old = store::find_day(conn, date)?.ok_or_else(|| {
            AppError::new(
                Code::CalendarDayNotFound,
                format!("{date} is not a special day."),
            )
        })?;
        store::delete_day(conn, date)?;
        log_change(conn, date, actor, now, Some(&old), None)?;
        recompute(conn, cache, principal, now)
    })
}

/// Open dossiers' due times follow the new calendar, in the same transaction as the change.
fn recompute(
    conn: &mut DbConnection,
    cache: &CalendarCache,
    principal: &Principal,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let cal = cache.current(conn)?;
    let changed = super::dossiers::recompute_due_times(conn, &cal, principal, now)?;
    if changed > 0 {
        tracing::info!(
            dossiers.changed = changed,
            "due times recomputed after a calendar change"
        );
    }
    Ok(())
}

/// The due time of `duration` from `start`, explained day by day. Warns in the log when the
/// computation crosses a year without calendar data (nothing is guessed for it).
pub fn explain_due(
    cal: &Calendar,
    start: DateTime<Utc>,
    duration: Duration,
) -> AppResult<Explanation> {
    duration
        .check()
        .map_err(|e| AppError::invalid_field("value", e.to_string()))?;
    let explanation = deadline::explain(cal, start, duration);
    if !explanation.years_without_data.is_empty() {
        tracing::warn!(calendar.missing_years = ?explanation.years_without_data,
            "due time computed across a year without calendar data (weekends only)");
    }
    if !explanation.provisional_years.is_empty() {
        tracing::info!(calendar.provisional_years = ?explanation.provisional_years,
            "due time computed with provisional days off (Labor Code; no holiday decision yet)");
    }
    Ok(explanation)
}

/// Where a year's days off come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum YearSource {
    /// A shipped file or an admin's entries: the government's decision.
    Decided,
    /// No decision: derived from the Labor Code (Bộ luật Lao động 2019 Điều 112).
    Provisional,
    /// Nothing: weekends only.
    Missing,
}

/// Where the days off of this year and next year (local) come from.
pub fn years_with_data(cal: &Calendar, now: DateTime<Utc>) -> Vec<(i32, YearSource)> {
    let year = now.with_timezone(&cal.settings().timezone()).year();
    [year, year + 1]
        .into_iter()
        .map(|y| {
            let source = if cal.is_provisional_year(y) {
                YearSource::Provisional
            } else if cal.has_year(y) {
                YearSource::Decided
            } else {
                YearSource::Missing
            };
            (y, source)
        })
        .collect()
}

/// The readiness check of the calendar (`/readyz` `calendar`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarCheck {
    /// This year and next year both have a holiday decision. Informational: the service
    /// stays ready; a provisional year counts the Labor Code's days, a missing one weekends.
    pub ok: bool,
    /// Year → has a holiday decision (a shipped file or an admin's entries).
    #[schema(value_type = Object)]
    pub years: std::collections::BTreeMap<String, bool>,
    /// Year → `decided`, `provisional` (from the Labor Code) or `missing`.
    #[schema(value_type = Object)]
    pub sources: std::collections::BTreeMap<String, YearSource>,
    pub detail: String,
}

/// The calendar check for `years` (from [`years_with_data`]; empty when the database could
/// not be asked).
pub fn readiness(years: &[(i32, YearSource)]) -> CalendarCheck {
    let with = |s: YearSource| -> Vec<String> {
        years
            .iter()
            .filter(|y| y.1 == s)
            .map(|y| y.0.to_string())
            .collect()
    };
    let (provisional, missing) = (with(YearSource::Provisional), with(YearSource::Missing));
    let mut notes = Vec::new();
    if !provisional.is_empty() {
        notes.push(format!(
            "{}: provisional, from the Labor Code (Bộ luật Lao động 2019 Điều 112); enter the \
             holiday decision (PUT /api/v1/calendar/days or a calendar file) to replace it",
            provisional.join(", ")
        ));
    }
    if !missing.is_empty() {
        notes.push(format!(
            "no calendar data for {}: add it (PUT /api/v1/calendar/days) before due times reach it",
            missing.join(", ")
        ));
    }
    let detail = if years.is_empty() {
        "unknown".to_owned()
    } else if notes.is_empty() {
        "this year and next year have data".to_owned()
    } else {
        notes.join("; ")
    };
    CalendarCheck {
        ok: !years.is_empty() && provisional.is_empty() && missing.is_empty(),
        years: years
            .iter()
            .map(|(y, s)| (y.to_string(), *s == YearSource::Decided))
            .collect(),
        sources: years.iter().map(|(y, s)| (y.to_string(), *s)).collect(),
        detail,
    }
}
