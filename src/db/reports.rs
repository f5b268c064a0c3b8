//! Report aggregates: one SQL statement each, the same text on both backends, over the
//! dossier table's indexed columns (no dossier is loaded into memory).
//!
//! Placeholders are `$1, $2, …`: positional on PostgreSQL, but *named* on SQLite, where they
//! are numbered in order of first appearance. Every statement here therefore uses `$1` first,
//! then `$2`, and so on, so that both backends bind the same values to the same places.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};

use super::dossiers::{held_states, running_states};
use super::{DbConnection, parse_stored, sql_list};
use crate::domain::dossier::{Channel, Outcome};
use crate::domain::state::State;
use crate::domain::stats::{Counts, DueBasis, Tally766};
use crate::domain::timeliness::Timeliness;

/// What a Biểu 06 row is grouped by (each maps to a fixed column name, never user text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Field,
    Procedure,
    Unit,
    None,
}

impl GroupBy {
    fn column(self) -> &'static str {
        match self {
            GroupBy::Field => "field",
            GroupBy::Procedure => "procedure_code",
            GroupBy::Unit => "unit_code",
            // No GROUP BY at all (PostgreSQL refuses to group by a constant).
            GroupBy::None => "'all'",
        }
    }
}

/// The columns a report reads for the chosen due time (fixed names, never user text): the
/// due day, the pause day while held with time left, and the finish's timeliness.
struct Basis {
    due: &'static str,
    held: &'static str,
    timeliness: &'static str,
}

fn basis(b: DueBasis) -> Basis {
    match b {
        DueBasis::DueAt => Basis {
            due: "due_day",
            held: "held_day",
            timeliness: "timeliness",
        },
        DueBasis::DueAtCurrent => Basis {
            due: "due_current_day",
            held: "held_current_day",
            timeliness: "timeliness_current",
        },
    }
}

/// SQL conditions shared by the reports, over `to`, the placeholder of the period's last local day.
struct Conditions {
    /// Decided (approved or rejected) by the end of the period.
    decided: String,
    /// Withdrawn on request (stopped from `withdrawal_requested`) by the end of the period.
    withdrawn: String,
    /// Stopped otherwise by the end of the period.
    stopped: String,
    /// Not finished by the end of the period.
    open: String,
    /// Open and overdue at the end of the period: due before it, and not held by a pause
    /// that began with time left (`timeliness::overdue_at`).
    overdue: String,
}

fn conditions(b: &Basis, to: &str) -> Conditions {
    let stopped = State::Stopped.as_str();
    Conditions {
        decided: format!("finished_day <= {to} AND state <> '{stopped}'"),
        withdrawn: format!(
            "finished_day <= {to} AND state = '{stopped}' AND state_before_withdrawal IS NOT NULL"
        ),
        stopped: format!(
            "finished_day <= {to} AND state = '{stopped}' AND state_before_withdrawal IS NULL"
        ),
        open: format!("(finished_day IS NULL OR finished_day > {to})"),
        overdue: format!(
            "(finished_day IS NULL OR finished_day > {to}) AND {due} <= {to} AND ({held} IS NULL OR {held} > {to})",
            due = b.due,
            held = b.held
        ),
    }
}

/// `SUM(CASE WHEN cond THEN 1 ELSE 0 END)`, zero over no rows.
fn count_if(cond: &str) -> String {
    format!("COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0)")
}

/// The negation of a condition, false where SQL's three-valued logic would give NULL (a
/// comparison with a NULL day): `NOT (NULL)` is NULL, which `CASE` counts as false.
fn not(cond: &str) -> String {
    format!("(CASE WHEN {cond} THEN 0 ELSE 1 END = 1)")
}

/// Early, on time (anything not early or late, so every finish falls in one) and late.
fn by_timeliness(cond: &str, timeliness: &str, prefix: &str) -> String {
    let early = Timeliness::Early.as_str();
    let late = Timeliness::Late.as_str();
    format!(
        "{e} AS {prefix}early, {o} AS {prefix}on_time, {l} AS {prefix}late",
        e = count_if(&format!("{cond} AND {timeliness} = '{early}'")),
        o = count_if(&format!(
            "{cond} AND ({timeliness} IS NULL OR {timeliness} NOT IN ('{early}', '{late}'))"
        )),
        l = count_if(&format!("{cond} AND {timeliness} = '{late}'")),
    )
}

#[derive(Debug, QueryableByName)]
pub struct Bieu06Counts {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = BigInt)]
    pub online: i64,
    #[diesel(sql_type = BigInt)]
    pub direct_postal: i64,
    #[diesel(sql_type = BigInt)]
    pub carried_over: i64,
    #[diesel(sql_type = BigInt)]
    pub early: i64,
    #[diesel(sql_type = BigInt)]
    pub on_time: i64,
    #[diesel(sql_type = BigInt)]
    pub late: i64,
    #[diesel(sql_type = BigInt)]
    pub w_early: i64,
    #[diesel(sql_type = BigInt)]
    pub w_on_time: i64,
    #[diesel(sql_type = BigInt)]
    pub w_late: i64,
    #[diesel(sql_type = BigInt)]
    pub stopped: i64,
    #[diesel(sql_type = BigInt)]
    pub open: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
}

impl Bieu06Counts {
    pub fn counts(&self) -> Counts {
        Counts {
            online: self.online,
            direct_postal: self.direct_postal,
            carried_over: self.carried_over,
            early: self.early,
            on_time: self.on_time,
            late: self.late,
            withdrawn_early: self.w_early,
            withdrawn_on_time: self.w_on_time,
            withdrawn_late: self.w_late,
            stopped: self.stopped,
            open: self.open,
            overdue: self.overdue,
        }
    }
}

/// Biểu 06 counts for the local days [from, to]. In scope: dossiers officially received
/// (refusals never are) by `to` and not finished before `from`. Each falls in exactly one
/// received column and in exactly one of decided, withdrawn, stopped (finished in the
/// period) or open at its end; which of these count as resolved is the caller's rule.
pub fn bieu06(
    conn: &mut DbConnection,
    from_day: i32,
    to_day: i32,
    group: GroupBy,
    due_basis: DueBasis,
) -> QueryResult<Vec<Bieu06Counts>> {
    let key = group.column();
    let grouping = if group == GroupBy::None {
        String::new()
    } else {
        "GROUP BY 1 ORDER BY 1".to_owned()
    };
    let b = basis(due_basis);
    let c = conditions(&b, "$2");
    // Whole local days (`*_day`) compare as integers. Every column read is in the index
    // `dossiers_report`, so only the index is scanned. Grouping by the output column (not the
    // table column) keeps SQLite from walking the group column's own index in order and
    // fetching every row from the table.
    let sql = format!(
        "SELECT CAST({key} AS TEXT) AS key,
           {online} AS online, {direct} AS direct_postal, {carried} AS carried_over,
           {decided}, {withdrawn}, {stopped} AS stopped, {open} AS open, {overdue} AS overdue
         FROM dossiers
         WHERE received_day <= $2
           AND (finished_day IS NULL OR finished_day >= $1)
         {grouping}",
        online = count_if(&format!(
            "received_day >= $1 AND channel = '{}'",
            Channel::Online.as_str()
        )),
        direct = count_if(&format!(
            "received_day >= $1 AND channel <> '{}'",
            Channel::Online.as_str()
        )),
        carried = count_if("received_day < $1"),
        decided = by_timeliness(&c.decided, b.timeliness, ""),
        withdrawn = by_timeliness(&c.withdrawn, b.timeliness, "w_"),
        stopped = count_if(&c.stopped),
        open = count_if(&c.open),
        overdue = count_if(&c.overdue),
    );
    diesel::sql_query(sql)
        .bind::<Integer, _>(from_day)
        .bind::<Integer, _>(to_day)
        .load(conn)
}

#[derive(Debug, QueryableByName)]
pub struct DayCounts {
    #[diesel(sql_type = Integer)]
    pub day: i32,
    #[diesel(sql_type = BigInt)]
    pub early: i64,
    #[diesel(sql_type = BigInt)]
    pub on_time: i64,
    #[diesel(sql_type = BigInt)]
    pub late: i64,
    #[diesel(sql_type = BigInt)]
    pub w_early: i64,
    #[diesel(sql_type = BigInt)]
    pub w_on_time: i64,
    #[diesel(sql_type = BigInt)]
    pub w_late: i64,
}

/// Decisions and withdrawals by local day of their finish, for the on-time rate by month.
pub fn finishes_by_day(
    conn: &mut DbConnection,
    from_day: i32,
    to_day: i32,
    due_basis: DueBasis,
) -> QueryResult<Vec<DayCounts>> {
    let b = basis(due_basis);
    // The last day is `$1` here: SQLite numbers placeholders by first appearance.
    let c = conditions(&b, "$1");
    let sql = format!(
        "SELECT finished_day AS day, {decided}, {withdrawn}
         FROM dossiers
         WHERE finished_day <= $1 AND finished_day >= $2 AND received_day IS NOT NULL
         GROUP BY finished_day ORDER BY finished_day",
        decided = by_timeliness(&c.decided, b.timeliness, ""),
        withdrawn = by_timeliness(&c.withdrawn, b.timeliness, "w_"),
    );
    diesel::sql_query(sql)
        .bind::<Integer, _>(to_day)
        .bind::<Integer, _>(from_day)
        .load(conn)
}

/// The counts behind the Quyết định 766 indicators for one procedure version, over the
/// dossiers in scope as Biểu 06 (received by `to`, not finished before `from`).
#[derive(Debug, Default, Clone, QueryableByName)]
pub struct IndicatorCounts {
    #[diesel(sql_type = Text)]
    pub procedure_id: String,
    /// In scope.
    #[diesel(sql_type = BigInt)]
    pub in_scope: i64,
    /// Withdrawn on request in the period, and of those finished in time with at most one
    /// supplement request (counted only under `withdrawn_counts_as_resolved`).
    #[diesel(sql_type = BigInt)]
    pub withdrawn: i64,
    #[diesel(sql_type = BigInt)]
    pub withdrawn_in_time: i64,
    /// The others in time by the 766 rule (2.1), and those dissatisfied or not in time (5.c).
    #[diesel(sql_type = BigInt)]
    pub in_time: i64,
    #[diesel(sql_type = BigInt)]
    pub unhappy: i64,
    /// Received in the period; online; online with an electronic result; paid online.
    #[diesel(sql_type = BigInt)]
    pub received: i64,
    #[diesel(sql_type = BigInt)]
    pub received_online: i64,
    #[diesel(sql_type = BigInt)]
    pub received_online_e_result: i64,
    #[diesel(sql_type = BigInt)]
    pub paid_online: i64,
    /// Approved in the period, and of those with an electronic result.
    #[diesel(sql_type = BigInt)]
    pub approved: i64,
    #[diesel(sql_type = BigInt)]
    pub approved_e_result: i64,
    /// Received in the period, digitised and with an electronic result (4.2); with a reused file.
    #[diesel(sql_type = BigInt)]
    pub digitised_e_result: i64,
    #[diesel(sql_type = BigInt)]
    pub reused: i64,
    /// Received in the period and decided by its end (2.2): how many, their working seconds.
    #[diesel(sql_type = BigInt)]
    pub completed: i64,
    #[diesel(sql_type = BigInt)]
    pub working_seconds: i64,
}

impl IndicatorCounts {
    pub fn tally(&self) -> Tally766 {
        Tally766 {
            in_scope: self.in_scope,
            withdrawn: self.withdrawn,
            withdrawn_in_time: self.withdrawn_in_time,
            in_time: self.in_time,
            unhappy: self.unhappy,
            received: self.received,
            received_online: self.received_online,
            received_online_e_result: self.received_online_e_result,
            paid_online: self.paid_online,
            approved: self.approved,
            approved_e_result: self.approved_e_result,
            digitised_e_result: self.digitised_e_result,
            reused: self.reused,
            completed: self.completed,
            working_seconds: self.working_seconds,
        }
    }
}

/// The 766 counts per procedure version for the local days [from, to] (`end` = the UTC
/// instant the period ends). One scan: the official formulas need each version's flags
/// (paper result, fees), which the caller applies to these groups.
pub fn indicators(
    conn: &mut DbConnection,
    from_day: i32,
    to_day: i32,
    end: NaiveDateTime,
    due_basis: DueBasis,
) -> QueryResult<Vec<IndicatorCounts>> {
    let b = basis(due_basis);
    let c = conditions(&b, "$2");
    let (early, on_time) = (Timeliness::Early.as_str(), Timeliness::OnTime.as_str());
    let in_time_finish = format!("{} IN ('{early}', '{on_time}')", b.timeliness);
    // 766: the end of processing is the decision or the stop; an open dossier is judged at
    // the end of the period (a single supplement request pending counts as its end: in time
    // exactly when it was asked within time, which is what the held day records); more than
    // one supplement request is late.
    let in_time = format!(
        "(CASE WHEN supplement_count <= 1 AND ((finished_day <= $2 AND {in_time_finish}) OR ({open} AND {not_overdue})) THEN 1 ELSE 0 END = 1)",
        open = c.open,
        not_overdue = not(&c.overdue),
    );
    let approved = format!(
        "outcome = '{}' AND finished_day <= $2",
        Outcome::Approved.as_str()
    );
    let not_withdrawn = not(&c.withdrawn);
    let sql = format!(
        "SELECT procedure_id,
           COUNT(*) AS in_scope,
           {received} AS received,
           {withdrawn} AS withdrawn,
           {withdrawn_in_time} AS withdrawn_in_time,
           {in_time_nw} AS in_time,
           {unhappy} AS unhappy,
           {online} AS received_online,
           {online_e} AS received_online_e_result,
           {paid} AS paid_online,
           {approved_n} AS approved,
           {approved_e} AS approved_e_result,
           {digitised} AS digitised_e_result,
           {reused} AS reused,
           {completed} AS completed,
           CAST(COALESCE(SUM(CASE WHEN {completed_cond} THEN working_seconds ELSE 0 END), 0) AS BIGINT) AS working_seconds
         FROM dossiers
         WHERE received_day + 0 <= $2 AND (finished_day IS NULL OR finished_day + 0 >= $1)
         GROUP BY procedure_id",
        withdrawn = count_if(&c.withdrawn),
        withdrawn_in_time = count_if(&format!(
            "{} AND supplement_count <= 1 AND {in_time_finish}",
            c.withdrawn
        )),
        in_time_nw = count_if(&format!("{not_withdrawn} AND {in_time}")),
        unhappy = count_if(&format!(
            "{not_withdrawn} AND ((satisfaction <= 2 AND delivered_at < $3) OR {})",
            not(&in_time)
        )),
        received = count_if("received_day >= $1"),
        online = count_if(&format!("received_day >= $1 AND channel = '{}'", Channel::Online.as_str())),
        online_e = count_if(&format!(
            "received_day >= $1 AND channel = '{}' AND electronic_result",
            Channel::Online.as_str()
        )),
        paid = count_if("received_day >= $1 AND paid_online"),
        approved_n = count_if(&approved),
        approved_e = count_if(&format!("{approved} AND electronic_result")),
        digitised = count_if("received_day >= $1 AND digitised AND electronic_result"),
        reused = count_if("received_day >= $1 AND reused"),
        completed = count_if(&format!("{} AND working_seconds IS NOT NULL", completed_cond())),
        completed_cond = completed_cond(),
    );
    diesel::sql_query(sql)
        .bind::<Integer, _>(from_day)
        .bind::<Integer, _>(to_day)
        .bind::<Timestamp, _>(end)
        .load(conn)
}

/// Received in the period and decided by its end (766 indicator 2.2).
fn completed_cond() -> String {
    "received_day >= $1 AND outcome IS NOT NULL AND finished_day <= $2".to_owned()
}

#[derive(Debug, QueryableByName)]
struct StateCountRow {
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(Debug)]
pub struct StateCount {
    pub state: State,
    pub n: i64,
}

/// Dossiers by state (for one unit when given: those it holds).
pub fn by_state(conn: &mut DbConnection, unit: Option<&str>) -> QueryResult<Vec<StateCount>> {
    let sql = "SELECT state, COUNT(*) AS n FROM dossiers
               WHERE ($1 IS NULL OR COALESCE(current_unit, unit_code) = $1)
               GROUP BY state ORDER BY state";
    diesel::sql_query(sql)
        .bind::<Nullable<Text>, _>(unit)
        .load::<StateCountRow>(conn)?
        .into_iter()
        .map(|r| {
            Ok(StateCount {
                state: parse_stored("dossiers.state", &r.state)?,
                n: r.n,
            })
        })
        .collect()
}

#[derive(Debug, QueryableByName)]
pub struct DueCounts {
    #[diesel(sql_type = BigInt)]
    pub due_today: i64,
    #[diesel(sql_type = BigInt)]
    pub due_soon: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
}

/// Running dossiers due before the end of today, within one working day, or already late;
/// a dossier whose clock stands still (supplement, withdrawal request) is overdue only when it
/// stopped after its due time (`timeliness::overdue_at`) and is never due soon.
pub fn due_counts(
    conn: &mut DbConnection,
    unit: Option<&str>,
    now: NaiveDateTime,
    end_of_today: NaiveDateTime,
    soon: NaiveDateTime,
) -> QueryResult<DueCounts> {
    diesel::sql_query(format!(
        "SELECT
           COALESCE(SUM(CASE WHEN state IN ({running}) AND due_at >= $1 AND due_at < $2 THEN 1 ELSE 0 END), 0) AS due_today,
           COALESCE(SUM(CASE WHEN state IN ({running}) AND due_at >= $1 AND due_at <= $3 THEN 1 ELSE 0 END), 0) AS due_soon,
           COALESCE(SUM(CASE WHEN (state IN ({running}) AND due_at < $1)
                               OR (state IN ({held}) AND paused_at > due_at) THEN 1 ELSE 0 END), 0) AS overdue
         FROM dossiers
         WHERE state IN ({running}, {held})
           AND ($4 IS NULL OR COALESCE(current_unit, unit_code) = $4)",
        running = sql_list(&running_states()),
        held = sql_list(&held_states()),
    ))
    .bind::<Timestamp, _>(now)
    .bind::<Timestamp, _>(end_of_today)
    .bind::<Timestamp, _>(soon)
    .bind::<Nullable<Text>, _>(unit)
    .get_result(conn)
}
