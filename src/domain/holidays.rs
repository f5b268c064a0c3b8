//! Provisional days off for a year that has no holiday decision yet, derived from the Labor
//! Code (Bộ luật Lao động 2019) Điều 112 khoản 1 and Điều 111 khoản 3. The government fixes
//! the Tết and Quốc khánh days each year (Điều 112 khoản 3) and may swap working days; until
//! its decision is entered, these days keep due times from running through Tết. Pure.
//!
//! The choices where the law leaves the day open (docs/deadlines.md, "Years without a
//! holiday decision") reproduce every civil-servant decision of 2023–2026, swaps aside:
//! - **Tết (5 days)**: the last two days of the lunar year and the first three of the new
//!   one; each of them that falls on a Saturday or Sunday moves to the next working day.
//!   That is the five weekdays from the first weekday among the last two days of the year.
//! - **Quốc khánh (2/9 and one adjacent day)**: the adjacent day that joins the holiday to a
//!   weekend: 3/9 when 2/9 is a Sunday, Monday or Thursday, 1/9 otherwise.
//! - **Nghỉ bù**: a holiday on a Saturday or Sunday gives the next working day off, in date
//!   order, skipping days already off.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, TimeDelta, Weekday};

use super::calendar::data::{DayKind, SpecialDay};
use super::lunar::{self, LunarDate};

/// The years provisional days are derived for: from 2021, when the Labor Code 2019 came into
/// force (the 2012 code gave one day for Quốc khánh), to 2100.
pub const YEARS: std::ops::RangeInclusive<i32> = 2021..=2100;

/// Every provisional `source` starts with this, so that a reader of the data sees it.
pub const PROVISIONAL: &str = "Tạm tính theo Bộ luật Lao động 2019, chưa có lịch nghỉ công bố";

const WEEKEND_INSIDE: &str = "ngày nghỉ hằng tuần nằm trong kỳ nghỉ (Điều 111)";

/// One occasion of Điều 112 khoản 1: the name of its days and the clause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Occasion {
    name: &'static str,
    /// The name of the weekend days inside its run, and of a run it shares.
    run_name: &'static str,
    clause: &'static str,
}

const NEW_YEAR: Occasion = Occasion {
    name: "Tết Dương lịch",
    run_name: "Tết Dương lịch",
    clause: "Điều 112 khoản 1 điểm a",
};
const TET: Occasion = Occasion {
    name: "Tết Nguyên đán",
    run_name: "Tết Nguyên đán",
    clause: "Điều 112 khoản 1 điểm b và khoản 3 (5 ngày; tạm tính: 2 ngày cuối năm âm lịch và \
             3 ngày đầu năm mới, ngày trùng thứ Bảy, Chủ nhật được bù vào ngày làm việc kế tiếp)",
};
const HUNG_KINGS: Occasion = Occasion {
    name: "Giỗ Tổ Hùng Vương",
    run_name: "Giỗ Tổ Hùng Vương",
    clause: "Điều 112 khoản 1 điểm e (10/3 âm lịch)",
};
const LIBERATION: Occasion = Occasion {
    name: "Ngày Giải phóng miền Nam",
    run_name: "Ngày Giải phóng miền Nam và Quốc tế Lao động",
    clause: "Điều 112 khoản 1 điểm c",
};
const LABOUR: Occasion = Occasion {
    name: "Quốc tế Lao động",
    run_name: "Ngày Giải phóng miền Nam và Quốc tế Lao động",
    clause: "Điều 112 khoản 1 điểm d",
};
const NATIONAL: Occasion = Occasion {
    name: "Quốc khánh",
    run_name: "Quốc khánh",
    clause: "Điều 112 khoản 1 điểm đ và khoản 3 (ngày 2/9 và 01 ngày liền kề trước hoặc sau; \
             tạm tính: ngày liền kề nối kỳ nghỉ với thứ Bảy, Chủ nhật)",
};

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn ymd(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

fn add_days(d: NaiveDate, n: i64) -> Option<NaiveDate> {
    d.checked_add_signed(TimeDelta::days(n))
}

/// The five Tết days off: the weekdays among the last two days of the lunar year that ends
/// before `tet`, then the following weekdays.
fn tet_days(tet: NaiveDate) -> Vec<NaiveDate> {
    let mut days = Vec::with_capacity(5);
    let mut d = add_days(tet, -2);
    while let Some(day) = d
        && days.len() < 5
    {
        if !is_weekend(day) {
            days.push(day);
        }
        d = day.succ_opt();
    }
    days
}

/// The day adjacent to 2/9 that is off with it (Điều 112 khoản 1 điểm đ).
fn national_day_pair(year: i32) -> Option<NaiveDate> {
    let second = ymd(year, 9, 2)?;
    match second.weekday() {
        Weekday::Sun | Weekday::Mon | Weekday::Thu => ymd(year, 9, 3),
        _ => ymd(year, 9, 1),
    }
}

fn source(clause: &str) -> String {
    format!("{PROVISIONAL}: Bộ luật Lao động 2019 {clause}")
}

/// The provisional days of `year` (sorted, one per date), or nothing outside [`YEARS`].
/// Computed once per process: the lunar astronomy is not free.
pub fn provisional_days(year: i32) -> &'static [SpecialDay] {
    static TABLE: OnceLock<Vec<Vec<SpecialDay>>> = OnceLock::new();
    let table = TABLE.get_or_init(|| YEARS.map(derive).collect());
    usize::try_from(year - YEARS.start())
        .ok()
        .filter(|_| YEARS.contains(&year))
        .and_then(|i| table.get(i))
        .map_or(&[], Vec::as_slice)
}

fn derive(year: i32) -> Vec<SpecialDay> {
    // (date, kind, name, source, the run's name for weekends inside it)
    let mut days: Vec<(NaiveDate, DayKind, String, String, &'static str)> = Vec::new();
    let holiday = |d: NaiveDate, o: Occasion| {
        (
            d,
            DayKind::Holiday,
            o.name.to_owned(),
            source(o.clause),
            o.run_name,
        )
    };

    let mut fixed: Vec<(NaiveDate, Occasion)> = Vec::new();
    fixed.extend(ymd(year, 1, 1).map(|d| (d, NEW_YEAR)));
    if let Some(d) = lunar::to_solar(LunarDate {
        year,
        month: 3,
        leap: false,
        day: 10,
    }) {
        fixed.push((d, HUNG_KINGS));
    }
    fixed.extend(ymd(year, 4, 30).map(|d| (d, LIBERATION)));
    fixed.extend(ymd(year, 5, 1).map(|d| (d, LABOUR)));
    fixed.extend(national_day_pair(year).map(|d| (d, NATIONAL)));
    fixed.extend(ymd(year, 9, 2).map(|d| (d, NATIONAL)));
    fixed.sort_by_key(|(d, _)| *d);

    // Tết's days are weekdays by construction (its rule already moves rest days), so Tết
    // is never owed a nghỉ bù.
    if let Some(tet) = lunar::new_year(year) {
        days.extend(tet_days(tet).into_iter().map(|d| holiday(d, TET)));
    }
    let mut taken: Vec<NaiveDate> = days.iter().map(|d| d.0).collect();
    let mut owed: Vec<(NaiveDate, Occasion)> = Vec::new();
    for (d, o) in fixed {
        // A holiday on a rest day, or on a day another holiday already holds, is owed.
        if is_weekend(d) || taken.contains(&d) {
            owed.push((d, o));
        }
        if !taken.contains(&d) {
            days.push(holiday(d, o));
            taken.push(d);
        }
    }
    for (d, o) in owed {
        let mut next = d.succ_opt();
        while let Some(c) = next
            && (is_weekend(c) || taken.contains(&c))
        {
            next = c.succ_opt();
        }
        if let Some(c) = next.filter(|c| c.year() == year) {
            days.push((
                c,
                DayKind::CompensatoryOff,
                format!("Nghỉ bù {}", o.name),
                format!(
                    "{PROVISIONAL}: Bộ luật Lao động 2019 Điều 111 khoản 3 (ngày lễ trùng ngày nghỉ \
                     hằng tuần thì được nghỉ bù vào ngày làm việc kế tiếp); {}",
                    o.clause
                ),
                o.run_name,
            ));
            taken.push(c);
        }
    }
    days.sort_by_key(|d| d.0);

    // Weekends between two days off of one run carry the run's name (as the shipped files
    // do), so that explanations say "Tết Nguyên đán (thứ Bảy)" rather than "thứ Bảy".
    let mut inside = Vec::new();
    for pair in days.windows(2) {
        if let [a, b] = pair {
            let mut d = a.0.succ_opt();
            let mut gap = Vec::new();
            while let Some(x) = d
                && x < b.0
            {
                gap.push(x);
                d = x.succ_opt();
            }
            if !gap.is_empty() && gap.iter().all(|x| is_weekend(*x)) {
                inside.extend(gap.into_iter().map(|x| {
                    (
                        x,
                        DayKind::Holiday,
                        a.4.to_owned(),
                        format!("{PROVISIONAL}: {WEEKEND_INSIDE}"),
                        a.4,
                    )
                }));
            }
        }
    }
    days.extend(inside);
    days.sort_by_key(|d| d.0);
    days.into_iter()
        .map(|(date, kind, name, source, _)| SpecialDay {
            date,
            kind,
            name,
            source,
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::domain::calendar::data::{CalendarFile, parse_calendar_file, validate_special_day};

    const SHIPPED: [&str; 4] = [
        include_str!("../../config/calendars/vn-2023.toml"),
        include_str!("../../config/calendars/vn-2024.toml"),
        include_str!("../../config/calendars/vn-2025.toml"),
        include_str!("../../config/calendars/vn-2026.toml"),
    ];

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// The weekdays off that a year's days give, without the swaps (a government choice).
    fn weekdays_off(days: &[SpecialDay]) -> Vec<(NaiveDate, DayKind)> {
        days.iter()
            .filter(|d| {
                !is_weekend(d.date) && matches!(d.kind, DayKind::Holiday | DayKind::CompensatoryOff)
            })
            .map(|d| (d.date, d.kind))
            .collect()
    }

    #[test]
    fn derived_holidays_match_the_decisions_2023_to_2026() {
        for text in SHIPPED {
            let file: CalendarFile = parse_calendar_file(text).unwrap();
            let derived = provisional_days(file.year);
            assert_eq!(
                weekdays_off(derived),
                weekdays_off(&file.days),
                "{}",
                file.year
            );
            // Every derived day off (weekends included) is off in the decision too.
            for d in derived {
                assert!(
                    file.days
                        .iter()
                        .any(|s| s.date == d.date && s.kind.is_off()),
                    "{}: {} is not off in the decision",
                    file.year,
                    d.date
                );
            }
        }
    }

    #[test]
    fn derived_2027() {
        let days = provisional_days(2027);
        let off = |d: NaiveDate| {
            days.iter()
                .find(|s| s.date == d)
                .map(|s| (s.kind, s.name.as_str()))
        };
        // Tết Đinh Mùi: mùng 1 is Saturday 06/02/2027; off Thu 04/02 – Wed 10/02.
        assert_eq!(lunar::new_year(2027), Some(date(2027, 2, 6)));
        for d in 4..=10 {
            assert_eq!(
                off(date(2027, 2, d)),
                Some((DayKind::Holiday, "Tết Nguyên đán")),
                "{d}/02"
            );
        }
        assert_eq!(off(date(2027, 2, 3)), None);
        assert_eq!(off(date(2027, 2, 11)), None);
        assert_eq!(
            off(date(2027, 1, 1)),
            Some((DayKind::Holiday, "Tết Dương lịch"))
        );
        // Giỗ Tổ: 10/3 Đinh Mùi is Friday 16/04/2027.
        assert_eq!(
            off(date(2027, 4, 16)),
            Some((DayKind::Holiday, "Giỗ Tổ Hùng Vương"))
        );
        // 1/5 is a Saturday: Monday 03/05 is the nghỉ bù, Sunday 02/05 sits inside the run.
        assert_eq!(
            off(date(2027, 5, 3)),
            Some((DayKind::CompensatoryOff, "Nghỉ bù Quốc tế Lao động"))
        );
        assert_eq!(
            off(date(2027, 5, 2)),
            Some((
                DayKind::Holiday,
                "Ngày Giải phóng miền Nam và Quốc tế Lao động"
            ))
        );
        // 2/9 is a Thursday: the adjacent day is Friday 03/09.
        assert_eq!(
            off(date(2027, 9, 3)),
            Some((DayKind::Holiday, "Quốc khánh"))
        );
        assert_eq!(off(date(2027, 9, 1)), None);
        assert_eq!(weekdays_off(days).len(), 1 + 5 + 1 + 1 + 1 + 2, "{days:#?}");
        for d in days {
            assert!(d.source.starts_with(PROVISIONAL), "{d:?}");
            assert_eq!(d.date.year(), 2027);
            validate_special_day(d).unwrap();
        }
    }

    #[test]
    fn every_year_has_eleven_statutory_days_off_on_weekdays() {
        for year in YEARS {
            let days = provisional_days(year);
            // 1 + 5 + 1 + 1 + 1 + 2 statutory days: each is a weekday off, or is owed one.
            let weekdays = weekdays_off(days).len();
            assert_eq!(weekdays, 11, "{year}: {days:#?}");
            let dates: Vec<NaiveDate> = days.iter().map(|d| d.date).collect();
            let mut sorted = dates.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(dates, sorted, "{year}: sorted, one entry a date");
            for d in days {
                validate_special_day(d).unwrap();
                assert_eq!(d.date.year(), year);
            }
        }
        assert!(provisional_days(2020).is_empty());
        assert!(provisional_days(2101).is_empty());
    }

    #[test]
    fn tet_and_national_day_rules_by_weekday() {
        // Tết on each weekday (2024 Sat, 2025 Wed, 2026 Tue, 2023 Sun, 2021 Fri, 2020 Sat,
        // 2016 Mon, 2015 Thu): the decisions of these years took these weekdays, swaps aside
        // (2023–2026 from the shipped files, 2020 from a provincial notice, the others from
        // memory: docs/deadlines.md).
        let cases = [
            (
                date(2024, 2, 10),
                [(2, 8), (2, 9), (2, 12), (2, 13), (2, 14)],
            ),
            (
                date(2025, 1, 29),
                [(1, 27), (1, 28), (1, 29), (1, 30), (1, 31)],
            ),
            (
                date(2026, 2, 17),
                [(2, 16), (2, 17), (2, 18), (2, 19), (2, 20)],
            ),
            (
                date(2023, 1, 22),
                [(1, 20), (1, 23), (1, 24), (1, 25), (1, 26)],
            ),
            (
                date(2021, 2, 12),
                [(2, 10), (2, 11), (2, 12), (2, 15), (2, 16)],
            ),
            (
                date(2020, 1, 25),
                [(1, 23), (1, 24), (1, 27), (1, 28), (1, 29)],
            ),
            (
                date(2016, 2, 8),
                [(2, 8), (2, 9), (2, 10), (2, 11), (2, 12)],
            ),
            (
                date(2015, 2, 19),
                [(2, 17), (2, 18), (2, 19), (2, 20), (2, 23)],
            ),
        ];
        for (tet, expected) in cases {
            let want: Vec<NaiveDate> = expected
                .iter()
                .map(|(m, d)| date(tet.year(), *m, *d))
                .collect();
            assert_eq!(tet_days(tet), want, "{tet}");
        }
        // Quốc khánh 2021 (Thu) → 3/9, 2022 (Fri) → 1/9, 2023 (Sat) → 1/9, 2024 (Mon) → 3/9,
        // 2025 (Tue) → 1/9, 2026 (Wed) → 1/9, 2027 (Thu) → 3/9, 2029 (Sun) → 3/9.
        for (year, day) in [
            (2021, 3),
            (2022, 1),
            (2023, 1),
            (2024, 3),
            (2025, 1),
            (2026, 1),
            (2027, 3),
            (2029, 3),
        ] {
            assert_eq!(national_day_pair(year), Some(date(year, 9, day)), "{year}");
        }
        // 2029: 2/9 is a Sunday, so Monday 03/09 is the pair and Tuesday 04/09 the nghỉ bù.
        let y29 = provisional_days(2029);
        let kind = |d| y29.iter().find(|s| s.date == d).map(|s| s.kind);
        assert_eq!(kind(date(2029, 9, 3)), Some(DayKind::Holiday));
        assert_eq!(kind(date(2029, 9, 4)), Some(DayKind::CompensatoryOff));
    }
}
