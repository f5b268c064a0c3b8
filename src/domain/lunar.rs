//! The Vietnamese lunar calendar (âm lịch): lunar new year (Tết) and conversions between
//! solar and lunar dates, for the holidays the Labor Code sets by the lunar calendar.
//!
//! The astronomy is ICU4X's `calendrical_calculations` (Reingold & Dershowitz, *Calendrical
//! Calculations*, with Meeus's solar-longitude and new-moon formulas). The Vietnamese calendar
//! follows the same rules as the Chinese one (a month starts on the local day of the new
//! moon; month 11 holds the winter solstice; the leap month is the first without a major
//! solar term) but observes them at UTC+7, Vietnam's zone, since 1968; before that the
//! Chinese UTC+8 was used (Hồ Ngọc Đức, "Âm lịch Việt Nam", vncal.html and calrules.html,
//! <https://www.informatik.uni-leipzig.de/~duc/amlich/>; Reingold & Dershowitz's
//! `vietnamese-location`). That is why the two calendars differ in some years: Tết 1985
//! fell on 21/01 in Vietnam and 20/02 in China, Tết 2007 on 17/02 and 18/02, Tết 2030 on
//! 02/02 and 03/02. Pure: no I/O.

use calendrical_calculations::chinese_based::{ChineseBased, YearBounds, month_structure_for_year};
use calendrical_calculations::gregorian::fixed_from_gregorian;
use calendrical_calculations::rata_die::RataDie;
use chrono::{Datelike, NaiveDate};

/// The calendar's years this module answers for: the zone rule is known from 1968, and the
/// results were checked against Hồ Ngọc Đức's published tables up to 2199.
pub const YEARS: std::ops::RangeInclusive<i32> = 1968..=2199;

/// The Vietnamese lunisolar calendar as a `calendrical_calculations` Chinese-based calendar.
struct Vietnamese;

impl ChineseBased for Vietnamese {
    fn utc_offset(fixed: RataDie) -> f64 {
        if fixed < const { fixed_from_gregorian(1968, 1, 1) } {
            8.0 / 24.0
        } else {
            7.0 / 24.0
        }
    }

    /// Only used for the crate's own year count, which this module does not expose.
    const EPOCH: RataDie = fixed_from_gregorian(-2636, 2, 15);
    const DEBUG_NAME: &'static str = "vietnamese";
}

/// A date of the lunar calendar. `year` is the solar year in which that lunar year began
/// (the year of its Tết): 30/12 of lunar year 2022 is 21/01/2023.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LunarDate {
    pub year: i32,
    /// 1–12.
    pub month: u8,
    /// Whether the month is the leap month (tháng nhuận) that follows `month`.
    pub leap: bool,
    /// 1–30.
    pub day: u8,
}

// chrono's day count from 0001-01-01 (day 1) is the Rata Die count of the crate.
fn rd(date: NaiveDate) -> RataDie {
    RataDie::new(i64::from(date.num_days_from_ce()))
}

fn date_of(fixed: RataDie) -> Option<NaiveDate> {
    i32::try_from(fixed.to_i64_date())
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

/// One lunar year: its first day, whether each month (in order, the leap month at its
/// place) has 30 days, and the order number (1-based) of its leap month.
struct Year {
    year: i32,
    new_year: RataDie,
    long_months: [bool; 13],
    months: u8,
    leap: Option<u8>,
}

impl Year {
    /// The lunar year that contains `fixed`, when it began in a year of [`YEARS`].
    fn containing(fixed: RataDie) -> Option<Year> {
        let b = YearBounds::compute::<Vietnamese>(fixed);
        let year = date_of(b.new_year)?.year();
        if !YEARS.contains(&year) {
            return None;
        }
        // Month lengths and the leap month come from one walk over the new moons, so that
        // both directions of the conversion agree (the crate's separate leap-month search
        // disagrees with this walk in rare years such as 2033).
        let (long_months, leap) =
            month_structure_for_year::<Vietnamese>(b.new_year, b.next_new_year);
        Some(Year {
            year,
            new_year: b.new_year,
            long_months,
            months: 12 + u8::from(leap.is_some()),
            leap,
        })
    }

    /// The lunar year that began in solar `year`. 1 June always lies inside it: Tết falls
    /// between 21/01 and 20/02.
    fn of(year: i32) -> Option<Year> {
        if !YEARS.contains(&year) {
            return None;
        }
        Year::containing(fixed_from_gregorian(year, 6, 1)).filter(|y| y.year == year)
    }

    fn length(&self, ordinal: u8) -> i64 {
        let long = self
            .long_months
            .get(usize::from(ordinal.saturating_sub(1)))
            .copied()
            .unwrap_or(false);
        if long { 30 } else { 29 }
    }

    /// (month, leap) of the month with this order number.
    fn month_of(&self, ordinal: u8) -> (u8, bool) {
        match self.leap {
            Some(l) if ordinal == l => (ordinal - 1, true),
            Some(l) if ordinal > l => (ordinal - 1, false),
            _ => (ordinal, false),
        }
    }
}

/// The first day of the lunar year that begins in `year` (mùng 1 Tết), or `None` outside
/// [`YEARS`].
pub fn new_year(year: i32) -> Option<NaiveDate> {
    Year::of(year).and_then(|y| date_of(y.new_year))
}

/// The solar date of a lunar date, or `None` when it does not exist (a leap month the year
/// does not have, day 30 of a 29-day month, a year outside [`YEARS`]).
pub fn to_solar(lunar: LunarDate) -> Option<NaiveDate> {
    if !(1..=12).contains(&lunar.month) || !(1..=30).contains(&lunar.day) {
        return None;
    }
    let y = Year::of(lunar.year)?;
    let ordinal = (1..=y.months).find(|o| y.month_of(*o) == (lunar.month, lunar.leap))?;
    if i64::from(lunar.day) > y.length(ordinal) {
        return None;
    }
    let start: i64 = (1..ordinal).map(|o| y.length(o)).sum();
    date_of(y.new_year + start + i64::from(lunar.day) - 1)
}

/// The lunar date of a solar date, or `None` outside [`YEARS`] (by the lunar year).
pub fn from_solar(date: NaiveDate) -> Option<LunarDate> {
    let y = Year::containing(rd(date))?;
    let mut offset = rd(date) - y.new_year;
    for ordinal in 1..=y.months {
        let len = y.length(ordinal);
        if offset < len {
            let (month, leap) = y.month_of(ordinal);
            return Some(LunarDate {
                year: y.year,
                month,
                leap,
                day: u8::try_from(offset + 1).ok()?,
            });
        }
        offset -= len;
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn lunar(year: i32, month: u8, day: u8) -> LunarDate {
        LunarDate {
            year,
            month,
            leap: false,
            day,
        }
    }

    /// Tết in Vietnam, 2000–2035: the first days of the lunar years in Hồ Ngọc Đức's
    /// published year tables (amlich-hnd.js, table TK21, "Âm lịch Việt Nam",
    /// <https://www.informatik.uni-leipzig.de/~duc/amlich/>), which reproduce the official
    /// calendar. 2007 and 2030 differ from the Chinese calendar (18/02/2007, 03/02/2030).
    const TET: [(i32, u32, u32); 36] = [
        (2000, 2, 5),
        (2001, 1, 24),
        (2002, 2, 12),
        (2003, 2, 1),
        (2004, 1, 22),
        (2005, 2, 9),
        (2006, 1, 29),
        (2007, 2, 17),
        (2008, 2, 7),
        (2009, 1, 26),
        (2010, 2, 14),
        (2011, 2, 3),
        (2012, 1, 23),
        (2013, 2, 10),
        (2014, 1, 31),
        (2015, 2, 19),
        (2016, 2, 8),
        (2017, 1, 28),
        (2018, 2, 16),
        (2019, 2, 5),
        (2020, 1, 25),
        (2021, 2, 12),
        (2022, 2, 1),
        (2023, 1, 22),
        (2024, 2, 10),
        (2025, 1, 29),
        (2026, 2, 17),
        (2027, 2, 6),
        (2028, 1, 26),
        (2029, 2, 13),
        (2030, 2, 2),
        (2031, 1, 23),
        (2032, 2, 11),
        (2033, 1, 31),
        (2034, 2, 19),
        (2035, 2, 8),
    ];

    #[test]
    fn tet_2000_to_2035_matches_the_vietnamese_tables() {
        for (y, m, d) in TET {
            let tet = date(y, m, d);
            assert_eq!(new_year(y), Some(tet), "Tết {y}");
            assert_eq!(from_solar(tet), Some(lunar(y, 1, 1)), "{tet}");
            assert_eq!(to_solar(lunar(y, 1, 1)), Some(tet), "{y}");
            // The day before is the last day (29 or 30) of month 12 of the previous year.
            let eve = from_solar(tet.pred_opt().unwrap()).unwrap();
            assert_eq!((eve.year, eve.month, eve.leap), (y - 1, 12, false), "{tet}");
            assert!(eve.day == 29 || eve.day == 30, "{eve:?}");
        }
    }

    #[test]
    fn vietnam_and_china_differ_where_the_zone_decides() {
        // Hồ Ngọc Đức, vncal.html and histcal.html: Tết Ất Sửu 1985 fell a month apart
        // (Vietnam 21/01, China 20/02), Tết Mậu Thân 1968 a day apart (29/01 and 30/01).
        assert_eq!(new_year(1985), Some(date(1985, 1, 21)));
        assert_eq!(new_year(1968), Some(date(1968, 1, 29)));
        // Before 1968 the UTC+8 rule applies; outside the supported range, nothing.
        assert_eq!(new_year(1967), None);
        assert_eq!(new_year(2200), None);
        assert_eq!(from_solar(date(1900, 6, 1)), None);
    }

    #[test]
    fn hung_kings_day_is_the_tenth_of_the_third_month() {
        for (y, m, d) in [(2023, 4, 29), (2024, 4, 18), (2025, 4, 7), (2026, 4, 26)] {
            assert_eq!(to_solar(lunar(y, 3, 10)), Some(date(y, m, d)), "{y}");
            assert_eq!(from_solar(date(y, m, d)), Some(lunar(y, 3, 10)));
        }
        // 2023 has a leap second month (22/03–19/04/2023), so month 3 starts 20/04.
        assert_eq!(
            from_solar(date(2023, 3, 22)),
            Some(LunarDate {
                year: 2023,
                month: 2,
                leap: true,
                day: 1
            })
        );
        assert_eq!(to_solar(lunar(2023, 3, 1)), Some(date(2023, 4, 20)));
        // 2025 has a leap sixth month, from 25/07/2025.
        let leap6 = LunarDate {
            year: 2025,
            month: 6,
            leap: true,
            day: 1,
        };
        assert_eq!(to_solar(leap6), Some(date(2025, 7, 25)));
        assert_eq!(from_solar(date(2025, 7, 25)), Some(leap6));
    }

    #[test]
    fn dates_that_do_not_exist_are_none() {
        let no_leap = LunarDate {
            year: 2024,
            month: 3,
            leap: true,
            day: 1,
        };
        assert_eq!(to_solar(no_leap), None);
        assert_eq!(to_solar(lunar(2024, 13, 1)), None);
        assert_eq!(to_solar(lunar(2024, 1, 0)), None);
        // Month 12 of Giáp Thìn (2024) has 29 days: Tết Ất Tỵ came without a "30 Tết".
        assert_eq!(to_solar(lunar(2024, 12, 29)), Some(date(2025, 1, 28)));
        assert_eq!(to_solar(lunar(2024, 12, 30)), None);
        assert_eq!(to_solar(lunar(2023, 12, 30)), Some(date(2024, 2, 9)));
    }

    #[test]
    fn the_2033_leap_month_is_the_eleventh() {
        // The "2033 problem": the leap month is the 11th (from 22/12/2033), as in Hồ Ngọc
        // Đức's tables, not the 7th or 8th that a naive search finds.
        let day1 = |month, leap| LunarDate {
            year: 2033,
            month,
            leap,
            day: 1,
        };
        assert_eq!(from_solar(date(2033, 9, 23)), Some(day1(9, false)));
        assert_eq!(from_solar(date(2033, 11, 22)), Some(day1(11, false)));
        assert_eq!(from_solar(date(2033, 12, 22)), Some(day1(11, true)));
        assert_eq!(to_solar(day1(11, true)), Some(date(2033, 12, 22)));
        assert_eq!(from_solar(date(2034, 1, 20)), Some(day1(12, false)));
        assert_eq!(to_solar(day1(7, true)), None);
    }

    #[test]
    fn solar_lunar_solar_round_trips_for_every_day_2023_to_2027() {
        let mut d = date(2023, 1, 1);
        let mut prev: Option<LunarDate> = None;
        while d < date(2028, 1, 1) {
            let l = from_solar(d).unwrap();
            assert_eq!(to_solar(l), Some(d), "{d} {l:?}");
            // Consecutive days: the day grows by one, or a month starts at day 1.
            if let Some(p) = prev {
                assert!(l.day == p.day + 1 || l.day == 1, "{d}: {p:?} → {l:?}");
            }
            prev = Some(l);
            d = d.succ_opt().unwrap();
        }
    }
}
