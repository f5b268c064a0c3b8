//! Report arithmetic (design §9): the Biểu 06 row and its identity, on-time rates and the
//! Quyết định 766 scoring. Counts come from the database; the rules live here.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Received {
    pub total: i64,
    pub online: i64,
    pub direct_postal: i64,
    pub carried_over: i64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Resolved {
    pub total: i64,
    pub early: i64,
    pub on_time: i64,
    pub late: i64,
    /// Stopped (withdrawn, or supplement lapsed) in the period: counted as resolved and in
    /// time, as provincial systems do.
    pub withdrawn: i64,
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
    pub early: i64,
    pub on_time: i64,
    pub late: i64,
    pub withdrawn: i64,
    pub within: i64,
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
        self.withdrawn += o.withdrawn;
        self.within += o.within;
        self.overdue += o.overdue;
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Bieu06Row {
    pub key: String,
    pub label: String,
    pub received: Received,
    pub resolved: Resolved,
    pub in_progress: InProgress,
    /// (early + on time + withdrawn) / resolved; null when nothing was resolved.
    pub on_time_rate: Option<f64>,
}

impl Bieu06Row {
    pub fn new(key: String, label: String, c: Counts) -> Self {
        let received = Received {
            total: c.online + c.direct_postal + c.carried_over,
            online: c.online,
            direct_postal: c.direct_postal,
            carried_over: c.carried_over,
        };
        let resolved = Resolved {
            total: c.early + c.on_time + c.late + c.withdrawn,
            early: c.early,
            on_time: c.on_time,
            late: c.late,
            withdrawn: c.withdrawn,
        };
        let in_progress = InProgress {
            total: c.within + c.overdue,
            within: c.within,
            overdue: c.overdue,
        };
        Bieu06Row {
            key,
            label,
            on_time_rate: rate(c.early + c.on_time + c.withdrawn, resolved.total),
            received,
            resolved,
            in_progress,
        }
    }

    /// received.total = resolved.total + in_progress.total.
    pub fn balances(&self) -> bool {
        self.received.total == self.resolved.total + self.in_progress.total
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_balances_and_rates() {
        let c = Counts {
            online: 2,
            direct_postal: 3,
            carried_over: 1,
            early: 1,
            on_time: 1,
            late: 1,
            withdrawn: 1,
            within: 1,
            overdue: 1,
        };
        let r = Bieu06Row::new("k".into(), "l".into(), c);
        assert!(r.balances());
        assert_eq!(r.received.total, 6);
        assert_eq!(r.resolved.total, 4);
        assert_eq!(r.on_time_rate, Some(75.0));
        assert_eq!(rate(1, 3), Some(33.33));
        assert_eq!(rate(1, 0), None);
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
