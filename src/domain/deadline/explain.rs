//! The day-by-day explanation of a due time: each local day the computation touched, how much
//! working time it gave and why (the `GET /api/v1/calendar/due` answer).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::*;

/// The day-by-day explanation of a due time (`GET /api/v1/calendar/due`). Times are in
/// the agency's zone (RFC 3339 with offset when serialised).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub start: DateTime<FixedOffset>,
    pub effective_start: DateTime<FixedOffset>,
    pub due_at: DateTime<FixedOffset>,
    pub duration: Duration,
    /// Every local date from the start's date to the due date, in order.
    pub days: Vec<ExplainedDay>,
    /// Years touched by the explanation that have no calendar data (counted with weekends
    /// only): the caller should warn.
    pub years_without_data: Vec<i32>,
    /// Years touched whose days off are provisional, derived from the Labor Code until the
    /// holiday decision is entered.
    pub provisional_years: Vec<i32>,
}

/// The note on each day of a year without a holiday decision.
pub const PROVISIONAL_VI: &str = "tạm tính theo Bộ luật Lao động (chưa có lịch nghỉ công bố)";
pub const PROVISIONAL_EN: &str = "provisional, from the Labor Code (no holiday decision yet)";

/// One local date of an [`Explanation`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainedDay {
    pub date: NaiveDate,
    /// Whether the day counts toward the duration. `working_days`: the N working days after
    /// the (effective) start day; `calendar_days`: the N days after it; `working_hours`:
    /// days on which working time was used; `same_day`: the due day.
    pub counted: bool,
    /// 1-based number of the counted day (`counted` days only).
    pub ordinal: Option<u32>,
    /// Working time of this date inside `[effective_start, due_at)`, in whole minutes.
    pub working_minutes: u32,
    /// Machine reason: `working_day`, `weekend`, `holiday`, `compensatory_off`,
    /// `swapped_off`, `makeup_workday`, `makeup_not_counted`, `outside_office_hours`.
    pub kind: DayReason,
    /// The special day's name, if any ("Tết Nguyên đán").
    pub name: Option<String>,
    /// The year has no holiday decision yet: whether this day is off comes from the Labor
    /// Code, and the reason says so.
    pub provisional: bool,
    /// Vietnamese reason, e.g. "nghỉ lễ: Tết Nguyên đán", "làm bù thứ Bảy: …; hạn trả 10:00".
    pub reason: String,
    /// The same in English.
    pub reason_en: String,
}

fn fmt_hm(ns: i64) -> String {
    let secs = ns / NS_PER_SEC;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if s == 0 {
        format!("{h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

fn fmt_minutes_vi(minutes: i64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} phút"),
        (h, 0) => format!("{h} giờ"),
        (h, m) => format!("{h} giờ {m} phút"),
    }
}

fn fmt_minutes_en(minutes: i64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// Explains `due(cal, start, d)` day by day.
pub fn explain(cal: &Calendar, start: DateTime<Utc>, d: Duration) -> Explanation {
    let tz = cal.settings().timezone();
    let (ls, off) = to_local(tz, start);
    let r = roll(cal, ls);
    let end = due_local(cal, r, d);
    let effective_start = if r == ls { start } else { to_utc(tz, r, off) };
    let due_at = to_utc(tz, end, off);
    let n = d.clamped_value();
    let cutoff = fmt_hm(cal.cutoff_ns);
    let date_of = |dn: i32| NaiveDate::from_num_days_from_ce_opt(dn);

    let mut days = Vec::new();
    let mut ordinal = 0u32;
    for dn in ls.day..=end.day {
        let Some(date) = date_of(dn) else { continue };
        let status = cal.day_status(date);
        let used_ns = if status.working && dn >= r.day {
            let lo = if dn == r.day { r.ns } else { 0 };
            let hi = if dn == end.day { end.ns } else { NS_PER_DAY };
            day_overlap(cal, lo, hi)
        } else {
            0
        };
        let counted = match d.unit {
            DurationUnit::WorkingDays => dn > r.day && status.working,
            DurationUnit::CalendarDays => {
                dn > r.day && i64::from(dn) <= i64::from(r.day) + i64::from(n)
            }
            DurationUnit::WorkingHours => used_ns > 0,
            DurationUnit::SameDay => dn == end.day,
        };
        let this_ordinal = counted.then(|| {
            ordinal += 1;
            ordinal
        });

        let mut kind = status.reason;
        let mut base_vi = status.label_vi();
        let mut base_en = status.label_en();
        let mut vi: Vec<String> = Vec::new();
        let mut en: Vec<String> = Vec::new();
        if dn == ls.day {
            let at = fmt_hm(ls.ns);
            if r == ls {
                vi.push(format!("tiếp nhận lúc {at}"));
                en.push(format!("received at {at}"));
            } else if r.day > ls.day {
                if status.working {
                    kind = DayReason::OutsideOfficeHours;
                    base_vi = "ngoài giờ hành chính".to_owned();
                    base_en = "outside office hours".to_owned();
                }
                let from_vi = date_of(r.day).map_or_else(String::new, |rd| {
                    format!("{} {}", weekday_vi(rd.weekday()), rd.format("%d/%m/%Y"))
                });
                let from_en = date_of(r.day).map_or_else(String::new, |rd| rd.to_string());
                vi.push(format!(
                    "tiếp nhận lúc {at}; tính từ {} {from_vi}",
                    fmt_hm(r.ns)
                ));
                en.push(format!(
                    "received at {at}; counted from {} on {from_en}",
                    fmt_hm(r.ns)
                ));
            } else {
                vi.push(format!(
                    "tiếp nhận lúc {at}, ngoài giờ hành chính; tính từ {}",
                    fmt_hm(r.ns)
                ));
                en.push(format!(
                    "received at {at}, outside office hours; counted from {}",
                    fmt_hm(r.ns)
                ));
            }
        }
        if dn == r.day && dn != ls.day {
            vi.push(format!("bắt đầu tính từ {}", fmt_hm(r.ns)));
            en.push(format!("counting starts at {}", fmt_hm(r.ns)));
        }
        if d.unit == DurationUnit::SameDay && dn == r.day && r.ns >= cal.cutoff_ns {
            vi.push(format!(
                "tiếp nhận từ {cutoff} trở đi: hẹn trả cuối ngày làm việc tiếp theo"
            ));
            en.push(format!(
                "received at or after the {cutoff} cut-off: due at the close of the next working day"
            ));
        }
        if let Some(k) = this_ordinal {
            match d.unit {
                DurationUnit::WorkingDays | DurationUnit::CalendarDays => {
                    vi.push(format!("ngày thứ {k}/{n}"));
                    en.push(format!("day {k} of {n}"));
                }
                DurationUnit::WorkingHours => {
                    let minutes = used_ns / NS_PER_MIN;
                    vi.push(format!("tính {}", fmt_minutes_vi(minutes)));
                    en.push(format!("{} counted", fmt_minutes_en(minutes)));
                }
                DurationUnit::SameDay => {}
            }
        }
        if d.unit == DurationUnit::CalendarDays
            && n > 0
            && i64::from(dn) == i64::from(r.day) + i64::from(n)
            && dn != end.day
        {
            vi.push(format!(
                "ngày thứ {n} không phải ngày làm việc: hạn chuyển sang ngày làm việc tiếp theo"
            ));
            en.push(format!(
                "day {n} is not a working day: the due time moves to the next working day"
            ));
        }
        if dn == end.day {
            vi.push(format!("hạn trả {}", fmt_hm(end.ns)));
            en.push(format!("due at {}", fmt_hm(end.ns)));
        }
        if status.provisional {
            vi.push(PROVISIONAL_VI.to_owned());
            en.push(PROVISIONAL_EN.to_owned());
        }
        let join = |base: String, notes: Vec<String>| {
            if notes.is_empty() {
                base
            } else {
                format!("{base}; {}", notes.join("; "))
            }
        };
        days.push(ExplainedDay {
            date,
            counted,
            ordinal: this_ordinal,
            working_minutes: u32::try_from(used_ns / NS_PER_MIN).unwrap_or(u32::MAX),
            kind,
            name: status.name.clone(),
            provisional: status.provisional,
            reason: join(base_vi, vi),
            reason_en: join(base_en, en),
        });
    }

    let first_year = date_of(ls.day).map_or(0, |x| x.year());
    let last_year = date_of(end.day).map_or(first_year, |x| x.year());
    let years_without_data = (first_year..=last_year)
        .filter(|y| !cal.has_year(*y))
        .collect();
    let provisional_years = (first_year..=last_year)
        .filter(|y| cal.is_provisional_year(*y))
        .collect();
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).fixed_offset();
    Explanation {
        start: local(start),
        effective_start: local(effective_start),
        due_at: local(due_at),
        duration: d,
        days,
        years_without_data,
        provisional_years,
    }
}
