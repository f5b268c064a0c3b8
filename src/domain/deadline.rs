//! Due times in working time: durations, `due`, rolling an instant into office hours, the
//! working time between two instants (pausing the clock), adding working time (resuming
//! it) and the day-by-day explanation. Pure functions of the calendar and its settings:
//! inputs and outputs are UTC, the computation runs in the agency's zone. The rules and
//! their sources are in docs/deadlines.md.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::domain::calendar::{Calendar, DayReason, UnknownValue, time_to_ns, weekday_vi};

mod explain;
#[cfg(test)]
mod tests;

pub use explain::{ExplainedDay, Explanation, PROVISIONAL_EN, PROVISIONAL_VI, explain};

const NS_PER_SEC: i64 = 1_000_000_000;
const NS_PER_MIN: i64 = 60 * NS_PER_SEC;
const NS_PER_HOUR: i64 = 60 * NS_PER_MIN;
const NS_PER_DAY: i64 = 24 * NS_PER_HOUR;

/// The unit of a statutory duration or a step allowance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DurationUnit {
    /// N working days after the (rolled) start, at the same local time of day.
    WorkingDays,
    /// N hours of working time from the (rolled) start.
    WorkingHours,
    /// N calendar days after the (rolled) start, moved to the next working day if needed.
    CalendarDays,
    /// Done the same working day, or the next one when received at/after the cut-off.
    SameDay,
}

impl DurationUnit {
    pub const ALL: [DurationUnit; 4] = [
        DurationUnit::WorkingDays,
        DurationUnit::WorkingHours,
        DurationUnit::CalendarDays,
        DurationUnit::SameDay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DurationUnit::WorkingDays => "working_days",
            DurationUnit::WorkingHours => "working_hours",
            DurationUnit::CalendarDays => "calendar_days",
            DurationUnit::SameDay => "same_day",
        }
    }

    /// "ngày làm việc", "giờ làm việc", "ngày", "trong ngày".
    pub fn label_vi(self) -> &'static str {
        match self {
            DurationUnit::WorkingDays => "ngày làm việc",
            DurationUnit::WorkingHours => "giờ làm việc",
            DurationUnit::CalendarDays => "ngày",
            DurationUnit::SameDay => "trong ngày",
        }
    }
}

impl fmt::Display for DurationUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DurationUnit {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DurationUnit::ALL
            .into_iter()
            .find(|u| u.as_str() == s)
            .ok_or_else(|| {
                UnknownValue::new(
                    "duration unit",
                    s,
                    "working_days, working_hours, calendar_days, same_day",
                )
            })
    }
}

/// A duration `{value, unit}`: a procedure's statutory duration or a step's allowance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Duration {
    pub value: u32,
    pub unit: DurationUnit,
}

/// Why a [`Duration`] is refused by [`Duration::check`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("duration value {0} is larger than the maximum {max}", max = Duration::MAX_VALUE)]
    TooLarge(u32),
    #[error("a same_day duration has value 0 or 1, not {0}")]
    SameDayValue(u32),
}

impl Duration {
    /// Largest value accepted by [`Duration::check`]; the engine clamps larger values to it
    /// so that no input makes a computation run long.
    pub const MAX_VALUE: u32 = 10_000;

    pub const fn new(value: u32, unit: DurationUnit) -> Self {
        Duration { value, unit }
    }

    pub const fn working_days(value: u32) -> Self {
        Duration::new(value, DurationUnit::WorkingDays)
    }

    pub const fn working_hours(value: u32) -> Self {
        Duration::new(value, DurationUnit::WorkingHours)
    }

    pub const fn calendar_days(value: u32) -> Self {
        Duration::new(value, DurationUnit::CalendarDays)
    }

    /// `{value: 1, unit: same_day}`. The engine ignores a same-day value.
    pub const fn same_day() -> Self {
        Duration::new(1, DurationUnit::SameDay)
    }

    /// Validation for input (API, procedure import): value ≤ [`Duration::MAX_VALUE`],
    /// and 0 or 1 for `same_day`.
    pub fn check(&self) -> Result<(), DurationError> {
        if self.unit == DurationUnit::SameDay && self.value > 1 {
            return Err(DurationError::SameDayValue(self.value));
        }
        if self.value > Self::MAX_VALUE {
            return Err(DurationError::TooLarge(self.value));
        }
        Ok(())
    }

    /// The working time a duration stands for, to compare units (a procedure's steps must
    /// fit in its duration): N × day length for working days, N hours for working hours,
    /// one day length for same-day. `None` for calendar days, which have no fixed amount of
    /// working time.
    pub fn working_time(&self, day_length: TimeDelta) -> Option<TimeDelta> {
        match self.unit {
            DurationUnit::WorkingDays => Some(day_length * i32::try_from(self.value).ok()?),
            DurationUnit::WorkingHours => Some(TimeDelta::hours(i64::from(self.value))),
            DurationUnit::SameDay => Some(day_length),
            DurationUnit::CalendarDays => None,
        }
    }

    /// "3 ngày làm việc", "4 giờ làm việc", "15 ngày", "trong ngày".
    pub fn label_vi(&self) -> String {
        match self.unit {
            DurationUnit::SameDay => self.unit.label_vi().to_owned(),
            _ => format!("{} {}", self.value, self.unit.label_vi()),
        }
    }

    fn clamped_value(&self) -> u32 {
        self.value.min(Self::MAX_VALUE)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, self.unit)
    }
}

/// The answer of [`due`]: the start rolled into working time, and the due time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    pub effective_start: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
}

/// A local instant: day number (days from CE) and nanoseconds from local midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Local {
    day: i32,
    ns: i64,
}

fn offset_secs(tz: Tz, utc: &NaiveDateTime) -> i32 {
    tz.offset_from_utc_datetime(utc).fix().local_minus_utc()
}

/// UTC → local, with the UTC offset in force (a hint for the way back).
#[inline]
fn to_local(tz: Tz, t: DateTime<Utc>) -> (Local, i32) {
    let utc = t.naive_utc();
    let off = offset_secs(tz, &utc);
    let local = utc
        .checked_add_signed(TimeDelta::seconds(i64::from(off)))
        .unwrap_or(utc);
    (
        Local {
            day: local.date().num_days_from_ce(),
            ns: time_to_ns(local.time()),
        },
        off,
    )
}

/// Local → UTC. `hint` is an offset likely in force (the start's): in a zone without
/// daylight saving this is one offset lookup. An ambiguous local time takes the earlier
/// reading, a local time inside a gap the later one.
#[inline]
fn to_utc(tz: Tz, l: Local, hint: i32) -> DateTime<Utc> {
    let Some(date) = NaiveDate::from_num_days_from_ce_opt(l.day) else {
        return if l.day > 0 {
            DateTime::<Utc>::MAX_UTC
        } else {
            DateTime::<Utc>::MIN_UTC
        };
    };
    let ns = l.ns.clamp(0, NS_PER_DAY - 1);
    let secs = u32::try_from(ns / NS_PER_SEC).unwrap_or(0);
    let nanos = u32::try_from(ns % NS_PER_SEC).unwrap_or(0);
    let time = NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos).unwrap_or(NaiveTime::MIN);
    let local = date.and_time(time);
    let minus = |off: i32| local.checked_sub_signed(TimeDelta::seconds(i64::from(off)));
    if let Some(guess) = minus(hint)
        && offset_secs(tz, &guess) == hint
    {
        return guess.and_utc();
    }
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => {
            let other = minus(hint).map_or(hint, |g| offset_secs(tz, &g));
            minus(hint.min(other)).unwrap_or(local).and_utc()
        }
    }
}

/// The next opening at or after `l` (identity inside a session of a working day).
#[inline]
fn roll(cal: &Calendar, l: Local) -> Local {
    if cal.is_working_dn(l.day) {
        for &(s, e) in &cal.sessions_ns {
            if l.ns < e {
                return Local {
                    day: l.day,
                    ns: l.ns.max(s),
                };
            }
        }
    }
    Local {
        day: cal.next_working_dn(l.day),
        ns: cal.opening_ns,
    }
}

/// The day `n` working days after `day`.
#[inline]
fn add_working_days(cal: &Calendar, day: i32, n: u32) -> i32 {
    let mut d = day;
    for _ in 0..n {
        d = cal.next_working_dn(d);
    }
    d
}

/// The earliest instant at which `w` of working time has passed since `from` (so a sum
/// ending exactly at a session end stays there: 11:30, not 13:00). `w ≤ 0` gives `from`.
fn add_working(cal: &Calendar, from: Local, w: i64) -> Local {
    if w <= 0 {
        return from;
    }
    let last_day = NaiveDate::MAX.num_days_from_ce();
    let mut day = from.day;
    let mut ns = from.ns;
    let mut left = w;
    loop {
        if cal.is_working_dn(day) {
            if ns <= cal.opening_ns && left > cal.day_length_ns {
                left -= cal.day_length_ns;
            } else {
                for &(s, e) in &cal.sessions_ns {
                    if e <= ns {
                        continue;
                    }
                    let b = s.max(ns);
                    let avail = e - b;
                    if left <= avail {
                        return Local { day, ns: b + left };
                    }
                    left -= avail;
                }
            }
        }
        if day >= last_day {
            return Local {
                day,
                ns: cal.closing_ns,
            };
        }
        day = cal.next_working_dn(day);
        ns = 0;
    }
}

/// Working time of day `day` inside `[lo, hi)` (nanoseconds from local midnight).
#[inline]
fn day_overlap(cal: &Calendar, lo: i64, hi: i64) -> i64 {
    if lo <= cal.opening_ns && hi >= cal.closing_ns {
        return cal.day_length_ns;
    }
    cal.sessions_ns
        .iter()
        .map(|&(s, e)| (e.min(hi) - s.max(lo)).max(0))
        .sum()
}

/// Working time in `[a, b)`, zero if `b <= a`.
fn working_between(cal: &Calendar, a: Local, b: Local) -> i64 {
    if b <= a {
        return 0;
    }
    let mut total = 0;
    let mut day = a.day;
    while day <= b.day {
        if cal.is_working_dn(day) {
            let lo = if day == a.day { a.ns } else { 0 };
            let hi = if day == b.day { b.ns } else { NS_PER_DAY };
            total += day_overlap(cal, lo, hi);
        }
        if day == b.day {
            break;
        }
        day = cal.next_working_dn(day);
    }
    total
}

fn due_local(cal: &Calendar, r: Local, d: Duration) -> Local {
    let n = d.clamped_value();
    match d.unit {
        DurationUnit::WorkingDays => Local {
            day: add_working_days(cal, r.day, n),
            ns: r.ns,
        },
        DurationUnit::WorkingHours => add_working(cal, r, i64::from(n) * NS_PER_HOUR),
        DurationUnit::CalendarDays => {
            let mut day = r.day.saturating_add(i32::try_from(n).unwrap_or(i32::MAX));
            if !cal.is_working_dn(day) {
                day = cal.next_working_dn(day);
            }
            Local { day, ns: r.ns }
        }
        DurationUnit::SameDay => Local {
            day: if r.ns < cal.cutoff_ns {
                r.day
            } else {
                cal.next_working_dn(r.day)
            },
            ns: cal.closing_ns,
        },
    }
}

/// The next opening if `t` is outside office hours or on a non-working day; `t` itself
/// inside a session (sessions are half-open: 11:30 rolls to 13:00, 17:00 to the next day).
pub fn roll_to_working_time(cal: &Calendar, t: DateTime<Utc>) -> DateTime<Utc> {
    let tz = cal.settings().timezone();
    let (l, off) = to_local(tz, t);
    let r = roll(cal, l);
    if r == l { t } else { to_utc(tz, r, off) }
}

/// Whether `t` lies inside an office session of a working day.
pub fn is_working_instant(cal: &Calendar, t: DateTime<Utc>) -> bool {
    let (l, _) = to_local(cal.settings().timezone(), t);
    roll(cal, l) == l
}

/// The due time of a dossier or step started at `start` (receipt, accept, step start) with
/// duration `d`; see docs/deadlines.md. Allocation-free.
pub fn due(cal: &Calendar, start: DateTime<Utc>, d: Duration) -> Due {
    let tz = cal.settings().timezone();
    let (l, off) = to_local(tz, start);
    let r = roll(cal, l);
    let end = due_local(cal, r, d);
    Due {
        effective_start: if r == l { start } else { to_utc(tz, r, off) },
        due_at: to_utc(tz, end, off),
    }
}

/// Working time between `a` and `b` (zero if `b <= a`): the time a paused clock did not run.
pub fn working_time_between(cal: &Calendar, a: DateTime<Utc>, b: DateTime<Utc>) -> TimeDelta {
    if b <= a {
        return TimeDelta::zero();
    }
    let tz = cal.settings().timezone();
    let (la, _) = to_local(tz, a);
    let (lb, _) = to_local(tz, b);
    TimeDelta::nanoseconds(working_between(cal, la, lb))
}

/// `t` moved later by `w` of working time: the earliest instant with `w` of working time
/// since `t` (ending at a session end stays there). Used when a paused clock resumes: the
/// due time moves later by the working time spent waiting. `w ≤ 0` returns `t` unchanged,
/// so pausing and resuming at once changes nothing.
pub fn add_working_time(cal: &Calendar, t: DateTime<Utc>, w: TimeDelta) -> DateTime<Utc> {
    let w_ns = w.num_nanoseconds().unwrap_or(i64::MAX);
    if w_ns <= 0 {
        return t;
    }
    let tz = cal.settings().timezone();
    let (l, off) = to_local(tz, t);
    to_utc(tz, add_working(cal, l, w_ns), off)
}
