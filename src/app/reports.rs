//! Reports: Biểu 06/VPCP/KSTT, the Quyết định 766 indicators and the queue counts.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::procedures::Procedure;
use crate::db::reports::{self as store, GroupBy};
use crate::db::{DbConnection, procedures, to_db_time, units};
use crate::domain::calendar::Calendar;
use crate::domain::deadline;
use crate::domain::period::{self, Cutoff};
use crate::domain::stats::{
    Bieu06Row, Counts, Indicator, ProcedureFlags, Rules, Tally766, day_number, indicators_766, rate,
};
use crate::error::{AppError, AppResult, FieldErrors};

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct PeriodQuery {
    /// First local date of the period (YYYY-MM-DD); give `from` and `to`, or `period`.
    pub from: Option<NaiveDate>,
    /// Last local date of the period, inclusive.
    pub to: Option<NaiveDate>,
    /// A statutory period: `2024-M03` (month), `2024-Q1`, `2024-H1` / `2024-H2` (6 months),
    /// `2024-9M` (9 months) or `2024` (year).
    pub period: Option<String>,
    /// How `period` is cut: `calendar` (default) or `nd09` (the data cut-off of Nghị định
    /// 09/2019 Art. 12: from the 15th of the month before to the 14th of the last month).
    pub cutoff: Option<String>,
    /// `field`, `procedure`, `unit` or `none` (default).
    pub group_by: Option<String>,
    /// `json` (default), `csv`, `xlsx` or `html` (the printable page).
    pub format: Option<String>,
}

/// The period a report covers, as it was asked and as it was cut.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodUsed {
    /// The preset asked for, if any.
    pub preset: Option<String>,
    pub cutoff: Cutoff,
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Bieu06 {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub period: PeriodUsed,
    /// The counting rules used (settings `reports.*`).
    pub rules: Rules,
    pub group_by: String,
    pub rows: Vec<Bieu06Row>,
    pub total: Bieu06Row,
}

/// The local-date period of a query: `period` (with `cutoff`), or `from` and `to`.
pub fn resolve_period(q: &PeriodQuery) -> AppResult<PeriodUsed> {
    let cutoff = match q.cutoff.as_deref() {
        None => Cutoff::Calendar,
        Some(c) => Cutoff::parse(c)
            .ok_or_else(|| AppError::invalid_field("cutoff", "must be calendar or nd09"))?,
    };
    if let Some(preset) = &q.period {
        if q.from.is_some() || q.to.is_some() {
            return Err(AppError::invalid_field(
                "period",
                "give either period or from and to, not both",
            ));
        }
        let (from, to) = period::preset_dates(preset, cutoff).ok_or_else(|| {
            AppError::invalid_field(
                "period",
                "must be YYYY, YYYY-Mmm, YYYY-Qn, YYYY-Hn or YYYY-9M (e.g. 2024-M03, 2024-Q1, 2024-H1)",
            )
        })?;
        return Ok(PeriodUsed {
            preset: Some(preset.clone()),
            cutoff,
            from,
            to,
        });
    }
    if q.cutoff.is_some() {
        return Err(AppError::invalid_field("cutoff", "applies to period only"));
    }
    let mut errors = FieldErrors::default();
    errors.check(
        q.from.is_some(),
        "from",
        "is required (YYYY-MM-DD), or give period",
    );
    errors.check(
        q.to.is_some(),
        "to",
        "is required (YYYY-MM-DD), or give period",
    );
    errors.into_result()?;
    let (Some(from), Some(to)) = (q.from, q.to) else {
        return Err(AppError::internal("checked"));
    };
    Ok(PeriodUsed {
        preset: None,
        cutoff,
        from,
        to,
    })
}

/// The UTC bounds [start of `from`, start of the day after `to`) of a local-date period.
pub fn period_bounds(
    tz: Tz,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<(chrono::NaiveDateTime, chrono::NaiveDateTime)> {
    if to < from {
        return Err(AppError::invalid_field("to", "must not be before from"));
    }
    if (to - from).num_days() > 366 * 10 {
        return Err(AppError::invalid_field(
            "to",
            "the period may span ten years at most",
        ));
    }
    let start = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| to_db_time(t.to_utc()))
            .ok_or_else(|| AppError::invalid_field("from", "is not a valid local date"))
    };
    let end_day = to
        .succ_opt()
        .ok_or_else(|| AppError::invalid_field("to", "is out of range"))?;
    Ok((start(from)?, start(end_day)?))
}

pub fn parse_group(g: Option<&str>) -> AppResult<GroupBy> {
    match g.unwrap_or("none") {
        "field" => Ok(GroupBy::Field),
        "procedure" => Ok(GroupBy::Procedure),
        "unit" => Ok(GroupBy::Unit),
        "none" => Ok(GroupBy::None),
        _ => Err(AppError::invalid_field(
            "group_by",
            "must be field, procedure, unit or none",
        )),
    }
}

fn labels(
    conn: &mut DbConnection,
    group: GroupBy,
    keys: &[String],
) -> AppResult<HashMap<String, String>> {
    let mut out = HashMap::new();
    for k in keys {
        let label = match group {
            GroupBy::Procedure => procedures::find_current(conn, k)?.map(|p| p.name),
            GroupBy::Unit => units::find_unit(conn, k)?.map(|u| u.name),
            GroupBy::Field => Some(k.clone()),
            GroupBy::None => Some("Tổng số".to_owned()),
        };
        out.insert(k.clone(), label.unwrap_or_else(|| k.clone()));
    }
    Ok(out)
}

pub fn bieu06(conn: &mut DbConnection, tz: Tz, rules: Rules, q: &PeriodQuery) -> AppResult<Bieu06> {
    let group = parse_group(q.group_by.as_deref())?;
    let period = resolve_period(q)?;
    period_bounds(tz, period.from, period.to)?;
    let groups = store::bieu06(
        conn,
        day_number(period.from),
        day_number(period.to),
        group,
        rules.judged_against,
    )?;
    let keys: Vec<String> = groups.iter().map(|g| g.key.clone()).collect();
    let names = labels(conn, group, &keys)?;
    let mut total = Counts::default();
    let mut rows = Vec::with_capacity(groups.len());
    for g in groups {
        let c = g.counts();
        total += c;
        let label = names.get(&g.key).cloned().unwrap_or_else(|| g.key.clone());
        rows.push(Bieu06Row::new(g.key, label, c, rules));
    }
    Ok(Bieu06 {
        from: period.from,
        to: period.to,
        period,
        rules,
        group_by: q.group_by.clone().unwrap_or_else(|| "none".into()),
        rows,
        total: Bieu06Row::new("total".into(), "Tổng cộng".into(), total, rules),
    })
}

/// The on-time rate of one month (of the finishes that count as resolved in it).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthRate {
    /// `YYYY-MM`.
    pub month: String,
    pub resolved: i64,
    pub in_time: i64,
    pub on_time_rate: Option<f64>,
}

/// The on-time rate month by month over the period (the chart of the statistics page).
pub fn monthly_rates(
    conn: &mut DbConnection,
    rules: Rules,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<MonthRate>> {
    let days =
        store::finishes_by_day(conn, day_number(from), day_number(to), rules.judged_against)?;
    let mut months: Vec<MonthRate> = period::months_between(from, to)
        .into_iter()
        .map(|m| MonthRate {
            month: m.format("%Y-%m").to_string(),
            resolved: 0,
            in_time: 0,
            on_time_rate: None,
        })
        .collect();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    for d in days {
        let date = epoch + chrono::Days::new(u64::try_from(d.day).unwrap_or(0));
        let key = date.format("%Y-%m").to_string();
        let Some(m) = months.iter_mut().find(|m| m.month == key) else {
            continue;
        };
        let c = Counts {
            early: d.early,
            on_time: d.on_time,
            late: d.late,
            withdrawn_early: d.w_early,
            withdrawn_on_time: d.w_on_time,
            withdrawn_late: d.w_late,
            ..Counts::default()
        };
        let row = Bieu06Row::new(String::new(), String::new(), c, rules);
        m.resolved += row.resolved.total;
        m.in_time += row.resolved.early + row.resolved.on_time;
    }
    for m in &mut months {
        m.on_time_rate = rate(m.in_time, m.resolved);
    }
    Ok(months)
}

/// The 766 indicators, with the period they cover.
pub struct Indicators {
    pub period: PeriodUsed,
    pub rules: Rules,
    pub list: Vec<Indicator>,
}

pub fn indicators(
    conn: &mut DbConnection,
    cal: &Calendar,
    rules: Rules,
    q: &PeriodQuery,
) -> AppResult<Indicators> {
    let period = resolve_period(q)?;
    let (_, end) = period_bounds(cal.settings().timezone(), period.from, period.to)?;
    let groups = store::indicators(
        conn,
        day_number(period.from),
        day_number(period.to),
        end,
        rules.judged_against,
    )?;
    let mut flags: HashMap<String, ProcedureFlags> = HashMap::new();
    for row in procedures::list_all(conn)? {
        let id = row.id.clone();
        let p = Procedure::from_row(row)?;
        flags.insert(
            id,
            ProcedureFlags {
                code: p.definition.code.clone(),
                name: p.definition.name.clone(),
                paper_result: p.definition.paper_result,
                fee_bearing: p.definition.fee_vnd > 0,
            },
        );
    }
    let tallies: Vec<(ProcedureFlags, Tally766)> = groups
        .into_iter()
        .map(|g| {
            let f = flags
                .get(&g.procedure_id)
                .cloned()
                .unwrap_or(ProcedureFlags {
                    code: g.procedure_id.clone(),
                    name: g.procedure_id.clone(),
                    paper_result: false,
                    fee_bearing: false,
                });
            (f, g.tally())
        })
        .collect();
    let day = cal.settings().day_length().num_seconds().max(1) as f64;
    Ok(Indicators {
        period,
        rules,
        list: indicators_766(&tallies, rules, day),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueCounts {
    pub unit_code: Option<String>,
    pub due_today: i64,
    pub due_soon: i64,
    pub overdue: i64,
    /// State → number of dossiers.
    #[schema(value_type = Object)]
    pub by_state: std::collections::BTreeMap<String, i64>,
}

pub fn queue(
    conn: &mut DbConnection,
    cal: &Calendar,
    unit: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<QueueCounts> {
    let tz = cal.settings().timezone();
    let tomorrow = now
        .with_timezone(&tz)
        .date_naive()
        .succ_opt()
        .ok_or_else(|| AppError::internal("date"))?;
    let end_of_today = tomorrow
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(tz).earliest())
        .ok_or_else(|| AppError::internal("date"))?
        .to_utc();
    let soon = deadline::add_working_time(cal, now, cal.settings().day_length());
    let due = store::due_counts(
        conn,
        unit,
        to_db_time(now),
        to_db_time(end_of_today),
        to_db_time(soon),
    )?;
    Ok(QueueCounts {
        unit_code: unit.map(str::to_owned),
        due_today: due.due_today,
        due_soon: due.due_soon,
        overdue: due.overdue,
        by_state: store::by_state(conn, unit)?
            .into_iter()
            .map(|s| (s.state.as_str().to_owned(), s.n))
            .collect(),
    })
}
