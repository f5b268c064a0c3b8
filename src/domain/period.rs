//! Statutory reporting periods (issue 13): month, quarter, 6 months, 9 months and year, either
//! as calendar periods or with the data cut-off of Nghị định 09/2019/NĐ-CP Art. 12, where a
//! period's figures run from the 15th of the month before it to the 14th of its last month.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;

/// How a preset's dates are cut.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cutoff {
    /// Calendar periods: 1 January – 31 March for 2024-Q1.
    #[default]
    Calendar,
    /// Nghị định 09/2019 Art. 12: 15 December 2023 – 14 March 2024 for 2024-Q1.
    Nd09,
}

impl Cutoff {
    pub fn parse(s: &str) -> Option<Cutoff> {
        match s {
            "calendar" => Some(Cutoff::Calendar),
            "nd09" => Some(Cutoff::Nd09),
            _ => None,
        }
    }
}

/// `2024-M03`, `2024-Q1`, `2024-H1`, `2024-9M` or `2024`: the first and last month.
fn months(preset: &str) -> Option<(i32, u32, u32)> {
    let (year, rest) = match preset.split_once('-') {
        Some((y, r)) => (y, Some(r)),
        None => (preset, None),
    };
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = year.parse().ok()?;
    let number = |s: &str, max: u32| {
        s.parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n) && s.bytes().all(|b| b.is_ascii_digit()))
    };
    let (first, last) = match rest {
        None => (1, 12),
        Some("9M") => (1, 9),
        Some(r) if r.len() == 3 && r.starts_with('M') => {
            let m = number(&r[1..], 12)?;
            (m, m)
        }
        Some(r) if r.len() == 2 && r.starts_with('Q') => {
            let q = number(&r[1..], 4)?;
            (3 * q - 2, 3 * q)
        }
        Some(r) if r.len() == 2 && r.starts_with('H') => {
            let h = number(&r[1..], 2)?;
            (6 * h - 5, 6 * h)
        }
        _ => return None,
    };
    Some((year, first, last))
}

fn last_day(year: i32, month: u32) -> Option<NaiveDate> {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt()
}

/// The first and last local date of a preset; `None` for a preset not understood.
pub fn preset_dates(preset: &str, cutoff: Cutoff) -> Option<(NaiveDate, NaiveDate)> {
    let (year, first, last) = months(preset)?;
    match cutoff {
        Cutoff::Calendar => Some((
            NaiveDate::from_ymd_opt(year, first, 1)?,
            last_day(year, last)?,
        )),
        Cutoff::Nd09 => {
            let from = if first == 1 {
                NaiveDate::from_ymd_opt(year - 1, 12, 15)?
            } else {
                NaiveDate::from_ymd_opt(year, first - 1, 15)?
            };
            Some((from, NaiveDate::from_ymd_opt(year, last, 14)?))
        }
    }
}

/// The months (first day of each) that a period touches, for the chart by month.
pub fn months_between(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut m = from.with_day(1);
    while let Some(d) = m {
        if d > to || out.len() >= 240 {
            break;
        }
        out.push(d);
        m = last_day(d.year(), d.month()).and_then(|l| l.succ_opt());
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn calendar_presets() {
        let c = Cutoff::Calendar;
        assert_eq!(
            preset_dates("2024-M03", c),
            Some((d(2024, 3, 1), d(2024, 3, 31)))
        );
        assert_eq!(
            preset_dates("2024-M02", c),
            Some((d(2024, 2, 1), d(2024, 2, 29)))
        );
        assert_eq!(
            preset_dates("2024-Q1", c),
            Some((d(2024, 1, 1), d(2024, 3, 31)))
        );
        assert_eq!(
            preset_dates("2024-Q4", c),
            Some((d(2024, 10, 1), d(2024, 12, 31)))
        );
        assert_eq!(
            preset_dates("2024-H1", c),
            Some((d(2024, 1, 1), d(2024, 6, 30)))
        );
        assert_eq!(
            preset_dates("2024-H2", c),
            Some((d(2024, 7, 1), d(2024, 12, 31)))
        );
        assert_eq!(
            preset_dates("2024-9M", c),
            Some((d(2024, 1, 1), d(2024, 9, 30)))
        );
        assert_eq!(
            preset_dates("2024", c),
            Some((d(2024, 1, 1), d(2024, 12, 31)))
        );
    }

    #[test]
    fn decree_09_cut_off_dates() {
        let n = Cutoff::Nd09;
        assert_eq!(
            preset_dates("2024-M03", n),
            Some((d(2024, 2, 15), d(2024, 3, 14)))
        );
        assert_eq!(
            preset_dates("2024-M01", n),
            Some((d(2023, 12, 15), d(2024, 1, 14)))
        );
        assert_eq!(
            preset_dates("2024-Q1", n),
            Some((d(2023, 12, 15), d(2024, 3, 14)))
        );
        assert_eq!(
            preset_dates("2024-Q3", n),
            Some((d(2024, 6, 15), d(2024, 9, 14)))
        );
        assert_eq!(
            preset_dates("2024-H1", n),
            Some((d(2023, 12, 15), d(2024, 6, 14)))
        );
        assert_eq!(
            preset_dates("2024-H2", n),
            Some((d(2024, 6, 15), d(2024, 12, 14)))
        );
        assert_eq!(
            preset_dates("2024-9M", n),
            Some((d(2023, 12, 15), d(2024, 9, 14)))
        );
        assert_eq!(
            preset_dates("2024", n),
            Some((d(2023, 12, 15), d(2024, 12, 14)))
        );
    }

    #[test]
    fn presets_not_understood() {
        for bad in [
            "", "24", "2024-", "2024-M13", "2024-M3", "2024-M00", "2024-Q5", "2024-Q0", "2024-H3",
            "2024-8M", "2024-q1", "abcd", "2024-M+1", "+2024",
        ] {
            assert_eq!(preset_dates(bad, Cutoff::Calendar), None, "{bad}");
        }
        assert_eq!(Cutoff::parse("nd09"), Some(Cutoff::Nd09));
        assert_eq!(Cutoff::parse("ND09"), None);
    }

    #[test]
    fn months_of_a_period() {
        assert_eq!(
            months_between(d(2023, 12, 15), d(2024, 3, 14)),
            vec![d(2023, 12, 1), d(2024, 1, 1), d(2024, 2, 1), d(2024, 3, 1)]
        );
        assert_eq!(
            months_between(d(2024, 3, 1), d(2024, 3, 31)),
            vec![d(2024, 3, 1)]
        );
    }
}
