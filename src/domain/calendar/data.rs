//! Calendar data: the kinds of special date, a special date, a calendar file and its checks,
//! the office sessions and the working-time settings.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveTime, TimeDelta, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

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
    pub(super) timezone: Tz,
    pub(super) sessions: Vec<Session>,
    pub(super) same_day_cutoff: NaiveTime,
    pub(super) count_makeup_days: bool,
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

pub(super) fn is_weekend(weekday: Weekday) -> bool {
    matches!(weekday, Weekday::Sat | Weekday::Sun)
}
