//! Timeliness of a finished dossier or step against its due time (early, on time, late:
//! design §5, Biểu 06 columns "trước hạn / đúng hạn / quá hạn") and the state of a running
//! one (within, due soon, overdue). Pure: `now` is passed in.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::domain::calendar::{Calendar, UnknownValue};
use crate::domain::deadline::{add_working_time, working_time_between};

/// Timeliness of a finished dossier or step (history column `step_timeliness`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timeliness {
    /// Finished on a local date before the due time's local date.
    Early,
    /// Finished on the due date, at or before the due time.
    OnTime,
    /// Finished after the due time.
    Late,
}

impl Timeliness {
    pub const ALL: [Timeliness; 3] = [Timeliness::Early, Timeliness::OnTime, Timeliness::Late];

    pub fn as_str(self) -> &'static str {
        match self {
            Timeliness::Early => "early",
            Timeliness::OnTime => "on_time",
            Timeliness::Late => "late",
        }
    }

    /// "trước hạn", "đúng hạn", "quá hạn" (Biểu 06/VPCP/KSTT wording).
    pub fn label_vi(self) -> &'static str {
        match self {
            Timeliness::Early => "trước hạn",
            Timeliness::OnTime => "đúng hạn",
            Timeliness::Late => "quá hạn",
        }
    }

    /// Early or on time: what the classic on-time rate counts.
    pub fn is_in_time(self) -> bool {
        !matches!(self, Timeliness::Late)
    }
}

impl fmt::Display for Timeliness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Timeliness {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timeliness::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownValue::new("timeliness", s, "early, on_time, late"))
    }
}

fn local_date(tz: Tz, t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// Design §5: `late` if finished after the due time; otherwise `early` if the finish falls
/// on a local date before the due time's local date, else `on_time`.
pub fn timeliness(tz: Tz, finished_at: DateTime<Utc>, due_at: DateTime<Utc>) -> Timeliness {
    if finished_at > due_at {
        Timeliness::Late
    } else if local_date(tz, finished_at) < local_date(tz, due_at) {
        Timeliness::Early
    } else {
        Timeliness::OnTime
    }
}

/// A running dossier or step is overdue once `now` is past its due time.
pub fn is_overdue(now: DateTime<Utc>, due_at: DateTime<Utc>) -> bool {
    now > due_at
}

/// Not overdue, and at most one working day (the day length of the settings) of working
/// time left before the due time.
pub fn is_due_soon(cal: &Calendar, now: DateTime<Utc>, due_at: DateTime<Utc>) -> bool {
    now <= due_at && working_time_between(cal, now, due_at) <= cal.settings().day_length()
}

/// The due time at `t` of a dossier whose clock stopped at `paused_since` (supplement
/// requested, withdrawal requested): `due` moved later by the working time paused up to `t`.
/// A clock that runs at `t` (never stopped, or stopped only after `t`) has `due` itself.
/// Statistics, the dossier view, the list filter, the queue and `stop` all judge a paused
/// dossier against this time (issue 13).
pub fn due_at_instant(
    cal: &Calendar,
    due: DateTime<Utc>,
    paused_since: Option<DateTime<Utc>>,
    t: DateTime<Utc>,
) -> DateTime<Utc> {
    match paused_since {
        Some(p) if p < t => add_working_time(cal, due, working_time_between(cal, p, t)),
        _ => due,
    }
}

/// Whether a dossier is overdue at `t`, judged against [`due_at_instant`]. While its clock
/// stands still its standing is that of the moment it stopped: a dossier paused with working
/// time left stays within time however long it waits, one paused after its due time stays
/// overdue. This is `t > due_at_instant(…)` wherever working time separates the pause from the
/// due time; where none does (paused in the evening after a 17:00 due time, or exactly at it)
/// it settles the tie by the pause instant instead of flickering with office hours. The
/// reports' SQL reads the same rule from the pause day stored at the pause (`held_day`).
pub fn overdue_at(
    due: DateTime<Utc>,
    paused_since: Option<DateTime<Utc>>,
    t: DateTime<Utc>,
) -> bool {
    match paused_since {
        Some(p) if p <= t => is_overdue(p, due),
        _ => is_overdue(t, due),
    }
}

/// Timeliness of a dossier finished at `t` (a decision, or `stop` from a paused or frozen
/// state), against its due time moved by the pause: late exactly when [`overdue_at`] says so.
pub fn judged_at(
    cal: &Calendar,
    due: DateTime<Utc>,
    paused_since: Option<DateTime<Utc>>,
    t: DateTime<Utc>,
) -> Timeliness {
    let tz = cal.settings().timezone();
    if overdue_at(due, paused_since, t) {
        Timeliness::Late
    } else {
        timeliness(tz, t, due_at_instant(cal, due, paused_since, t).max(t))
    }
}

/// State of a running dossier or step against its due time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    /// More than one working day left.
    Within,
    /// At most one working day left.
    DueSoon,
    /// Past the due time.
    Overdue,
}

impl Progress {
    pub fn as_str(self) -> &'static str {
        match self {
            Progress::Within => "within",
            Progress::DueSoon => "due_soon",
            Progress::Overdue => "overdue",
        }
    }
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub fn progress(cal: &Calendar, now: DateTime<Utc>, due_at: DateTime<Utc>) -> Progress {
    if is_overdue(now, due_at) {
        Progress::Overdue
    } else if is_due_soon(cal, now, due_at) {
        Progress::DueSoon
    } else {
        Progress::Within
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::domain::calendar::{Calendar, WorkingTimeSettings, parse_calendar_file};
    use chrono::{NaiveDate, TimeZone};

    const TZ: Tz = chrono_tz::Asia::Ho_Chi_Minh;

    fn vn(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        TZ.from_local_datetime(
            &NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_opt(h, mi, 0)
                .unwrap(),
        )
        .unwrap()
        .with_timezone(&Utc)
    }

    fn cal() -> Calendar {
        let days = [
            include_str!("../../config/calendars/vn-2024.toml"),
            include_str!("../../config/calendars/vn-2025.toml"),
            include_str!("../../config/calendars/vn-2026.toml"),
        ]
        .into_iter()
        .flat_map(|t| parse_calendar_file(t).unwrap().days);
        Calendar::new(days, WorkingTimeSettings::default())
    }

    #[test]
    fn early_on_time_late_by_local_date() {
        // Due Thursday 07/03/2024 10:00 (local, UTC+7).
        let due = vn(2024, 3, 7, 10, 0);
        assert_eq!(
            timeliness(TZ, vn(2024, 3, 6, 16, 0), due),
            Timeliness::Early
        );
        // 23:59 the day before is still an earlier local date.
        assert_eq!(
            timeliness(TZ, vn(2024, 3, 6, 23, 59), due),
            Timeliness::Early
        );
        // 00:30 local on the due date is 17:30 UTC the day before: the local date decides.
        assert_eq!(
            timeliness(TZ, vn(2024, 3, 7, 0, 30), due),
            Timeliness::OnTime
        );
        assert_eq!(
            timeliness(TZ, vn(2024, 3, 7, 8, 0), due),
            Timeliness::OnTime
        );
        assert_eq!(timeliness(TZ, due, due), Timeliness::OnTime);
        assert_eq!(
            timeliness(TZ, due + chrono::TimeDelta::nanoseconds(1), due),
            Timeliness::Late
        );
        assert_eq!(timeliness(TZ, vn(2024, 3, 7, 10, 1), due), Timeliness::Late);
        assert_eq!(timeliness(TZ, vn(2024, 3, 8, 8, 0), due), Timeliness::Late);
    }

    #[test]
    fn overdue_and_due_soon() {
        let cal = cal();
        let due = vn(2024, 3, 7, 10, 0);
        // Wednesday 10:00 → Thursday 10:00 is exactly 8 h of working time: due soon.
        assert!(is_due_soon(&cal, vn(2024, 3, 6, 10, 0), due));
        assert_eq!(
            progress(&cal, vn(2024, 3, 6, 10, 0), due),
            Progress::DueSoon
        );
        // Wednesday 09:59 → 8 h 01 min left: not yet.
        assert!(!is_due_soon(&cal, vn(2024, 3, 6, 9, 59), due));
        assert_eq!(progress(&cal, vn(2024, 3, 6, 9, 59), due), Progress::Within);
        assert!(is_due_soon(&cal, due, due));
        assert!(!is_overdue(due, due));
        assert!(is_overdue(vn(2024, 3, 7, 10, 1), due));
        assert!(!is_due_soon(&cal, vn(2024, 3, 7, 10, 1), due));
        assert_eq!(
            progress(&cal, vn(2024, 3, 7, 10, 1), due),
            Progress::Overdue
        );
        // Over Tết 2024: Wednesday 07/02 16:00 → Thursday 15/02 16:30 is
        // 1 h (Wed) + 4 h + 3.5 h (Thu) = 8.5 h: not yet; to 16:00 it is exactly 8 h.
        assert!(!is_due_soon(
            &cal,
            vn(2024, 2, 7, 16, 0),
            vn(2024, 2, 15, 16, 30)
        ));
        assert!(is_due_soon(
            &cal,
            vn(2024, 2, 7, 16, 0),
            vn(2024, 2, 15, 16, 0)
        ));
    }

    #[test]
    fn a_paused_dossier_is_judged_against_its_moved_due_time() {
        let cal = cal();
        // Due Thursday 07/03/2024 10:00; paused Tuesday 05/03 10:00 with 2 working days left.
        let due = vn(2024, 3, 7, 10, 0);
        let p = Some(vn(2024, 3, 5, 10, 0));
        // By Monday 11/03 17:00 it has been paused 37.5 working hours: the due time moves to
        // Thursday 10:00 + 37.5 h = the 2 days it had left after Monday 17:00, Wednesday 17:00.
        let t = vn(2024, 3, 11, 17, 0);
        assert_eq!(due_at_instant(&cal, due, p, t), vn(2024, 3, 13, 17, 0));
        assert!(!overdue_at(due, p, t) && t > due);
        // Long after, still within: the clock does not run.
        assert!(!overdue_at(due, p, vn(2024, 12, 31, 23, 0)));
        // Stopped that Monday: judged against Wednesday 17:00, early.
        assert_eq!(judged_at(&cal, due, p, t), Timeliness::Early);
        // Without the pause the same stop is late.
        assert_eq!(judged_at(&cal, due, None, t), Timeliness::Late);
        // Paused only after t: at t the clock ran, the unmoved due time applies.
        assert_eq!(
            due_at_instant(&cal, due, Some(vn(2024, 3, 12, 9, 0)), t),
            due
        );
        assert!(overdue_at(due, Some(vn(2024, 3, 12, 9, 0)), t));
    }

    #[test]
    fn a_dossier_paused_after_its_due_time_stays_overdue() {
        let cal = cal();
        let due = vn(2024, 3, 7, 10, 0);
        let p = Some(vn(2024, 3, 8, 9, 0));
        let t = vn(2024, 3, 12, 9, 0);
        // Paused 7 working hours after its due time (Friday 08/03 09:00).
        assert!(due_at_instant(&cal, due, p, t) < t);
        assert!(overdue_at(due, p, t));
        assert_eq!(judged_at(&cal, due, p, t), Timeliness::Late);
        // Paused the evening of the due day after a 17:00 due time: no working time between,
        // still overdue, at night and during office hours alike.
        let due = vn(2024, 3, 7, 17, 0);
        let p = Some(vn(2024, 3, 7, 18, 0));
        for t in [
            vn(2024, 3, 7, 23, 0),
            vn(2024, 3, 8, 10, 0),
            vn(2024, 3, 8, 13, 0),
        ] {
            assert!(overdue_at(due, p, t));
            assert_eq!(judged_at(&cal, due, p, t), Timeliness::Late);
        }
        // Paused exactly at the due time: not overdue, stopped later it is on time.
        let p = Some(due);
        for t in [vn(2024, 3, 7, 23, 0), vn(2024, 3, 8, 10, 0)] {
            assert!(!overdue_at(due, p, t));
            assert!(judged_at(&cal, due, p, t).is_in_time());
        }
    }

    #[test]
    fn names_round_trip() {
        for t in Timeliness::ALL {
            assert_eq!(t.as_str().parse::<Timeliness>().unwrap(), t);
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert!("ontime".parse::<Timeliness>().is_err());
        assert_eq!(Timeliness::Late.label_vi(), "quá hạn");
        assert!(Timeliness::Early.is_in_time() && !Timeliness::Late.is_in_time());
        assert_eq!(serde_json::to_value(Progress::DueSoon).unwrap(), "due_soon");
    }
}
