//! Report arithmetic (design §9): the Biểu 06 row and its identity, on-time rates and the
//! Quyết định 766 scoring. Counts come from the database; the rules live here.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Which due time statistics judge against (design §5, `reports.judge_against`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DueBasis {
    /// The legal appointment of form 01, moved only by the supplement rule.
    #[default]
    DueAt,
    /// What the applicant was last promised (form 04, the apology's appointment).
    DueAtCurrent,
}

impl DueBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            DueBasis::DueAt => "due_at",
            DueBasis::DueAtCurrent => "due_at_current",
        }
    }
}

/// The rules a report was computed under; every report states them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Rules {
    /// Withdrawals on request are counted in `resolved` (by the timeliness of the stop) and in
    /// the on-time rate; otherwise they stand in `stopped.withdrawn`.
    pub withdrawn_counts_as_resolved: bool,
    pub judged_against: DueBasis,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Received {
    pub total: i64,
    pub online: i64,
    pub direct_postal: i64,
    pub carried_over: i64,
}

/// Decided in the period (and, under `withdrawn_counts_as_resolved`, withdrawn on request),
/// by timeliness: total = early + on time + late.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Resolved {
    pub total: i64,
    pub early: i64,
    pub on_time: i64,
    pub late: i64,
    /// Of which withdrawn on request (zero unless `withdrawn_counts_as_resolved`).
    pub withdrawn: i64,
}

/// Finished in the period without a decision and not counted as resolved:
/// total = withdrawn + other.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Stopped {
    pub total: i64,
    /// Withdrawn on the applicant's request (zero when counted as resolved).
    pub withdrawn: i64,
    /// Stopped otherwise: a supplement that lapsed, other reasons.
    pub other: i64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct InProgress {
    pub total: i64,
    pub within: i64,
    pub overdue: i64,
}

/// The raw counts of one group, as the aggregate query returns them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub online: i64,
    pub direct_postal: i64,
    pub carried_over: i64,
    /// Decided in the period, by timeliness.
    pub early: i64,
    pub on_time: i64,
    pub late: i64,
    /// Withdrawn on request in the period, by the timeliness of the stop.
    pub withdrawn_early: i64,
    pub withdrawn_on_time: i64,
    pub withdrawn_late: i64,
    /// Stopped otherwise in the period.
    pub stopped: i64,
    /// Not finished by the end of the period, and of those overdue then.
    pub open: i64,
    pub overdue: i64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.online += o.online;
        self.direct_postal += o.direct_postal;
        self.carried_over += o.carried_over;
        self.early += o.early;
        self.on_time += o.on_time;
        self.late += o.late;
        self.withdrawn_early += o.withdrawn_early;
        self.withdrawn_on_time += o.withdrawn_on_time;
        self.withdrawn_late += o.withdrawn_late;
        self.stopped += o.stopped;
        self.open += o.open;
        self.overdue += o.overdue;
    }
}

impl Counts {
    pub fn withdrawn(&self) -> i64 {
        self.withdrawn_early + self.withdrawn_on_time + self.withdrawn_late
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Bieu06Row {
    pub key: String,
    pub label: String,
    pub received: Received,
    pub resolved: Resolved,
    pub stopped: Stopped,
    pub in_progress: InProgress,
    /// Classic rate (design §9): (early + on time) / resolved.total × 100; null when nothing
    /// was resolved.
    pub on_time_rate: Option<f64>,
}

impl Bieu06Row {
    pub fn new(key: String, label: String, c: Counts, rules: Rules) -> Self {
        let received = Received {
            total: c.online + c.direct_postal + c.carried_over,
            online: c.online,
            direct_postal: c.direct_postal,
            carried_over: c.carried_over,
        };
        let (resolved, stopped) = if rules.withdrawn_counts_as_resolved {
            let (early, on_time, late) = (
                c.early + c.withdrawn_early,
                c.on_time + c.withdrawn_on_time,
                c.late + c.withdrawn_late,
            );
            (
                Resolved {
                    total: early + on_time + late,
                    early,
                    on_time,
                    late,
                    withdrawn: c.withdrawn(),
                },
                Stopped {
                    total: c.stopped,
                    withdrawn: 0,
                    other: c.stopped,
                },
            )
        } else {
            (
                Resolved {
                    total: c.early + c.on_time + c.late,
                    early: c.early,
                    on_time: c.on_time,
                    late: c.late,
                    withdrawn: 0,
                },
                Stopped {
                    total: c.withdrawn() + c.stopped,
                    withdrawn: c.withdrawn(),
                    other: c.stopped,
                },
            )
        };
        let in_progress = InProgress {
            total: c.open,
            within: c.open - c.overdue,
            overdue: c.overdue,
        };
        Bieu06Row {
            key,
            label,
            on_time_rate: rate(resolved.early + resolved.on_time, resolved.total),
            received,
            resolved,
            stopped,
            in_progress,
        }
    }

    /// received.total = resolved.total + stopped.total + in_progress.total, and every total
    /// is the sum of its parts.
    pub fn balances(&self) -> bool {
        let (r, s, p) = (&self.resolved, &self.stopped, &self.in_progress);
        self.received.total == r.total + s.total + p.total
            && self.received.total
                == self.received.online + self.received.direct_postal + self.received.carried_over
            && r.total == r.early + r.on_time + r.late
            && r.withdrawn <= r.total
            && s.total == s.withdrawn + s.other
            && p.total == p.within + p.overdue
    }
}

/// A local date as a day number (days since 1970-01-01): reports compare whole local days,
/// and integers compare fast and the same on both backends.
pub fn day_number(date: chrono::NaiveDate) -> i32 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    i32::try_from((date - epoch).num_days()).unwrap_or(i32::MAX)
}

/// A rate in percent, two decimals; none for an empty denominator.
pub fn rate(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| (numerator as f64 * 10_000.0 / denominator as f64).round() / 100.0)
}

/// One Quyết định 766 indicator with its score: points = max × min(1, rate / threshold).
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Indicator {
    pub id: &'static str,
    pub name: &'static str,
    pub numerator: f64,
    pub denominator: f64,
    /// Percent, or for 2.2 the average in working days.
    pub rate: Option<f64>,
    /// Percent at which the full points are reached (none where 766 scores otherwise).
    pub threshold: Option<f64>,
    pub max_points: f64,
    pub points: Option<f64>,
    /// The formula used, in words (docs/reports.md gives its source and our choices).
    pub formula: &'static str,
    /// 2.2 only: the average per procedure (the indicator's own figure is over all of them,
    /// weighted by dossiers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_procedure: Option<Vec<ProcedureAverage>>,
}

/// 766 indicator 2.2 for one procedure.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ProcedureAverage {
    pub procedure_code: String,
    pub name: String,
    pub dossiers: i64,
    /// Working days, two decimals.
    pub average_working_days: Option<f64>,
}

impl Indicator {
    pub fn scored(
        id: &'static str,
        name: &'static str,
        num: i64,
        den: i64,
        threshold: f64,
        max_points: f64,
    ) -> Self {
        let r = rate(num, den);
        Indicator {
            id,
            name,
            numerator: num as f64,
            denominator: den as f64,
            rate: r,
            threshold: Some(threshold),
            max_points,
            points: r.map(|r| ((max_points * (r / threshold).min(1.0)) * 100.0).round() / 100.0),
            formula: "",
            by_procedure: None,
        }
    }

    fn with_formula(mut self, formula: &'static str) -> Self {
        self.formula = formula;
        self
    }
}

/// The 766 counts of one procedure version (what the aggregate query returns per version).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally766 {
    pub in_scope: i64,
    pub withdrawn: i64,
    pub withdrawn_in_time: i64,
    pub in_time: i64,
    pub unhappy: i64,
    pub received: i64,
    pub received_online: i64,
    pub received_online_e_result: i64,
    pub paid_online: i64,
    pub approved: i64,
    pub approved_e_result: i64,
    pub digitised_e_result: i64,
    pub reused: i64,
    pub completed: i64,
    pub working_seconds: i64,
}

/// What the official formulas read from a procedure version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcedureFlags {
    pub code: String,
    pub name: String,
    pub paper_result: bool,
    pub fee_bearing: bool,
}

fn sum(
    groups: &[(ProcedureFlags, Tally766)],
    keep: impl Fn(&ProcedureFlags) -> bool,
    f: impl Fn(&Tally766) -> i64,
) -> i64 {
    groups
        .iter()
        .filter(|(p, _)| keep(p))
        .map(|(_, t)| f(t))
        .sum()
}

fn average_days(seconds: i64, dossiers: i64, day_seconds: f64) -> Option<f64> {
    (dossiers > 0)
        .then(|| ((seconds as f64 / dossiers as f64 / day_seconds) * 100.0).round() / 100.0)
}

/// The Quyết định 766 indicators from the per-version counts, by the formulas of the VPCP
/// technical description (reference digest §5.3): see docs/reports.md. `day_seconds` is the
/// length of a working day.
pub fn indicators_766(
    groups: &[(ProcedureFlags, Tally766)],
    rules: Rules,
    day_seconds: f64,
) -> Vec<Indicator> {
    let all = |_: &ProcedureFlags| true;
    let w = rules.withdrawn_counts_as_resolved;
    // 2.1 and 5.c: the dossiers in scope; withdrawals only when they count as resolved.
    let withdrawn = sum(groups, all, |t| t.withdrawn);
    let withdrawn_in_time = sum(groups, all, |t| t.withdrawn_in_time);
    let dossiers = sum(groups, all, |t| t.in_scope) - if w { 0 } else { withdrawn };
    let in_time = sum(groups, all, |t| t.in_time) + if w { withdrawn_in_time } else { 0 };
    let unhappy =
        sum(groups, all, |t| t.unhappy) + if w { withdrawn - withdrawn_in_time } else { 0 };
    let received = sum(groups, all, |t| t.received);
    // 2.2 per procedure code (its versions together), and over all weighted by dossiers.
    let mut per: Vec<ProcedureAverage> = Vec::new();
    let mut codes: Vec<&str> = groups.iter().map(|(p, _)| p.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    for code in codes {
        let same = |p: &ProcedureFlags| p.code == code;
        let n = sum(groups, same, |t| t.completed);
        if n == 0 {
            continue;
        }
        let name = groups
            .iter()
            .rev()
            .find(|(p, _)| p.code == code)
            .map(|(p, _)| p.name.clone())
            .unwrap_or_default();
        per.push(ProcedureAverage {
            procedure_code: code.to_owned(),
            name,
            dossiers: n,
            average_working_days: average_days(
                sum(groups, same, |t| t.working_seconds),
                n,
                day_seconds,
            ),
        });
    }
    let completed = sum(groups, all, |t| t.completed);
    let seconds = sum(groups, all, |t| t.working_seconds);
    let paper = |p: &ProcedureFlags| p.paper_result;
    let electronic_only = |p: &ProcedureFlags| !p.paper_result;
    let fee = |p: &ProcedureFlags| p.fee_bearing;
    vec![
        Indicator::scored("2.1", "Tỷ lệ hồ sơ xử lý trước hạn, đúng hạn", in_time, dossiers, 100.0, 10.0)
            .with_formula("(decided or stopped early or on time, or open and within time at the end of the period; at most one supplement request) / dossiers in scope"),
        Indicator {
            id: "2.2",
            name: "Thời gian giải quyết trung bình theo từng TTHC (ngày làm việc)",
            numerator: seconds as f64 / day_seconds,
            denominator: completed as f64,
            rate: average_days(seconds, completed, day_seconds),
            threshold: None,
            max_points: 0.0,
            points: None,
            formula: "Σ working time from receipt to decision, paused and frozen time excluded / dossiers received in the period and decided by its end; per procedure and over all (weighted by dossiers)",
            by_procedure: Some(per),
        },
        Indicator::scored(
            "3.3",
            "Tỷ lệ hồ sơ nộp trực tuyến",
            sum(groups, electronic_only, |t| t.received_online) + sum(groups, paper, |t| t.received_online_e_result),
            received,
            50.0,
            6.0,
        )
        .with_formula("received online in the period (with an electronic result where the procedure has a paper result) / received in the period"),
        Indicator::scored(
            "3.6",
            "Tỷ lệ hồ sơ thanh toán trực tuyến",
            sum(groups, fee, |t| t.paid_online),
            sum(groups, fee, |t| t.received),
            50.0,
            4.0,
        )
        .with_formula("paid online / received in the period, of procedures with a fee (fee_vnd > 0)"),
        Indicator::scored(
            "4.1",
            "Tỷ lệ hồ sơ có cấp kết quả điện tử",
            sum(groups, paper, |t| t.approved_e_result),
            sum(groups, paper, |t| t.approved),
            80.0,
            6.0,
        )
        .with_formula("approved with an electronic result / approved in the period, of procedures with a paper result"),
        Indicator::scored("4.2", "Tỷ lệ hồ sơ thực hiện số hóa", sum(groups, all, |t| t.digitised_e_result), received, 80.0, 8.0)
            .with_formula("received in the period with every component to digitise digitised and an electronic result / received in the period"),
        Indicator::scored("4.3", "Tỷ lệ khai thác, sử dụng lại dữ liệu số hóa", sum(groups, all, |t| t.reused), received, 80.0, 8.0)
            .with_formula("received in the period with at least one reused file / received in the period"),
        Indicator::scored(
            "5.c",
            "Tỷ lệ hài lòng trong tiếp nhận, giải quyết TTHC",
            dossiers - unhappy,
            dossiers,
            90.0,
            18.0,
        )
        .with_formula("(dossiers − dissatisfied (rating ≤ 2 of 5) − complained (no complaint data yet: 0) − overdue (not in time as 2.1)) / dossiers in scope as 2.1"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_balances_and_rates_under_both_withdrawal_rules() {
        let c = Counts {
            online: 3,
            direct_postal: 4,
            carried_over: 1,
            early: 1,
            on_time: 1,
            late: 1,
            withdrawn_early: 1,
            withdrawn_on_time: 0,
            withdrawn_late: 1,
            stopped: 1,
            open: 2,
            overdue: 1,
        };
        let classic = Bieu06Row::new("k".into(), "l".into(), c, Rules::default());
        assert!(classic.balances());
        assert_eq!(classic.received.total, 8);
        assert_eq!((classic.resolved.total, classic.resolved.withdrawn), (3, 0));
        assert_eq!((classic.stopped.total, classic.stopped.withdrawn), (3, 2));
        assert_eq!(classic.on_time_rate, Some(66.67));
        let counted = Rules {
            withdrawn_counts_as_resolved: true,
            ..Rules::default()
        };
        let r = Bieu06Row::new("k".into(), "l".into(), c, counted);
        assert!(r.balances());
        assert_eq!(
            (r.resolved.total, r.resolved.early, r.resolved.late),
            (5, 2, 2)
        );
        assert_eq!(
            (r.resolved.withdrawn, r.stopped.total, r.stopped.other),
            (2, 1, 1)
        );
        assert_eq!(r.on_time_rate, Some(60.0));
        assert_eq!((r.in_progress.within, r.in_progress.overdue), (1, 1));
        assert_eq!(rate(1, 3), Some(33.33));
        assert_eq!(rate(1, 0), None);
    }

    fn flags(code: &str, paper_result: bool, fee_bearing: bool) -> ProcedureFlags {
        ProcedureFlags {
            code: code.into(),
            name: format!("Thủ tục {code}"),
            paper_result,
            fee_bearing,
        }
    }

    #[test]
    fn the_766_formulas_read_the_procedure_flags() {
        // P: paper result and a fee; E: electronic result only, free.
        let p = Tally766 {
            in_scope: 10,
            withdrawn: 2,
            withdrawn_in_time: 1,
            in_time: 5,
            unhappy: 3,
            received: 8,
            received_online: 4,
            received_online_e_result: 1,
            paid_online: 2,
            approved: 4,
            approved_e_result: 1,
            digitised_e_result: 1,
            reused: 2,
            completed: 2,
            working_seconds: 2 * 8 * 3600 * 3,
        };
        let e = Tally766 {
            in_scope: 4,
            received: 4,
            received_online: 3,
            approved: 2,
            approved_e_result: 2,
            completed: 1,
            working_seconds: 8 * 3600,
            in_time: 4,
            ..Tally766::default()
        };
        let groups = vec![(flags("P", true, true), p), (flags("E", false, false), e)];
        let find =
            |list: &[Indicator], id: &str| list.iter().find(|i| i.id == id).cloned().unwrap();
        let classic = indicators_766(&groups, Rules::default(), 8.0 * 3600.0);
        // 2.1: withdrawals left out: (5 + 4) / (14 − 2).
        assert_eq!(
            (
                find(&classic, "2.1").numerator,
                find(&classic, "2.1").denominator
            ),
            (9.0, 12.0)
        );
        // 3.3: E's 3 online + P's 1 online with an e-result, of 12 received.
        assert_eq!(find(&classic, "3.3").numerator, 4.0);
        // 3.6: only P bears a fee: 2 / 8.
        assert_eq!(
            (
                find(&classic, "3.6").numerator,
                find(&classic, "3.6").denominator
            ),
            (2.0, 8.0)
        );
        // 4.1: only P has a paper result: 1 / 4.
        assert_eq!(find(&classic, "4.1").rate, Some(25.0));
        // 5.c: (12 − 3) / 12.
        assert_eq!(find(&classic, "5.c").rate, Some(75.0));
        // 2.2: P 3 days, E 1 day; over all (6 + 1) / 3 = 2.33.
        let avg = find(&classic, "2.2");
        assert_eq!(avg.rate, Some(2.33));
        let per = avg.by_procedure.unwrap();
        assert_eq!(per[0].procedure_code, "E");
        assert_eq!(
            (per[1].average_working_days, per[0].average_working_days),
            (Some(3.0), Some(1.0))
        );
        let counted = Rules {
            withdrawn_counts_as_resolved: true,
            ..Rules::default()
        };
        let w = indicators_766(&groups, counted, 8.0 * 3600.0);
        assert_eq!(
            (find(&w, "2.1").numerator, find(&w, "2.1").denominator),
            (10.0, 14.0)
        );
        // 5.c: the late withdrawal is unhappy too: (14 − 4) / 14.
        assert_eq!(find(&w, "5.c").numerator, 10.0);
    }

    #[test]
    fn points_are_capped_at_the_threshold() {
        assert_eq!(
            Indicator::scored("3.3", "x", 30, 100, 50.0, 6.0).points,
            Some(3.6)
        );
        assert_eq!(
            Indicator::scored("3.3", "x", 90, 100, 50.0, 6.0).points,
            Some(6.0)
        );
        assert_eq!(Indicator::scored("3.3", "x", 0, 0, 50.0, 6.0).points, None);
    }
}
