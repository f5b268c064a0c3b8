//! Reports: Biểu 06/VPCP/KSTT, the Quyết định 766 indicators and the queue counts.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::reports::{self as store, GroupBy};
use crate::db::{DbConnection, procedures, to_db_time, units};
use crate::domain::calendar::Calendar;
use crate::domain::deadline;
use crate::domain::stats::{Bieu06Row, Counts, Indicator, day_number};
use crate::error::{AppError, AppResult, FieldErrors};

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct PeriodQuery {
    /// First local date of the period (YYYY-MM-DD).
    pub from: Option<NaiveDate>,
    /// Last local date of the period, inclusive.
    pub to: Option<NaiveDate>,
    /// `field`, `procedure`, `unit` or `none` (default).
    pub group_by: Option<String>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Bieu06 {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub group_by: String,
    pub rows: Vec<Bieu06Row>,
    pub total: Bieu06Row,
}

/// The UTC bounds [start of `from`, start of the day after `to`) of a local-date period.
pub fn period_bounds(
    tz: Tz,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> AppResult<(
    NaiveDate,
    NaiveDate,
    chrono::NaiveDateTime,
    chrono::NaiveDateTime,
)> {
    let mut errors = FieldErrors::default();
    errors.check(from.is_some(), "from", "is required (YYYY-MM-DD)");
    errors.check(to.is_some(), "to", "is required (YYYY-MM-DD)");
    errors.into_result()?;
    let (Some(from), Some(to)) = (from, to) else {
        return Err(AppError::internal("checked"));
    };
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
    Ok((from, to, start(from)?, start(end_day)?))
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

pub fn bieu06(conn: &mut DbConnection, tz: Tz, q: &PeriodQuery) -> AppResult<Bieu06> {
    let group = parse_group(q.group_by.as_deref())?;
    let (from, to, _, _) = period_bounds(tz, q.from, q.to)?;
    let groups = store::bieu06(conn, day_number(from), day_number(to), group)?;
    let keys: Vec<String> = groups.iter().map(|g| g.key.clone()).collect();
    let names = labels(conn, group, &keys)?;
    let mut total = Counts::default();
    let mut rows = Vec::with_capacity(groups.len());
    for g in groups {
        let c = Counts {
            online: g.online,
            direct_postal: g.direct_postal,
            carried_over: g.carried_over,
            early: g.early,
            on_time: g.on_time,
            late: g.late,
            withdrawn: g.withdrawn,
            within: g.within,
            overdue: g.overdue,
        };
        total += c;
        let label = names.get(&g.key).cloned().unwrap_or_else(|| g.key.clone());
        rows.push(Bieu06Row::new(g.key, label, c));
    }
    Ok(Bieu06 {
        from,
        to,
        group_by: q.group_by.clone().unwrap_or_else(|| "none".into()),
        rows,
        total: Bieu06Row::new("total".into(), "Tổng cộng".into(), total),
    })
}

pub fn indicators(
    conn: &mut DbConnection,
    cal: &Calendar,
    q: &PeriodQuery,
) -> AppResult<Vec<Indicator>> {
    let (from, to, start, end) = period_bounds(cal.settings().timezone(), q.from, q.to)?;
    let c = store::indicators(conn, start, end, day_number(from), day_number(to))?;
    let day = cal.settings().day_length().num_seconds().max(1) as f64;
    let average_days = c
        .working_seconds
        .filter(|_| c.completed > 0)
        .map(|s| ((s as f64 / c.completed as f64 / day) * 100.0).round() / 100.0);
    Ok(vec![
        Indicator::scored(
            "2.1",
            "Tỷ lệ hồ sơ xử lý trước hạn, đúng hạn",
            c.processed_in_time,
            c.processed,
            100.0,
            10.0,
        ),
        Indicator {
            id: "2.2",
            name: "Thời gian giải quyết trung bình (ngày làm việc)",
            numerator: c.working_seconds.unwrap_or(0) as f64 / day,
            denominator: c.completed as f64,
            rate: average_days,
            threshold: None,
            max_points: 0.0,
            points: None,
        },
        Indicator::scored(
            "3.3",
            "Tỷ lệ hồ sơ nộp trực tuyến",
            c.received_online,
            c.received,
            50.0,
            6.0,
        ),
        Indicator::scored(
            "3.6",
            "Tỷ lệ hồ sơ thanh toán trực tuyến",
            c.paid_online,
            c.fee_bearing_paid,
            50.0,
            4.0,
        ),
        Indicator::scored(
            "4.1",
            "Tỷ lệ hồ sơ có cấp kết quả điện tử",
            c.electronic_results,
            c.paper_results,
            80.0,
            6.0,
        ),
        Indicator::scored(
            "4.2",
            "Tỷ lệ hồ sơ thực hiện số hóa",
            c.digitised,
            c.received,
            80.0,
            8.0,
        ),
        Indicator::scored(
            "4.3",
            "Tỷ lệ khai thác, sử dụng lại dữ liệu số hóa",
            c.reused,
            c.received,
            80.0,
            8.0,
        ),
        Indicator::scored(
            "5.c",
            "Tỷ lệ hài lòng trong tiếp nhận, giải quyết TTHC",
            c.satisfied,
            c.rated,
            90.0,
            18.0,
        ),
    ])
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
