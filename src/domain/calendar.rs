//! The working-day calendar: special days (holidays, compensatory and swapped days off,
//! make-up working days) as data, the office sessions and settings, and which local dates
//! are working days and why. Pure: no I/O, no clock reads; the data comes in as values.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveTime, TimeDelta, Timelike, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::holidays;

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// Largest span (in days) between the first and the last special day for which the
/// calendar keeps a dense per-day table; beyond it lookups fall back to binary search.
const MAX_TABLE_DAYS: i64 = 1 << 17;

/// Bit set in the per-day table when the date is a working day.
const WORKING: u8 = 1;

/// The kind of a special date (`calendar_days.kind`, API `kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A public holiday (Bộ luật Lao động 2019 Điều 112), or a weekend day inside a holiday run.
    Holiday,
    /// Nghỉ bù: a holiday fell on the weekly rest day, the next working day is off (Điều 111(3)).
    CompensatoryOff,
    /// Hoán đổi: a working day swapped off, worked back on a make-up day.
    SwappedOff,
    /// Làm bù: a Saturday (or Sunday) worked to make up for a swapped day.
    MakeupWorkday,
}

impl DayKind {
    pub const ALL: [DayKind; 4] = [
        DayKind::Holiday,
        DayKind::CompensatoryOff,
        DayKind::SwappedOff,
        DayKind::MakeupWorkday,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::CompensatoryOff => "compensatory_off",
            DayKind::SwappedOff => "swapped_off",
            DayKind::MakeupWorkday => "makeup_workday",
        }
    }

    /// Whether a date of this kind is a day off (as opposed to a make-up working day).
    pub fn is_off(self) -> bool {
        !matches!(self, DayKind::MakeupWorkday)
    }
}

impl fmt::Display for DayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DayKind {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DayKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                UnknownValue::new(
                    "day kind",
                    s,
                    "holiday, compensatory_off, swapped_off, makeup_workday",
                )
            })
    }
}

/// A string that names none of an enum's values (the `FromStr` error of the domain enums).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}; expected one of: {expected}")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl UnknownValue {
    pub fn new(what: &'static str, value: &str, expected: &'static str) -> Self {
        UnknownValue {
            what,
            value: value.to_owned(),
            expected,
        }
    }
}

/// One special date of the calendar (one row of a calendar file or of the admin's table).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecialDay {
    pub date: NaiveDate,
    pub kind: DayKind,
    /// Vietnamese name, e.g. "Tết Nguyên đán", "Nghỉ bù Giỗ Tổ Hùng Vương".
    pub name: String,
    /// The legal document the date comes from.
    #[serde(default)]
    pub source: String,
}

/// One calendar data file, `config/calendars/vn-YYYY.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarFile {
    pub year: i32,
    #[serde(default)]
    pub days: Vec<SpecialDay>,
}

/// Errors of calendar data and of the working-time settings.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("calendar file is not valid: {0}")]
    Parse(String),
    #[error("year {0} is outside the supported range 1900–2200")]
    YearOutOfRange(i32),
    #[error("{date}: the date is not in the file's year {year}")]
    DateOutsideYear { date: NaiveDate, year: i32 },
    #[error("{0}: the date is listed more than once")]
    DuplicateDate(NaiveDate),
    #[error("{0}: the name must not be empty")]
    EmptyName(NaiveDate),
    #[error("{date}: a make-up working day must fall on a Saturday or Sunday, not on a {weekday}")]
    MakeupOnWeekday { date: NaiveDate, weekday: Weekday },
    #[error("{date}: a {kind} day must fall on a weekday (Monday–Friday), not on a {weekday}")]
    OffDayOnWeekend {
        date: NaiveDate,
        kind: DayKind,
        weekday: Weekday,
    },
    #[error("invalid time {0:?}: expected HH:MM")]
    InvalidTime(String),
    #[error("invalid office session {0:?}: expected \"HH:MM-HH:MM\" with the start before the end")]
    InvalidSession(String),
    #[error("at least one office session is required")]
    NoSessions,
    #[error("office sessions {0} and {1} overlap")]
    OverlappingSessions(Session, Session),
    #[error("unknown time zone {0:?}")]
    UnknownTimezone(String),
}

/// Checks one special day on its own: a non-empty name, a make-up day on a weekend,
/// a compensatory or swapped day off on a weekday. Used for files and for admin edits.
pub fn validate_special_day(day: &SpecialDay) -> Result<(), CalendarError> {
    if day.name.trim().is_empty() {
        return Err(CalendarError::EmptyName(day.date));
    }
    let weekday = day.date.weekday();
    let weekend = is_weekend(weekday);
    match day.kind {
        DayKind::MakeupWorkday if !weekend => Err(CalendarError::MakeupOnWeekday {
            date: day.date,
            weekday,
        }),
        DayKind::CompensatoryOff | DayKind::SwappedOff if weekend => {
            Err(CalendarError::OffDayOnWeekend {
                date: day.date,
                kind: day.kind,
                weekday,
            })
        }
        _ => Ok(()),
    }
}

/// Parses and validates one calendar file: every date in `year`, no date twice, and each
/// entry valid on its own (see [`validate_special_day`]). Unknown kinds and fields are refused.
pub fn parse_calendar_file(toml_text: &str) -> Result<CalendarFile, CalendarError> {
    let file: CalendarFile =
        toml::from_str(toml_text).map_err(|e| CalendarError::Parse(e.to_string()))?;
    if !(1900..=2200).contains(&file.year) {
        return Err(CalendarError::YearOutOfRange(file.year));
    }
    let mut seen: Vec<NaiveDate> = Vec::with_capacity(file.days.len());
    for day in &file.days {
        if day.date.year() != file.year {
            return Err(CalendarError::DateOutsideYear {
                date: day.date,
                year: file.year,
            });
        }
        if seen.contains(&day.date) {
            return Err(CalendarError::DuplicateDate(day.date));
        }
        seen.push(day.date);
        validate_special_day(day)?;
    }
    Ok(file)
}

/// Parses "HH:MM" (or "HH:MM:SS").
pub fn parse_time(s: &str) -> Result<NaiveTime, CalendarError> {
    let t = s.trim();
    NaiveTime::parse_from_str(t, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
        .map_err(|_| CalendarError::InvalidTime(s.to_owned()))
}

/// One office session, half-open: `[start, end)`. Written "07:30-11:30".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Session {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Session {
    pub fn new(start: NaiveTime, end: NaiveTime) -> Result<Self, CalendarError> {
        if start < end {
            Ok(Session { start, end })
        } else {
            Err(CalendarError::InvalidSession(format!(
                "{}-{}",
                start.format("%H:%M"),
                end.format("%H:%M")
            )))
        }
    }

    pub fn length(&self) -> TimeDelta {
        self.end - self.start
    }
}

impl fmt::Display for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

impl FromStr for Session {
    type Err = CalendarError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || CalendarError::InvalidSession(s.to_owned());
        let (a, b) = s.split_once('-').ok_or_else(invalid)?;
        let start = parse_time(a).map_err(|_| invalid())?;
        let end = parse_time(b).map_err(|_| invalid())?;
        Session::new(start, end).map_err(|_| invalid())
    }
}

impl TryFrom<String> for Session {
    type Error = CalendarError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Session> for String {
    fn from(s: Session) -> String {
        s.to_string()
    }
}

/// Working-time settings (`agency.timezone`, `calendar.office_hours`,
/// `calendar.same_day_cutoff`, `calendar.count_makeup_days`). Valid by construction:
/// sessions sorted, non-empty, non-overlapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkingTimeSettings {
    timezone: Tz,
    sessions: Vec<Session>,
    same_day_cutoff: NaiveTime,
    count_makeup_days: bool,
}

impl WorkingTimeSettings {
    /// Sorts the sessions and refuses an empty list or overlapping sessions
    /// (touching sessions, "07:30-11:30" and "11:30-13:00", are allowed).
    pub fn new(
        timezone: Tz,
        mut sessions: Vec<Session>,
        same_day_cutoff: NaiveTime,
        count_makeup_days: bool,
    ) -> Result<Self, CalendarError> {
        if sessions.is_empty() {
            return Err(CalendarError::NoSessions);
        }
        sessions.sort();
        for pair in sessions.windows(2) {
            if let [a, b] = pair
                && b.start < a.end
            {
                return Err(CalendarError::OverlappingSessions(*a, *b));
            }
        }
        Ok(WorkingTimeSettings {
            timezone,
            sessions,
            same_day_cutoff,
            count_makeup_days,
        })
    }

    /// From the configuration's text values, e.g.
    /// `("Asia/Ho_Chi_Minh", &["07:30-11:30", "13:00-17:00"], "15:00", true)`.
    pub fn from_config<S: AsRef<str>>(
        timezone: &str,
        office_hours: &[S],
        same_day_cutoff: &str,
        count_makeup_days: bool,
    ) -> Result<Self, CalendarError> {
        let tz: Tz = timezone
            .trim()
            .parse()
            .map_err(|_| CalendarError::UnknownTimezone(timezone.to_owned()))?;
        let sessions = office_hours
            .iter()
            .map(|s| s.as_ref().parse())
            .collect::<Result<Vec<Session>, _>>()?;
        WorkingTimeSettings::new(
            tz,
            sessions,
            parse_time(same_day_cutoff)?,
            count_makeup_days,
        )
    }

    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }

    pub fn same_day_cutoff(&self) -> NaiveTime {
        self.same_day_cutoff
    }

    pub fn count_makeup_days(&self) -> bool {
        self.count_makeup_days
    }

    /// Working time in one working day: the sum of the sessions (8 h by default).
    pub fn day_length(&self) -> TimeDelta {
        self.sessions
            .iter()
            .fold(TimeDelta::zero(), |acc, s| acc + s.length())
    }

    /// Start of the first session (07:30 by default).
    pub fn opening(&self) -> NaiveTime {
        self.sessions.first().map_or(NaiveTime::MIN, |s| s.start)
    }

    /// End of the last session (17:00 by default): "the close of the working day".
    pub fn closing(&self) -> NaiveTime {
        self.sessions.last().map_or(NaiveTime::MIN, |s| s.end)
    }

    pub fn with_count_makeup_days(mut self, count: bool) -> Self {
        self.count_makeup_days = count;
        self
    }
}

impl Default for WorkingTimeSettings {
    /// Asia/Ho_Chi_Minh, 07:30–11:30 and 13:00–17:00, cut-off 15:00, make-up days count.
    fn default() -> Self {
        let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
        WorkingTimeSettings {
            timezone: chrono_tz::Asia::Ho_Chi_Minh,
            sessions: vec![
                Session {
                    start: hm(7, 30),
                    end: hm(11, 30),
                },
                Session {
                    start: hm(13, 0),
                    end: hm(17, 0),
                },
            ],
            same_day_cutoff: hm(15, 0),
            count_makeup_days: true,
        }
    }
}

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

fn is_weekend(weekday: Weekday) -> bool {
    matches!(weekday, Weekday::Sat | Weekday::Sun)
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
mod tests {
    use super::*;

    const VN_2023: &str = include_str!("../../config/calendars/vn-2023.toml");
    const VN_2024: &str = include_str!("../../config/calendars/vn-2024.toml");
    const VN_2025: &str = include_str!("../../config/calendars/vn-2025.toml");
    const VN_2026: &str = include_str!("../../config/calendars/vn-2026.toml");

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn shipped() -> Calendar {
        let days = [VN_2024, VN_2025, VN_2026]
            .into_iter()
            .flat_map(|t| parse_calendar_file(t).unwrap().days);
        Calendar::new(days, WorkingTimeSettings::default())
    }

    fn off_days(file: &CalendarFile) -> Vec<String> {
        file.days
            .iter()
            .filter(|d| d.kind.is_off())
            .map(|d| d.date.format("%d/%m").to_string())
            .collect()
    }

    #[test]
    fn shipped_2023_matches_the_announcements() {
        // Công văn 8056/VPCP-KGVX (01/12/2022): Tết 20/01–26/01, Quốc khánh 01/09–04/09;
        // the Labor Code for the rest, with four nghỉ bù days and no swap.
        let f23 = parse_calendar_file(VN_2023).unwrap();
        assert_eq!(f23.year, 2023);
        assert_eq!(
            off_days(&f23),
            [
                "01/01", "02/01", "20/01", "21/01", "22/01", "23/01", "24/01", "25/01", "26/01",
                "29/04", "30/04", "01/05", "02/05", "03/05", "01/09", "02/09", "03/09", "04/09"
            ]
        );
        let comp: Vec<String> = f23
            .days
            .iter()
            .filter(|d| d.kind == DayKind::CompensatoryOff)
            .map(|d| d.date.format("%d/%m").to_string())
            .collect();
        assert_eq!(comp, ["02/01", "02/05", "03/05", "04/09"]);
        assert!(
            f23.days
                .iter()
                .all(|d| d.kind.is_off() && !d.source.trim().is_empty())
        );
    }

    #[test]
    fn years_without_a_decision_get_provisional_days() {
        let files = [VN_2023, VN_2024, VN_2025, VN_2026].map(|t| parse_calendar_file(t).unwrap());
        let decided: Vec<i32> = files.iter().map(|f| f.year).collect();
        let days = files.iter().flat_map(|f| f.days.clone());
        let cal =
            Calendar::with_provisional(days.clone(), &decided, WorkingTimeSettings::default());
        assert!(cal.is_provisional_year(2027));
        assert!(cal.is_provisional_year(2022));
        assert!(!cal.is_provisional_year(2026));
        assert!(!cal.is_provisional_year(2020), "before the Labor Code 2019");
        assert_eq!(cal.provisional_years().first(), Some(&2021));
        // Tết 2027, Thu 04/02 – Wed 10/02, is off; Wed 03/02 and Thu 11/02 are not.
        assert!(cal.is_working_day(date(2027, 2, 3)));
        for d in 4..=10 {
            assert!(!cal.is_working_day(date(2027, 2, d)), "{d}/02/2027");
        }
        assert!(cal.is_working_day(date(2027, 2, 11)));
        let st = cal.day_status(date(2027, 2, 8));
        assert_eq!(st.reason, DayReason::Holiday);
        assert!(st.provisional);
        assert!(cal.day_status(date(2027, 3, 1)).provisional);
        assert!(!cal.day_status(date(2026, 2, 16)).provisional);
        // A decided day is never replaced: 2026 is the shipped file's, swaps included.
        assert_eq!(
            cal.days_in_year(2026),
            parse_calendar_file(VN_2026).unwrap().days.as_slice()
        );
        // A year before 2021 has no days: weekends only.
        assert!(!cal.has_year(2020));
        assert!(cal.is_working_day(date(2020, 1, 1)));

        // Any decided day of a year replaces that year's provisional days.
        let entered = SpecialDay {
            date: date(2027, 2, 5),
            kind: DayKind::Holiday,
            name: "Tết Nguyên đán".into(),
            source: "Quyết định thử".into(),
        };
        let cal = Calendar::with_provisional(
            days.clone().chain([entered.clone()]),
            &decided,
            WorkingTimeSettings::default(),
        );
        assert!(!cal.is_provisional_year(2027));
        assert_eq!(cal.days_in_year(2027), [entered]);
        assert!(cal.is_working_day(date(2027, 2, 8)));
        // So does a decided year with no days at all (a file that lists none).
        let mut with_2027 = decided.clone();
        with_2027.push(2027);
        let cal = Calendar::with_provisional(days, &with_2027, WorkingTimeSettings::default());
        assert!(!cal.is_provisional_year(2027));
        assert!(!cal.has_year(2027));
        assert!(cal.is_working_day(date(2027, 2, 8)));
    }

    #[test]
    fn shipped_files_parse_and_match_the_design_table() {
        let f24 = parse_calendar_file(VN_2024).unwrap();
        assert_eq!(f24.year, 2024);
        assert_eq!(
            off_days(&f24),
            [
                "01/01", "08/02", "09/02", "10/02", "11/02", "12/02", "13/02", "14/02", "18/04",
                "27/04", "28/04", "29/04", "30/04", "01/05", "31/08", "01/09", "02/09", "03/09"
            ]
        );
        let f25 = parse_calendar_file(VN_2025).unwrap();
        assert_eq!(f25.year, 2025);
        assert_eq!(
            off_days(&f25),
            [
                "01/01", "25/01", "26/01", "27/01", "28/01", "29/01", "30/01", "31/01", "01/02",
                "02/02", "07/04", "30/04", "01/05", "02/05", "03/05", "04/05", "30/08", "31/08",
                "01/09", "02/09"
            ]
        );
        let f26 = parse_calendar_file(VN_2026).unwrap();
        assert_eq!(f26.year, 2026);
        assert_eq!(
            off_days(&f26),
            [
                "01/01", "02/01", "03/01", "04/01", "14/02", "15/02", "16/02", "17/02", "18/02",
                "19/02", "20/02", "21/02", "22/02", "25/04", "26/04", "27/04", "30/04", "01/05",
                "02/05", "03/05", "29/08", "30/08", "31/08", "01/09", "02/09"
            ]
        );
        let kind_of =
            |f: &CalendarFile, d: NaiveDate| f.days.iter().find(|x| x.date == d).map(|x| x.kind);
        assert_eq!(kind_of(&f24, date(2024, 4, 29)), Some(DayKind::SwappedOff));
        assert_eq!(
            kind_of(&f24, date(2024, 5, 4)),
            Some(DayKind::MakeupWorkday)
        );
        assert_eq!(kind_of(&f25, date(2025, 5, 2)), Some(DayKind::SwappedOff));
        assert_eq!(
            kind_of(&f25, date(2025, 4, 26)),
            Some(DayKind::MakeupWorkday)
        );
        assert_eq!(kind_of(&f26, date(2026, 1, 2)), Some(DayKind::SwappedOff));
        assert_eq!(
            kind_of(&f26, date(2026, 1, 10)),
            Some(DayKind::MakeupWorkday)
        );
        assert_eq!(
            kind_of(&f26, date(2026, 4, 27)),
            Some(DayKind::CompensatoryOff)
        );
        assert_eq!(kind_of(&f26, date(2026, 8, 31)), Some(DayKind::SwappedOff));
        assert_eq!(
            kind_of(&f26, date(2026, 8, 22)),
            Some(DayKind::MakeupWorkday)
        );
        for f in [&f24, &f25, &f26] {
            for d in &f.days {
                assert!(!d.source.trim().is_empty(), "{} has no source", d.date);
            }
        }
    }

    #[test]
    fn parse_refuses_a_date_outside_the_year() {
        let text =
            "year = 2025\n[[days]]\ndate = \"2024-12-31\"\nkind = \"holiday\"\nname = \"x\"\n";
        assert_eq!(
            parse_calendar_file(text),
            Err(CalendarError::DateOutsideYear {
                date: date(2024, 12, 31),
                year: 2025
            })
        );
    }

    #[test]
    fn parse_refuses_a_duplicate_date() {
        let text = "year = 2025\n\
            [[days]]\ndate = \"2025-01-01\"\nkind = \"holiday\"\nname = \"Tết Dương lịch\"\n\
            [[days]]\ndate = \"2025-01-01\"\nkind = \"swapped_off\"\nname = \"y\"\n";
        assert_eq!(
            parse_calendar_file(text),
            Err(CalendarError::DuplicateDate(date(2025, 1, 1)))
        );
    }

    #[test]
    fn parse_refuses_an_unknown_kind_or_field_or_bad_toml() {
        let kind =
            "year = 2025\n[[days]]\ndate = \"2025-01-01\"\nkind = \"vacation\"\nname = \"x\"\n";
        match parse_calendar_file(kind) {
            Err(CalendarError::Parse(msg)) => assert!(msg.contains("vacation"), "{msg}"),
            other => panic!("{other:?}"),
        }
        let field = "year = 2025\n[[days]]\ndate = \"2025-01-01\"\nkind = \"holiday\"\nname = \"x\"\nnote = \"?\"\n";
        assert!(matches!(
            parse_calendar_file(field),
            Err(CalendarError::Parse(_))
        ));
        assert!(matches!(
            parse_calendar_file("year = "),
            Err(CalendarError::Parse(_))
        ));
        let bad_date =
            "year = 2025\n[[days]]\ndate = \"2025-02-30\"\nkind = \"holiday\"\nname = \"x\"\n";
        assert!(matches!(
            parse_calendar_file(bad_date),
            Err(CalendarError::Parse(_))
        ));
    }

    #[test]
    fn parse_refuses_inconsistent_kinds_and_empty_names() {
        // 2025-04-25 is a Friday: not a make-up day.
        let makeup = "year = 2025\n[[days]]\ndate = \"2025-04-25\"\nkind = \"makeup_workday\"\nname = \"x\"\n";
        assert_eq!(
            parse_calendar_file(makeup),
            Err(CalendarError::MakeupOnWeekday {
                date: date(2025, 4, 25),
                weekday: Weekday::Fri
            })
        );
        // 2026-04-26 is a Sunday: cannot be a compensatory day off.
        let comp = "year = 2026\n[[days]]\ndate = \"2026-04-26\"\nkind = \"compensatory_off\"\nname = \"x\"\n";
        assert!(matches!(
            parse_calendar_file(comp),
            Err(CalendarError::OffDayOnWeekend { .. })
        ));
        let empty =
            "year = 2025\n[[days]]\ndate = \"2025-01-01\"\nkind = \"holiday\"\nname = \" \"\n";
        assert_eq!(
            parse_calendar_file(empty),
            Err(CalendarError::EmptyName(date(2025, 1, 1)))
        );
        assert_eq!(
            parse_calendar_file("year = 1066\n"),
            Err(CalendarError::YearOutOfRange(1066))
        );
        assert_eq!(parse_calendar_file("year = 2027\n").unwrap().days, vec![]);
    }

    #[test]
    fn kinds_round_trip() {
        for k in DayKind::ALL {
            assert_eq!(k.as_str().parse::<DayKind>().unwrap(), k);
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert!("Holiday".parse::<DayKind>().is_err());
    }

    #[test]
    fn sessions_and_settings_parse_and_validate() {
        let s: Session = "07:30-11:30".parse().unwrap();
        assert_eq!(s.to_string(), "07:30-11:30");
        assert_eq!(s.length(), TimeDelta::hours(4));
        assert_eq!(
            " 13:00 - 17:00 ".parse::<Session>().unwrap().to_string(),
            "13:00-17:00"
        );
        for bad in [
            "",
            "07:30",
            "11:30-07:30",
            "07:30-07:30",
            "7h30-11h30",
            "07:30-25:00",
        ] {
            assert!(bad.parse::<Session>().is_err(), "{bad}");
        }
        let json: Session = serde_json::from_str("\"08:00-12:00\"").unwrap();
        assert_eq!(serde_json::to_string(&json).unwrap(), "\"08:00-12:00\"");

        let d = WorkingTimeSettings::default();
        let c = WorkingTimeSettings::from_config(
            "Asia/Ho_Chi_Minh",
            &["13:00-17:00", "07:30-11:30"],
            "15:00",
            true,
        )
        .unwrap();
        assert_eq!(c, d);
        assert_eq!(d.day_length(), TimeDelta::hours(8));
        assert_eq!(d.opening(), NaiveTime::from_hms_opt(7, 30, 0).unwrap());
        assert_eq!(d.closing(), NaiveTime::from_hms_opt(17, 0, 0).unwrap());
        assert_eq!(
            WorkingTimeSettings::from_config("Asia/Ho_Chi_Minh", &[] as &[&str], "15:00", true),
            Err(CalendarError::NoSessions)
        );
        assert!(matches!(
            WorkingTimeSettings::from_config(
                "Asia/Ho_Chi_Minh",
                &["07:30-11:30", "11:00-17:00"],
                "15:00",
                true
            ),
            Err(CalendarError::OverlappingSessions(..))
        ));
        assert!(
            WorkingTimeSettings::from_config(
                "Asia/Ho_Chi_Minh",
                &["07:30-11:30", "11:30-17:00"],
                "15:00",
                true
            )
            .is_ok()
        );
        assert_eq!(
            WorkingTimeSettings::from_config("Mars/Olympus", &["07:30-11:30"], "15:00", true),
            Err(CalendarError::UnknownTimezone("Mars/Olympus".into()))
        );
        assert_eq!(
            WorkingTimeSettings::from_config("Asia/Ho_Chi_Minh", &["07:30-11:30"], "3pm", true),
            Err(CalendarError::InvalidTime("3pm".into()))
        );
    }

    #[test]
    fn day_number_weekday_trick_matches_chrono() {
        let mut d = date(1999, 12, 25);
        while d < date(2031, 1, 10) {
            assert_eq!(
                is_weekend_dn(d.num_days_from_ce()),
                is_weekend(d.weekday()),
                "{d}"
            );
            d = d.succ_opt().unwrap();
        }
    }

    #[test]
    fn day_status_gives_the_reason() {
        let cal = shipped();
        let st = |y, m, d| cal.day_status(date(y, m, d));
        assert_eq!(st(2024, 3, 4).reason, DayReason::WorkingDay);
        assert_eq!(st(2024, 3, 4).label_vi(), "ngày làm việc");
        assert_eq!(st(2024, 3, 9).label_vi(), "thứ Bảy");
        assert_eq!(st(2024, 3, 10).label_vi(), "Chủ nhật");
        assert_eq!(st(2024, 3, 10).label_en(), "Sunday");
        let tet = st(2024, 2, 12);
        assert!(!tet.working);
        assert_eq!(tet.reason, DayReason::Holiday);
        assert_eq!(tet.label_vi(), "nghỉ lễ: Tết Nguyên đán");
        assert_eq!(
            st(2024, 2, 10).label_vi(),
            "nghỉ lễ: Tết Nguyên đán (thứ Bảy)"
        );
        assert_eq!(
            st(2024, 2, 10).label_en(),
            "public holiday: Tết Nguyên đán (Saturday)"
        );
        let comp = st(2026, 4, 27);
        assert_eq!(comp.reason, DayReason::CompensatoryOff);
        assert_eq!(comp.label_vi(), "nghỉ bù Giỗ Tổ Hùng Vương");
        let swapped = st(2024, 4, 29);
        assert_eq!(swapped.reason, DayReason::SwappedOff);
        assert!(
            swapped.label_vi().starts_with("hoán đổi ngày làm việc"),
            "{}",
            swapped.label_vi()
        );
        let makeup = st(2024, 5, 4);
        assert!(makeup.working);
        assert_eq!(makeup.reason, DayReason::MakeupWorkday);
        assert!(
            makeup.label_vi().starts_with("làm bù thứ Bảy"),
            "{}",
            makeup.label_vi()
        );

        let off = cal.with_settings(WorkingTimeSettings::default().with_count_makeup_days(false));
        let makeup_off = off.day_status(date(2024, 5, 4));
        assert!(!makeup_off.working);
        assert_eq!(makeup_off.reason, DayReason::MakeupNotCounted);
        assert!(makeup_off.label_vi().starts_with("làm bù (không tính)"));
        assert!(!off.is_working_day(date(2026, 8, 22)));
        assert!(cal.is_working_day(date(2026, 8, 22)));
    }

    #[test]
    fn years_edits_and_fallbacks() {
        let cal = shipped();
        assert_eq!(cal.years(), vec![2024, 2025, 2026]);
        assert!(cal.has_year(2025));
        assert!(!cal.has_year(2027));
        assert_eq!(
            cal.days_in_year(2024).len(),
            parse_calendar_file(VN_2024).unwrap().days.len()
        );
        assert!(cal.days_in_year(2023).is_empty());
        // Years without data: weekends only.
        assert!(cal.is_working_day(date(2027, 1, 1)));
        assert!(!cal.is_working_day(date(2027, 1, 2)));
        assert!(cal.is_working_day(date(2023, 12, 29)));
        assert_eq!(cal.next_working_day(date(2024, 2, 7)), date(2024, 2, 15));

        let extra = cal.with_day(SpecialDay {
            date: date(2025, 3, 3),
            kind: DayKind::Holiday,
            name: "Ngày nghỉ thử".into(),
            source: String::new(),
        });
        assert!(!extra.is_working_day(date(2025, 3, 3)));
        assert!(
            extra
                .without_day(date(2025, 3, 3))
                .is_working_day(date(2025, 3, 3))
        );
        // The last entry for a date wins.
        let twice = Calendar::new(
            [
                SpecialDay {
                    date: date(2025, 3, 3),
                    kind: DayKind::Holiday,
                    name: "a".into(),
                    source: String::new(),
                },
                SpecialDay {
                    date: date(2025, 3, 8),
                    kind: DayKind::MakeupWorkday,
                    name: "b".into(),
                    source: String::new(),
                },
                SpecialDay {
                    date: date(2025, 3, 3),
                    kind: DayKind::MakeupWorkday,
                    name: "c".into(),
                    source: String::new(),
                },
            ],
            WorkingTimeSettings::default(),
        );
        assert_eq!(twice.days().len(), 2);
        assert!(twice.is_working_day(date(2025, 3, 3)));
        assert!(twice.is_working_day(date(2025, 3, 8)));

        // A calendar spanning centuries uses the binary-search fallback, same answers.
        let far = cal.with_day(SpecialDay {
            date: date(2900, 1, 1),
            kind: DayKind::Holiday,
            name: "far".into(),
            source: String::new(),
        });
        assert!(far.table.is_empty());
        let mut d = date(2023, 12, 1);
        while d < date(2027, 2, 1) {
            assert_eq!(far.is_working_day(d), cal.is_working_day(d), "{d}");
            d = d.succ_opt().unwrap();
        }
        assert!(!far.is_working_day(date(2900, 1, 1)));
        let empty = Calendar::new([], WorkingTimeSettings::default());
        assert!(empty.is_working_day(date(2024, 2, 12)));
        assert!(!empty.has_year(2024));
    }
}
