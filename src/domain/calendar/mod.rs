//! The working-day calendar: special days (holidays, compensatory and swapped days off,
//! make-up working days) as data, the office sessions and settings, and which local dates
//! are working days and why. Pure: no I/O, no clock reads; the data comes in as values.

use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};

pub mod data;

pub use data::*;

use super::holidays;

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// Largest span (in days) between the first and the last special day for which the
/// calendar keeps a dense per-day table; beyond it lookups fall back to binary search.
const MAX_TABLE_DAYS: i64 = 1 << 17;

/// Bit set in the per-day table when the date is a working day.
const WORKING: u8 = 1;

/// Why a date is or is not a working day (machine `kind` of the explanation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayReason {
    /// An ordinary working day, Monday–Friday.
    WorkingDay,
    /// Saturday or Sunday with no special entry.
    Weekend,
    Holiday,
    CompensatoryOff,
    SwappedOff,
    /// A make-up working day, counted (`calendar.count_makeup_days = true`).
    MakeupWorkday,
    /// A make-up working day, not counted for deadlines (`calendar.count_makeup_days = false`).
    MakeupNotCounted,
    /// Only in explanations: the start day of a dossier received after the close of a
    /// working day; counting starts on a later day.
    OutsideOfficeHours,
}

impl DayReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DayReason::WorkingDay => "working_day",
            DayReason::Weekend => "weekend",
            DayReason::Holiday => "holiday",
            DayReason::CompensatoryOff => "compensatory_off",
            DayReason::SwappedOff => "swapped_off",
            DayReason::MakeupWorkday => "makeup_workday",
            DayReason::MakeupNotCounted => "makeup_not_counted",
            DayReason::OutsideOfficeHours => "outside_office_hours",
        }
    }
}

impl fmt::Display for DayReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a local date is a working day, why, and the special day's name if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayStatus {
    pub date: NaiveDate,
    pub working: bool,
    pub reason: DayReason,
    pub name: Option<String>,
    /// The date's year has no holiday decision: its days off are derived from the Labor
    /// Code ([`Calendar::with_provisional`]).
    pub provisional: bool,
}

impl DayStatus {
    /// Vietnamese label: "ngày làm việc", "thứ Bảy", "nghỉ lễ: Tết Nguyên đán (thứ Bảy)" …
    pub fn label_vi(&self) -> String {
        let name = self.name.as_deref().unwrap_or("");
        let weekday = self.date.weekday();
        match self.reason {
            DayReason::WorkingDay => "ngày làm việc".to_owned(),
            DayReason::Weekend | DayReason::OutsideOfficeHours if is_weekend(weekday) => {
                weekday_vi(weekday).to_owned()
            }
            DayReason::Weekend => "ngày nghỉ hằng tuần".to_owned(),
            DayReason::OutsideOfficeHours => "ngoài giờ hành chính".to_owned(),
            DayReason::Holiday => {
                let label = prefixed("nghỉ lễ", name);
                if is_weekend(weekday) {
                    format!("{label} ({})", weekday_vi(weekday))
                } else {
                    label
                }
            }
            DayReason::CompensatoryOff => prefixed("nghỉ bù", name),
            DayReason::SwappedOff => prefixed("hoán đổi", name),
            DayReason::MakeupWorkday => prefixed(makeup_vi(weekday), name),
            DayReason::MakeupNotCounted => prefixed("làm bù (không tính)", name),
        }
    }

    /// English label: "working day", "Saturday", "public holiday: Tết Nguyên đán (Saturday)" …
    pub fn label_en(&self) -> String {
        let name = self.name.as_deref().unwrap_or("");
        let weekday = self.date.weekday();
        let with_name = |prefix: &str| {
            if name.is_empty() {
                prefix.to_owned()
            } else {
                format!("{prefix}: {name}")
            }
        };
        match self.reason {
            DayReason::WorkingDay => "working day".to_owned(),
            DayReason::Weekend => weekday_en(weekday).to_owned(),
            DayReason::OutsideOfficeHours => "outside office hours".to_owned(),
            DayReason::Holiday => {
                let label = with_name("public holiday");
                if is_weekend(weekday) {
                    format!("{label} ({})", weekday_en(weekday))
                } else {
                    label
                }
            }
            DayReason::CompensatoryOff => with_name("compensatory day off"),
            DayReason::SwappedOff => with_name("swapped day off"),
            DayReason::MakeupWorkday => with_name("make-up working day"),
            DayReason::MakeupNotCounted => with_name("make-up working day, not counted"),
        }
    }
}

/// "prefix: name"; when the name already starts with the prefix's first two words, they
/// are merged: ("nghỉ bù", "Nghỉ bù Giỗ Tổ Hùng Vương") → "nghỉ bù Giỗ Tổ Hùng Vương",
/// ("làm bù thứ Bảy", "Làm bù cho ngày hoán đổi …") → "làm bù thứ Bảy cho ngày hoán đổi …".
fn prefixed(prefix: &str, name: &str) -> String {
    if name.is_empty() {
        return prefix.to_owned();
    }
    let lead = prefix
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let lead_len = lead.chars().count();
    let head: String = name.chars().take(lead_len).collect();
    if head.to_lowercase() == lead.to_lowercase() {
        let rest: String = name.chars().skip(lead_len).collect();
        format!("{prefix}{rest}")
    } else {
        format!("{prefix}: {name}")
    }
}

fn makeup_vi(weekday: Weekday) -> &'static str {
    if weekday == Weekday::Sun {
        "làm bù Chủ nhật"
    } else {
        "làm bù thứ Bảy"
    }
}

pub(crate) fn weekday_vi(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "thứ Hai",
        Weekday::Tue => "thứ Ba",
        Weekday::Wed => "thứ Tư",
        Weekday::Thu => "thứ Năm",
        Weekday::Fri => "thứ Sáu",
        Weekday::Sat => "thứ Bảy",
        Weekday::Sun => "Chủ nhật",
    }
}

fn weekday_en(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// Weekend test on a day number from [`NaiveDate::num_days_from_ce`] (day 1, 0001-01-01,
/// is a Monday), without building a date.
#[inline]
fn is_weekend_dn(dn: i32) -> bool {
    (dn - 1).rem_euclid(7) >= 5
}

fn working_for(kind: Option<DayKind>, weekend: bool, count_makeup_days: bool) -> bool {
    match kind {
        None => !weekend,
        Some(DayKind::MakeupWorkday) => count_makeup_days || !weekend,
        Some(_) => false,
    }
}

/// The calendar: special days plus settings. Answers "is this local date a working day,
/// and why" in O(1) from a dense per-day table built once. Clone it, or share it behind an
/// `Arc`, and rebuild it when the data or the settings change.
#[derive(Clone, Debug)]
pub struct Calendar {
    settings: WorkingTimeSettings,
    /// Sorted by date, one entry per date.
    days: Vec<SpecialDay>,
    /// Day number (days from CE) of `table[0]`.
    table_base: i32,
    /// Per-day flags from `table_base`; dates outside fall back to `days`.
    table: Vec<u8>,
    /// Years whose days are provisional (derived from the Labor Code), ascending.
    provisional_years: Vec<i32>,
    /// Office sessions in nanoseconds from local midnight, sorted.
    pub(crate) sessions_ns: Vec<(i64, i64)>,
    pub(crate) opening_ns: i64,
    pub(crate) closing_ns: i64,
    pub(crate) cutoff_ns: i64,
    pub(crate) day_length_ns: i64,
}

pub(crate) fn time_to_ns(t: NaiveTime) -> i64 {
    i64::from(t.num_seconds_from_midnight()) * NANOS_PER_SEC
        + i64::from(t.nanosecond().min(999_999_999))
}

impl Calendar {
    /// Builds the calendar. When a date is given twice, the last entry wins (an admin's
    /// edit given after the shipped data replaces it).
    pub fn new(days: impl IntoIterator<Item = SpecialDay>, settings: WorkingTimeSettings) -> Self {
        let mut list: Vec<SpecialDay> = days.into_iter().collect();
        // Stable sort, then keep the last of each run of equal dates.
        list.sort_by_key(|d| d.date);
        let mut unique: Vec<SpecialDay> = Vec::with_capacity(list.len());
        for day in list {
            match unique.last_mut() {
                Some(last) if last.date == day.date => *last = day,
                _ => unique.push(day),
            }
        }
        Self::from_sorted(unique, settings, Vec::new())
    }

    /// Builds the calendar from the decided days (shipped files, admin entries) and, for
    /// each year of [`holidays::YEARS`] that has none of them and is not in
    /// `decided_years`, the provisional days the Labor Code gives
    /// ([`holidays::provisional_days`]). A year in `decided_years` with no days (a file
    /// loaded with none, say) stays decided: nothing is derived for it.
    pub fn with_provisional(
        days: impl IntoIterator<Item = SpecialDay>,
        decided_years: &[i32],
        settings: WorkingTimeSettings,
    ) -> Self {
        let mut all: Vec<SpecialDay> = days.into_iter().collect();
        let mut decided: Vec<i32> = all.iter().map(|d| d.date.year()).collect();
        decided.extend_from_slice(decided_years);
        decided.sort_unstable();
        decided.dedup();
        let provisional: Vec<i32> = holidays::YEARS
            .filter(|y| decided.binary_search(y).is_err())
            .collect();
        for year in &provisional {
            all.extend_from_slice(holidays::provisional_days(*year));
        }
        let mut cal = Self::new(all, settings);
        cal.provisional_years = provisional;
        cal
    }

    fn from_sorted(
        days: Vec<SpecialDay>,
        settings: WorkingTimeSettings,
        provisional_years: Vec<i32>,
    ) -> Self {
        let sessions_ns: Vec<(i64, i64)> = settings
            .sessions
            .iter()
            .map(|s| (time_to_ns(s.start), time_to_ns(s.end)))
            .collect();
        let opening_ns = sessions_ns.first().map_or(0, |s| s.0);
        let closing_ns = sessions_ns.last().map_or(0, |s| s.1);
        let day_length_ns = sessions_ns.iter().map(|(s, e)| e - s).sum();
        let cutoff_ns = time_to_ns(settings.same_day_cutoff);

        let (table_base, table) = match (days.first(), days.last()) {
            (Some(first), Some(last)) => {
                let base = first.date.num_days_from_ce();
                let span = i64::from(last.date.num_days_from_ce()) - i64::from(base) + 1;
                if span <= MAX_TABLE_DAYS {
                    let mut table = Vec::with_capacity(usize::try_from(span).unwrap_or(0));
                    let mut next = days.iter().peekable();
                    for i in 0..span {
                        let dn = base + i32::try_from(i).unwrap_or(0);
                        let kind = match next.peek() {
                            Some(d) if d.date.num_days_from_ce() == dn => {
                                next.next().map(|d| d.kind)
                            }
                            _ => None,
                        };
                        let working =
                            working_for(kind, is_weekend_dn(dn), settings.count_makeup_days);
                        table.push(if working { WORKING } else { 0 });
                    }
                    (base, table)
                } else {
                    (0, Vec::new())
                }
            }
            _ => (0, Vec::new()),
        };

        Calendar {
            settings,
            days,
            table_base,
            table,
            provisional_years,
            sessions_ns,
            opening_ns,
            closing_ns,
            cutoff_ns,
            day_length_ns,
        }
    }

    pub fn settings(&self) -> &WorkingTimeSettings {
        &self.settings
    }

    /// The same special days under other settings.
    pub fn with_settings(&self, settings: WorkingTimeSettings) -> Calendar {
        Self::from_sorted(self.days.clone(), settings, self.provisional_years.clone())
    }

    /// A copy with `day` added, replacing any entry for the same date (provisional years
    /// stay marked as they are).
    pub fn with_day(&self, day: SpecialDay) -> Calendar {
        let mut days = self.days.clone();
        match days.binary_search_by_key(&day.date, |d| d.date) {
            Ok(i) => days[i] = day,
            Err(i) => days.insert(i, day),
        }
        Self::from_sorted(days, self.settings.clone(), self.provisional_years.clone())
    }

    /// A copy without the entry for `date` (if any).
    pub fn without_day(&self, date: NaiveDate) -> Calendar {
        let mut days = self.days.clone();
        days.retain(|d| d.date != date);
        Self::from_sorted(days, self.settings.clone(), self.provisional_years.clone())
    }

    /// Whether `year`'s days are provisional, derived from the Labor Code because no
    /// holiday decision was shipped or entered for it.
    pub fn is_provisional_year(&self, year: i32) -> bool {
        self.provisional_years.binary_search(&year).is_ok()
    }

    /// The provisional years, ascending.
    pub fn provisional_years(&self) -> &[i32] {
        &self.provisional_years
    }

    /// All special days, sorted by date.
    pub fn days(&self) -> &[SpecialDay] {
        &self.days
    }

    /// The special days of one year, sorted by date (`GET /api/v1/calendar/days?year=Y`).
    pub fn days_in_year(&self, year: i32) -> &[SpecialDay] {
        let lo = self.days.partition_point(|d| d.date.year() < year);
        let hi = self.days.partition_point(|d| d.date.year() <= year);
        self.days.get(lo..hi).unwrap_or(&[])
    }

    pub fn special_day(&self, date: NaiveDate) -> Option<&SpecialDay> {
        self.days
            .binary_search_by_key(&date, |d| d.date)
            .ok()
            .and_then(|i| self.days.get(i))
    }

    /// Whether any special day of `year` is loaded, decided or provisional. A year without
    /// any is counted with weekends only; the service warns about it (readiness check, log).
    pub fn has_year(&self, year: i32) -> bool {
        !self.days_in_year(year).is_empty()
    }

    /// The years that have data, ascending.
    pub fn years(&self) -> Vec<i32> {
        let mut years: Vec<i32> = self.days.iter().map(|d| d.date.year()).collect();
        years.dedup();
        years
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.is_working_dn(date.num_days_from_ce())
    }

    /// Working-day test on a day number (days from CE): the engine's hot path.
    #[inline]
    pub(crate) fn is_working_dn(&self, dn: i32) -> bool {
        let idx = i64::from(dn) - i64::from(self.table_base);
        if let Ok(i) = usize::try_from(idx)
            && let Some(flags) = self.table.get(i)
        {
            return flags & WORKING != 0;
        }
        if self.table.is_empty() && !self.days.is_empty() {
            let kind = NaiveDate::from_num_days_from_ce_opt(dn)
                .and_then(|d| self.special_day(d))
                .map(|d| d.kind);
            return working_for(kind, is_weekend_dn(dn), self.settings.count_makeup_days);
        }
        !is_weekend_dn(dn)
    }

    /// The first working day strictly after day number `dn`.
    #[inline]
    pub(crate) fn next_working_dn(&self, dn: i32) -> i32 {
        let mut d = dn.saturating_add(1);
        while !self.is_working_dn(d) && d < i32::MAX {
            d += 1;
        }
        d
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        NaiveDate::from_num_days_from_ce_opt(self.next_working_dn(date.num_days_from_ce()))
            .unwrap_or(NaiveDate::MAX)
    }

    /// Whether `date` is a working day, and why.
    pub fn day_status(&self, date: NaiveDate) -> DayStatus {
        let weekend = is_weekend(date.weekday());
        let special = self.special_day(date);
        let working = working_for(
            special.map(|d| d.kind),
            weekend,
            self.settings.count_makeup_days,
        );
        let reason = match special.map(|d| d.kind) {
            None if weekend => DayReason::Weekend,
            None => DayReason::WorkingDay,
            Some(DayKind::Holiday) => DayReason::Holiday,
            Some(DayKind::CompensatoryOff) => DayReason::CompensatoryOff,
            Some(DayKind::SwappedOff) => DayReason::SwappedOff,
            Some(DayKind::MakeupWorkday) if working => DayReason::MakeupWorkday,
            Some(DayKind::MakeupWorkday) => DayReason::MakeupNotCounted,
        };
        DayStatus {
            date,
            working,
            reason,
            name: special.map(|d| d.name.clone()),
            provisional: self.is_provisional_year(date.year()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
