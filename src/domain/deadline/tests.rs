//! Golden cases worked out by hand over the shipped 2024–2026 calendar, and property tests.
//! Times in the comments are local (Asia/Ho_Chi_Minh, UTC+7); sessions 07:30–11:30 and
//! 13:00–17:00 (8 h a day), same-day cut-off 15:00, make-up days counted unless "off".
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::*;
use crate::domain::calendar::{
    Calendar, DayKind, DayReason, SpecialDay, WorkingTimeSettings, parse_calendar_file,
};
use crate::domain::timeliness::{Timeliness, timeliness};

const TZ: Tz = chrono_tz::Asia::Ho_Chi_Minh;

const FILES: [&str; 3] = [
    include_str!("../../../config/calendars/vn-2024.toml"),
    include_str!("../../../config/calendars/vn-2025.toml"),
    include_str!("../../../config/calendars/vn-2026.toml"),
];

static CAL: LazyLock<Calendar> = LazyLock::new(|| {
    let days = FILES
        .into_iter()
        .flat_map(|t| parse_calendar_file(t).unwrap().days);
    Calendar::new(days, WorkingTimeSettings::default())
});

/// The same calendar with `calendar.count_makeup_days = false`.
static CAL_OFF: LazyLock<Calendar> = LazyLock::new(|| {
    CAL.with_settings(WorkingTimeSettings::default().with_count_makeup_days(false))
});

fn cal() -> &'static Calendar {
    &CAL
}

fn off() -> &'static Calendar {
    &CAL_OFF
}

/// A local (UTC+7) wall-clock time as UTC.
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

fn show(t: DateTime<Utc>) -> String {
    t.with_timezone(&TZ)
        .format("%a %Y-%m-%d %H:%M:%S")
        .to_string()
}

#[track_caller]
fn check(
    cal: &Calendar,
    start: DateTime<Utc>,
    d: Duration,
    eff: DateTime<Utc>,
    due_at: DateTime<Utc>,
) {
    let got = due(cal, start, d);
    assert_eq!(
        (show(got.effective_start), show(got.due_at)),
        (show(eff), show(due_at)),
        "start {} + {d}",
        show(start)
    );
    // The explanation agrees with `due`.
    let ex = explain(cal, start, d);
    assert_eq!(ex.effective_start, eff.with_timezone(&TZ).fixed_offset());
    assert_eq!(ex.due_at, due_at.with_timezone(&TZ).fixed_offset());
}

const fn wd(n: u32) -> Duration {
    Duration::working_days(n)
}
const fn wh(n: u32) -> Duration {
    Duration::working_hours(n)
}
const fn cd(n: u32) -> Duration {
    Duration::calendar_days(n)
}
const SAME: Duration = Duration::same_day();

// ---------------------------------------------------------------- golden: working_days

#[test]
fn g01_design_example_monday_plus_three() {
    // Mon 04/03/2024 10:00 (no special days that week): Tue 1, Wed 2, Thu 3 → Thu 10:00.
    let s = vn(2024, 3, 4, 10, 0);
    check(cal(), s, wd(3), s, vn(2024, 3, 7, 10, 0));
}

#[test]
fn g02_tet_2024_received_the_day_before() {
    // Wed 07/02/2024 10:00; Tết 08/02–14/02 off (Sat 10, Sun 11 inside).
    // Thu 15/02 = 1, Fri 16/02 = 2, Sat/Sun, Mon 19/02 = 3 → Mon 19/02 10:00.
    let s = vn(2024, 2, 7, 10, 0);
    check(cal(), s, wd(3), s, vn(2024, 2, 19, 10, 0));
}

#[test]
fn g03_tet_2025_received_friday_afternoon() {
    // Fri 24/01/2025 16:00 is a working day; Tết 25/01–02/02 off.
    // Mon 03/02 = 1 … Fri 07/02 = 5 → Fri 07/02 16:00.
    let s = vn(2025, 1, 24, 16, 0);
    check(cal(), s, wd(5), s, vn(2025, 2, 7, 16, 0));
}

#[test]
fn g04_tet_2026_ten_working_days() {
    // Fri 13/02/2026 09:00; Tết 14/02–22/02 off.
    // Mon 23/02 = 1 … Fri 27/02 = 5, Mon 02/03 = 6 … Fri 06/03 = 10 → Fri 06/03 09:00.
    let s = vn(2026, 2, 13, 9, 0);
    check(cal(), s, wd(10), s, vn(2026, 3, 6, 9, 0));
}

#[test]
fn g05_received_during_tet_2026() {
    // Wed 18/02/2026 09:00 is Tết: counts from the next opening, Mon 23/02 07:30;
    // one working day later, same time: Tue 24/02 07:30.
    check(
        cal(),
        vn(2026, 2, 18, 9, 0),
        wd(1),
        vn(2026, 2, 23, 7, 30),
        vn(2026, 2, 24, 7, 30),
    );
}

#[test]
fn g06_makeup_saturday_2024_05_04_on_and_off() {
    // Thu 02/05/2024 10:00 + 2: Fri 03/05 = 1; Sat 04/05 is the make-up day:
    // on → it is day 2 (Sat 04/05 10:00); off → Mon 06/05 = 2 (10:00).
    let s = vn(2024, 5, 2, 10, 0);
    check(cal(), s, wd(2), s, vn(2024, 5, 4, 10, 0));
    check(off(), s, wd(2), s, vn(2024, 5, 6, 10, 0));
}

#[test]
fn g07_makeup_saturday_2025_04_26_on_and_off() {
    // Fri 25/04/2025 14:00 + 1: on → Sat 26/04 14:00; off → Mon 28/04 14:00.
    let s = vn(2025, 4, 25, 14, 0);
    check(cal(), s, wd(1), s, vn(2025, 4, 26, 14, 0));
    check(off(), s, wd(1), s, vn(2025, 4, 28, 14, 0));
}

#[test]
fn g08_makeup_saturday_2026_01_10_on_and_off() {
    // Fri 09/01/2026 08:00 + 1: on → Sat 10/01 08:00; off → Mon 12/01 08:00.
    let s = vn(2026, 1, 9, 8, 0);
    check(cal(), s, wd(1), s, vn(2026, 1, 10, 8, 0));
    check(off(), s, wd(1), s, vn(2026, 1, 12, 8, 0));
}

#[test]
fn g09_makeup_saturday_2026_08_22_on_and_off() {
    // Fri 21/08/2026 10:00 + 3: on → Sat 22 = 1, Mon 24 = 2, Tue 25 = 3 (10:00);
    // off → Mon 24 = 1, Tue 25 = 2, Wed 26 = 3 (10:00).
    let s = vn(2026, 8, 21, 10, 0);
    check(cal(), s, wd(3), s, vn(2026, 8, 25, 10, 0));
    check(off(), s, wd(3), s, vn(2026, 8, 26, 10, 0));
}

#[test]
fn g10_received_on_a_makeup_saturday() {
    // Sat 04/05/2024 09:00. On: a working day, in session → Mon 06/05 09:00.
    // Off: not a working day → counts from Mon 06/05 07:30 → Tue 07/05 07:30.
    let s = vn(2024, 5, 4, 9, 0);
    check(cal(), s, wd(1), s, vn(2024, 5, 6, 9, 0));
    check(
        off(),
        s,
        wd(1),
        vn(2024, 5, 6, 7, 30),
        vn(2024, 5, 7, 7, 30),
    );
}

#[test]
fn g11_swapped_day_2024_04_29() {
    // Fri 26/04/2024 10:00: Sat 27 – Wed 01/05 off (Mon 29/04 swapped, 30/04 and 01/05
    // holidays). Thu 02/05 = 1, Fri 03/05 = 2 → Fri 03/05 10:00 (either setting).
    // A third day is the make-up Sat 04/05 when on, Mon 06/05 when off.
    let s = vn(2024, 4, 26, 10, 0);
    check(cal(), s, wd(2), s, vn(2024, 5, 3, 10, 0));
    check(off(), s, wd(2), s, vn(2024, 5, 3, 10, 0));
    check(cal(), s, wd(3), s, vn(2024, 5, 4, 10, 0));
    check(off(), s, wd(3), s, vn(2024, 5, 6, 10, 0));
}

#[test]
fn g12_received_on_the_swapped_day() {
    // Mon 29/04/2024 09:00 (swapped off) → next opening Thu 02/05 07:30 → Fri 03/05 07:30.
    check(
        cal(),
        vn(2024, 4, 29, 9, 0),
        wd(1),
        vn(2024, 5, 2, 7, 30),
        vn(2024, 5, 3, 7, 30),
    );
}

#[test]
fn g13_compensatory_day_2026_04_27() {
    // Fri 24/04/2026 15:00. Sat 25, Sun 26 (Giỗ Tổ), Mon 27 (nghỉ bù) off.
    // + 1 → Tue 28/04 15:00. + 3 → Tue 28 = 1, Wed 29 = 2, Thu 30/04 and Fri 01/05
    // holidays, Sat 02, Sun 03 off, Mon 04/05 = 3 → Mon 04/05 15:00.
    let s = vn(2026, 4, 24, 15, 0);
    check(cal(), s, wd(1), s, vn(2026, 4, 28, 15, 0));
    check(cal(), s, wd(3), s, vn(2026, 5, 4, 15, 0));
}

#[test]
fn g14_friday_16_50_is_still_office_hours() {
    // Fri 08/03/2024 16:50 is inside 13:00–17:00: no roll.
    let s = vn(2024, 3, 8, 16, 50);
    // 3 working days: Mon 11 = 1, Tue 12 = 2, Wed 13 = 3 → Wed 13/03 16:50.
    check(cal(), s, wd(3), s, vn(2024, 3, 13, 16, 50));
    // 1 working hour: 10 min on Friday, 50 min from Mon 07:30 → Mon 08:20.
    check(cal(), s, wh(1), s, vn(2024, 3, 11, 8, 20));
    // Same day: 16:50 is after the 15:00 cut-off → close of the next working day, Mon 17:00.
    check(cal(), s, SAME, s, vn(2024, 3, 11, 17, 0));
    // 1 calendar day: Sat 09/03 16:50 is not a working day → Mon 11/03 16:50.
    check(cal(), s, cd(1), s, vn(2024, 3, 11, 16, 50));
}

#[test]
fn g15_friday_17_00_sharp_is_after_hours() {
    // Sessions are half-open: 17:00 is outside → next opening Mon 11/03 07:30.
    // + 3 → Thu 14/03 07:30 (same time of day as the effective start).
    check(
        cal(),
        vn(2024, 3, 8, 17, 0),
        wd(3),
        vn(2024, 3, 11, 7, 30),
        vn(2024, 3, 14, 7, 30),
    );
}

#[test]
fn g16_early_morning_06_00() {
    // Mon 11/03/2024 06:00 → opening the same day, 07:30 → + 1 = Tue 12/03 07:30.
    check(
        cal(),
        vn(2024, 3, 11, 6, 0),
        wd(1),
        vn(2024, 3, 11, 7, 30),
        vn(2024, 3, 12, 7, 30),
    );
}

#[test]
fn g17_lunch_break() {
    // Tue 12/03/2024 12:00 → afternoon opening 13:00.
    let eff = vn(2024, 3, 12, 13, 0);
    // + 2 working days → Thu 14/03 13:00.
    check(
        cal(),
        vn(2024, 3, 12, 12, 0),
        wd(2),
        eff,
        vn(2024, 3, 14, 13, 0),
    );
    // + 4 working hours → 13:00–17:00, ends at the session end: Tue 17:00.
    check(
        cal(),
        vn(2024, 3, 12, 12, 0),
        wh(4),
        eff,
        vn(2024, 3, 12, 17, 0),
    );
    // 11:30 sharp is already the break (half-open session).
    check(cal(), vn(2024, 3, 12, 11, 30), wd(0), eff, eff);
}

#[test]
fn g18_received_on_a_holiday() {
    // Thu 18/04/2024 10:00 (Giỗ Tổ) → Fri 19/04 07:30.
    // Mon 22 = 1, Tue 23 = 2, Wed 24 = 3, Thu 25 = 4, Fri 26 = 5 → Fri 26/04 07:30.
    check(
        cal(),
        vn(2024, 4, 18, 10, 0),
        wd(5),
        vn(2024, 4, 19, 7, 30),
        vn(2024, 4, 26, 7, 30),
    );
}

#[test]
fn g19_received_on_a_sunday() {
    // Sun 10/03/2024 15:00 → Mon 11/03 07:30 → + 1 = Tue 12/03 07:30.
    check(
        cal(),
        vn(2024, 3, 10, 15, 0),
        wd(1),
        vn(2024, 3, 11, 7, 30),
        vn(2024, 3, 12, 7, 30),
    );
}

#[test]
fn g20_year_boundary_2025_2026() {
    // Wed 31/12/2025 10:00 + 3: Thu 01/01 holiday, Fri 02/01 swapped, Sat 03 and Sun 04
    // off → Mon 05/01 = 1, Tue 06 = 2, Wed 07 = 3 → Wed 07/01/2026 10:00.
    let s = vn(2025, 12, 31, 10, 0);
    check(cal(), s, wd(3), s, vn(2026, 1, 7, 10, 0));
    // Tue 30/12/2025 14:00 + 7: Wed 31 = 1, Mon 05 = 2, Tue 06 = 3, Wed 07 = 4, Thu 08 = 5,
    // Fri 09 = 6, make-up Sat 10/01 = 7 → Sat 10/01 14:00; off → Mon 12/01 14:00.
    let s = vn(2025, 12, 30, 14, 0);
    check(cal(), s, wd(7), s, vn(2026, 1, 10, 14, 0));
    check(off(), s, wd(7), s, vn(2026, 1, 12, 14, 0));
    // Received on the swapped Fri 02/01/2026 08:00 → Mon 05/01 07:30 → Tue 06/01 07:30.
    check(
        cal(),
        vn(2026, 1, 2, 8, 0),
        wd(1),
        vn(2026, 1, 5, 7, 30),
        vn(2026, 1, 6, 7, 30),
    );
}

#[test]
fn g21_quoc_khanh_and_30_4_runs() {
    // 2024: Fri 30/08 10:00 + 1; Sat 31/08 – Tue 03/09 off → Wed 04/09 10:00.
    let s = vn(2024, 8, 30, 10, 0);
    check(cal(), s, wd(1), s, vn(2024, 9, 4, 10, 0));
    // 2025: Fri 29/08 10:00 + 2; Sat 30/08 – Tue 02/09 off → Wed 03 = 1, Thu 04/09 = 2.
    let s = vn(2025, 8, 29, 10, 0);
    check(cal(), s, wd(2), s, vn(2025, 9, 4, 10, 0));
    // 2025: Tue 29/04 10:00 + 1; Wed 30/04 – Sun 04/05 off (Fri 02/05 swapped) → Mon 05/05.
    let s = vn(2025, 4, 29, 10, 0);
    check(cal(), s, wd(1), s, vn(2025, 5, 5, 10, 0));
    // 2026: Thu 27/08 10:00 + 2; Fri 28 = 1; Sat 29/08 – Wed 02/09 off (Mon 31/08
    // swapped) → Thu 03/09 = 2.
    let s = vn(2026, 8, 27, 10, 0);
    check(cal(), s, wd(2), s, vn(2026, 9, 3, 10, 0));
}

#[test]
fn g22_zero_working_days_is_the_effective_start() {
    let s = vn(2024, 3, 4, 10, 0);
    check(cal(), s, wd(0), s, s);
    let monday = vn(2024, 3, 11, 7, 30);
    check(cal(), vn(2024, 3, 10, 9, 0), wd(0), monday, monday);
}

#[test]
fn g23_year_without_data_counts_weekends_only() {
    // Mon 28/12/2026 10:00 + 5: Tue 29 = 1, Wed 30 = 2, Thu 31 = 3, Fri 01/01/2027 = 4
    // (no 2027 data: nothing is guessed, so New Year's Day is counted), Mon 04/01 = 5.
    let s = vn(2026, 12, 28, 10, 0);
    check(cal(), s, wd(5), s, vn(2027, 1, 4, 10, 0));
    let ex = explain(cal(), s, wd(5));
    assert_eq!(ex.years_without_data, vec![2027]);
    assert!(
        explain(cal(), vn(2025, 3, 3, 10, 0), wd(5))
            .years_without_data
            .is_empty()
    );
}

// ---------------------------------------------------------------- golden: calendar_days

#[test]
fn g24_calendar_days() {
    let s = vn(2024, 3, 4, 10, 0); // Monday
    // + 4 → Fri 08/03 10:00 (a working day).
    check(cal(), s, cd(4), s, vn(2024, 3, 8, 10, 0));
    // + 5 → Sat 09/03 → same time on the next working day, Mon 11/03 10:00.
    check(cal(), s, cd(5), s, vn(2024, 3, 11, 10, 0));
    // Thu 01/02/2024 09:00 + 7 → Thu 08/02 is Tết → next working day Thu 15/02 09:00.
    let s = vn(2024, 2, 1, 9, 0);
    check(cal(), s, cd(7), s, vn(2024, 2, 15, 9, 0));
    // Start on Sat 09/03/2024 10:00 → Mon 11/03 07:30; + 1 → Tue 12/03 07:30.
    check(
        cal(),
        vn(2024, 3, 9, 10, 0),
        cd(1),
        vn(2024, 3, 11, 7, 30),
        vn(2024, 3, 12, 7, 30),
    );
    // Thu 02/05/2024 10:00 + 2 → Sat 04/05: a working (make-up) day when on → Sat 10:00;
    // off → Mon 06/05 10:00.
    let s = vn(2024, 5, 2, 10, 0);
    check(cal(), s, cd(2), s, vn(2024, 5, 4, 10, 0));
    check(off(), s, cd(2), s, vn(2024, 5, 6, 10, 0));
    // Mon 29/12/2025 10:00 + 3 → Thu 01/01/2026 holiday; Fri 02 swapped; Sat, Sun → Mon 05/01.
    let s = vn(2025, 12, 29, 10, 0);
    check(cal(), s, cd(3), s, vn(2026, 1, 5, 10, 0));
}

// ---------------------------------------------------------------- golden: working_hours

#[test]
fn g25_working_hours_across_lunch_and_days() {
    let s = vn(2024, 3, 4, 10, 0); // Monday
    // 10:00–11:30 = 1.5 h, then 13:00 + 1.5 h → 14:30.
    check(cal(), s, wh(3), s, vn(2024, 3, 4, 14, 30));
    // 8 h = one working day → Tue 10:00.
    check(cal(), s, wh(8), s, vn(2024, 3, 5, 10, 0));
    // 0 h → the start.
    check(cal(), s, wh(0), s, s);
    // Across Tết 2024: Wed 07/02 15:00 + 4 h: 2 h on Wednesday, Tết, 2 h from Thu 15/02
    // 07:30 → 09:30.
    let s = vn(2024, 2, 7, 15, 0);
    check(cal(), s, wh(4), s, vn(2024, 2, 15, 9, 30));
}

#[test]
fn g26_working_hours_ending_at_a_session_end() {
    // Mon 04/03/2024 09:30 + 2 h → 11:30 (the session end), not 13:00.
    let s = vn(2024, 3, 4, 9, 30);
    check(cal(), s, wh(2), s, vn(2024, 3, 4, 11, 30));
    // 13:00 + 4 h → 17:00 the same day, not Tue 07:30.
    let s = vn(2024, 3, 4, 13, 0);
    check(cal(), s, wh(4), s, vn(2024, 3, 4, 17, 0));
    // 07:30 + 8 h → 17:00 the same day.
    let s = vn(2024, 3, 4, 7, 30);
    check(cal(), s, wh(8), s, vn(2024, 3, 4, 17, 0));
    // Received 17:00 → Tue 07:30 + 8 h → Tue 17:00.
    check(
        cal(),
        vn(2024, 3, 4, 17, 0),
        wh(8),
        vn(2024, 3, 5, 7, 30),
        vn(2024, 3, 5, 17, 0),
    );
}

// ---------------------------------------------------------------- golden: same_day

#[test]
fn g27_same_day_cutoff() {
    // Mon 04/03/2024: 14:59 → the same day's close, 17:00.
    let s = vn(2024, 3, 4, 14, 59);
    check(cal(), s, SAME, s, vn(2024, 3, 4, 17, 0));
    // 15:00 (at the cut-off) and 16:00 → the next working day's close, Tue 17:00.
    let s = vn(2024, 3, 4, 15, 0);
    check(cal(), s, SAME, s, vn(2024, 3, 5, 17, 0));
    let s = vn(2024, 3, 4, 16, 0);
    check(cal(), s, SAME, s, vn(2024, 3, 5, 17, 0));
    // 06:00 → rolled to 07:30, before the cut-off → Mon 17:00.
    check(
        cal(),
        vn(2024, 3, 4, 6, 0),
        SAME,
        vn(2024, 3, 4, 7, 30),
        vn(2024, 3, 4, 17, 0),
    );
    // Sat 09/03 10:00 → Mon 07:30 → Mon 17:00.
    check(
        cal(),
        vn(2024, 3, 9, 10, 0),
        SAME,
        vn(2024, 3, 11, 7, 30),
        vn(2024, 3, 11, 17, 0),
    );
    // Wed 07/02/2024 15:30, the day before Tết → next working day Thu 15/02 17:00.
    let s = vn(2024, 2, 7, 15, 30);
    check(cal(), s, SAME, s, vn(2024, 2, 15, 17, 0));
    // The value of a same-day duration is ignored.
    let s = vn(2024, 3, 4, 10, 0);
    assert_eq!(
        due(cal(), s, Duration::new(0, DurationUnit::SameDay)),
        due(cal(), s, Duration::new(7, DurationUnit::SameDay))
    );
}

// ---------------------------------------------------------------- golden: helpers

#[test]
fn g28_roll_to_working_time() {
    let r = |t| roll_to_working_time(cal(), t);
    // Inside a session: unchanged.
    assert_eq!(r(vn(2024, 3, 12, 11, 29)), vn(2024, 3, 12, 11, 29));
    assert_eq!(r(vn(2024, 3, 12, 7, 30)), vn(2024, 3, 12, 7, 30));
    // Session ends are outside (half-open).
    assert_eq!(r(vn(2024, 3, 12, 11, 30)), vn(2024, 3, 12, 13, 0));
    assert_eq!(r(vn(2024, 3, 12, 17, 0)), vn(2024, 3, 13, 7, 30));
    // Saturday → Monday; Tết 2024 → Thu 15/02.
    assert_eq!(r(vn(2024, 3, 9, 9, 0)), vn(2024, 3, 11, 7, 30));
    assert_eq!(r(vn(2024, 2, 7, 17, 30)), vn(2024, 2, 15, 7, 30));
    assert!(is_working_instant(cal(), vn(2024, 3, 12, 16, 59)));
    assert!(!is_working_instant(cal(), vn(2024, 3, 12, 17, 0)));
    assert!(!is_working_instant(cal(), vn(2024, 2, 12, 9, 0)));
    // Sub-second precision is kept.
    let t = vn(2024, 3, 12, 9, 0) + TimeDelta::nanoseconds(123_456_789);
    assert_eq!(r(t), t);
}

#[test]
fn g29_working_time_between() {
    let w = |a, b| working_time_between(cal(), a, b);
    // Fri 08/03/2024 16:00 → Mon 11/03 09:00: 1 h + 1.5 h.
    assert_eq!(
        w(vn(2024, 3, 8, 16, 0), vn(2024, 3, 11, 9, 0)),
        TimeDelta::minutes(150)
    );
    // Across Tết 2024: Wed 07/02 10:00 → Thu 15/02 10:00 = one working day, 8 h.
    assert_eq!(
        w(vn(2024, 2, 7, 10, 0), vn(2024, 2, 15, 10, 0)),
        TimeDelta::hours(8)
    );
    // Reversed or equal → zero.
    assert_eq!(
        w(vn(2024, 3, 11, 9, 0), vn(2024, 3, 8, 16, 0)),
        TimeDelta::zero()
    );
    assert_eq!(
        w(vn(2024, 3, 11, 9, 0), vn(2024, 3, 11, 9, 0)),
        TimeDelta::zero()
    );
    // Lunch break and nights are not working time.
    assert_eq!(
        w(vn(2024, 3, 11, 11, 0), vn(2024, 3, 11, 13, 30)),
        TimeDelta::hours(1)
    );
    assert_eq!(
        w(vn(2024, 3, 11, 17, 0), vn(2024, 3, 12, 7, 30)),
        TimeDelta::zero()
    );
    // A full week, Mon 07:30 → next Mon 07:30 = 5 × 8 h.
    assert_eq!(
        w(vn(2024, 3, 4, 7, 30), vn(2024, 3, 11, 7, 30)),
        TimeDelta::hours(40)
    );
    // Fri 03/05/2024 07:30 → Mon 06/05 07:30: the make-up Saturday adds 8 h when on.
    let (a, b) = (vn(2024, 5, 3, 7, 30), vn(2024, 5, 6, 7, 30));
    assert_eq!(w(a, b), TimeDelta::hours(16));
    assert_eq!(working_time_between(off(), a, b), TimeDelta::hours(8));
}

#[test]
fn g30_add_working_time_for_a_resumed_clock() {
    let add = |t, w| add_working_time(cal(), t, w);
    // Due Mon 04/03/2024 10:00, 2.5 h of waiting: 10:00–11:30, 13:00–14:00 → 14:00.
    assert_eq!(
        add(vn(2024, 3, 4, 10, 0), TimeDelta::minutes(150)),
        vn(2024, 3, 4, 14, 0)
    );
    // 1.5 h from 10:00 ends at the session end, 11:30.
    assert_eq!(
        add(vn(2024, 3, 4, 10, 0), TimeDelta::minutes(90)),
        vn(2024, 3, 4, 11, 30)
    );
    // Pausing and resuming at once changes nothing, even at a session end.
    assert_eq!(
        add(vn(2024, 3, 4, 11, 30), TimeDelta::zero()),
        vn(2024, 3, 4, 11, 30)
    );
    assert_eq!(
        add(vn(2024, 3, 9, 10, 0), TimeDelta::zero()),
        vn(2024, 3, 9, 10, 0)
    );
    assert_eq!(
        add(vn(2024, 3, 4, 10, 0), TimeDelta::minutes(-5)),
        vn(2024, 3, 4, 10, 0)
    );
    // From a session end: 11:30 + 1 h → 14:00.
    assert_eq!(
        add(vn(2024, 3, 4, 11, 30), TimeDelta::hours(1)),
        vn(2024, 3, 4, 14, 0)
    );
    // Fri 16:00 + 2 h → 1 h Friday, 1 h from Mon 07:30 → Mon 08:30.
    assert_eq!(
        add(vn(2024, 3, 8, 16, 0), TimeDelta::hours(2)),
        vn(2024, 3, 11, 8, 30)
    );
    // Across Tết 2024: Wed 07/02 16:00 + 8 h → Thu 15/02 16:00.
    assert_eq!(
        add(vn(2024, 2, 7, 16, 0), TimeDelta::hours(8)),
        vn(2024, 2, 15, 16, 0)
    );
}

// ---------------------------------------------------------------- golden: explain

fn day(ex: &Explanation, y: i32, m: u32, d: u32) -> &ExplainedDay {
    let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
    ex.days.iter().find(|x| x.date == date).unwrap()
}

#[test]
fn g31_explain_tet_2024() {
    // Wed 07/02/2024 10:00 + 3 working days → Mon 19/02 10:00: 13 dates listed.
    let ex = explain(cal(), vn(2024, 2, 7, 10, 0), wd(3));
    assert_eq!(ex.days.len(), 13);
    let first = day(&ex, 2024, 2, 7);
    assert!(!first.counted);
    assert_eq!(first.kind, DayReason::WorkingDay);
    assert_eq!(first.reason, "ngày làm việc; tiếp nhận lúc 10:00");
    assert_eq!(first.working_minutes, 330);
    let tet = day(&ex, 2024, 2, 8);
    assert!(!tet.counted);
    assert_eq!(tet.kind, DayReason::Holiday);
    assert_eq!(tet.name.as_deref(), Some("Tết Nguyên đán"));
    assert_eq!(tet.reason, "nghỉ lễ: Tết Nguyên đán");
    assert_eq!(tet.reason_en, "public holiday: Tết Nguyên đán");
    // The weekend inside Tết is listed as Tết, not as an ordinary weekend.
    assert_eq!(
        day(&ex, 2024, 2, 10).reason,
        "nghỉ lễ: Tết Nguyên đán (thứ Bảy)"
    );
    let d1 = day(&ex, 2024, 2, 15);
    assert!(d1.counted);
    assert_eq!(d1.ordinal, Some(1));
    assert_eq!(d1.reason, "ngày làm việc; ngày thứ 1/3");
    assert_eq!(day(&ex, 2024, 2, 17).reason, "thứ Bảy");
    assert_eq!(day(&ex, 2024, 2, 18).kind, DayReason::Weekend);
    let last = day(&ex, 2024, 2, 19);
    assert_eq!(last.ordinal, Some(3));
    assert_eq!(last.reason, "ngày làm việc; ngày thứ 3/3; hạn trả 10:00");
    assert_eq!(last.reason_en, "working day; day 3 of 3; due at 10:00");
    assert_eq!(last.working_minutes, 150);
    assert_eq!(ex.days.iter().filter(|d| d.counted).count(), 3);
    let minutes: u32 = ex.days.iter().map(|d| d.working_minutes).sum();
    assert_eq!(minutes, 3 * 8 * 60);
}

#[test]
fn g32_explain_after_hours_friday() {
    // Fri 08/03/2024 17:00 + 1 working day → Mon 07:30 → Tue 12/03 07:30.
    let ex = explain(cal(), vn(2024, 3, 8, 17, 0), wd(1));
    let kinds: Vec<_> = ex.days.iter().map(|d| (d.kind, d.counted)).collect();
    assert_eq!(
        kinds,
        [
            (DayReason::OutsideOfficeHours, false),
            (DayReason::Weekend, false),
            (DayReason::Weekend, false),
            (DayReason::WorkingDay, false),
            (DayReason::WorkingDay, true),
        ]
    );
    assert_eq!(
        ex.days[0].reason,
        "ngoài giờ hành chính; tiếp nhận lúc 17:00; tính từ 07:30 thứ Hai 11/03/2024"
    );
    assert_eq!(ex.days[2].reason, "Chủ nhật");
    assert_eq!(ex.days[3].reason, "ngày làm việc; bắt đầu tính từ 07:30");
    assert_eq!(
        ex.days[4].reason,
        "ngày làm việc; ngày thứ 1/1; hạn trả 07:30"
    );
    // Lunch-break receipt: same day, noted.
    let ex = explain(cal(), vn(2024, 3, 12, 12, 0), wh(1));
    assert_eq!(
        ex.days[0].reason,
        "ngày làm việc; tiếp nhận lúc 12:00, ngoài giờ hành chính; tính từ 13:00; tính 1 giờ; hạn trả 14:00"
    );
}

#[test]
fn g33_explain_makeup_saturday_on_and_off() {
    // Thu 02/05/2024 10:00 + 2 working days.
    let on = explain(cal(), vn(2024, 5, 2, 10, 0), wd(2));
    let sat = day(&on, 2024, 5, 4);
    assert!(sat.counted);
    assert_eq!(sat.kind, DayReason::MakeupWorkday);
    assert_eq!(
        sat.reason,
        "làm bù thứ Bảy cho ngày hoán đổi thứ Hai 29/04/2024; ngày thứ 2/2; hạn trả 10:00"
    );
    let off = explain(off(), vn(2024, 5, 2, 10, 0), wd(2));
    let sat = day(&off, 2024, 5, 4);
    assert!(!sat.counted);
    assert_eq!(sat.kind, DayReason::MakeupNotCounted);
    assert_eq!(
        sat.reason,
        "làm bù (không tính) cho ngày hoán đổi thứ Hai 29/04/2024"
    );
    assert_eq!(day(&off, 2024, 5, 6).ordinal, Some(2));
    // The swapped and compensatory days say so.
    let ex = explain(cal(), vn(2024, 4, 26, 10, 0), wd(1));
    let swapped = day(&ex, 2024, 4, 29);
    assert_eq!(swapped.kind, DayReason::SwappedOff);
    assert_eq!(
        swapped.reason,
        "hoán đổi ngày làm việc (làm bù thứ Bảy 04/05/2024)"
    );
    assert_eq!(
        day(&ex, 2024, 4, 30).reason,
        "nghỉ lễ: Ngày Giải phóng miền Nam"
    );
    assert_eq!(day(&ex, 2024, 5, 1).reason, "nghỉ lễ: Quốc tế Lao động");
    let ex = explain(cal(), vn(2026, 4, 24, 15, 0), wd(1));
    assert_eq!(day(&ex, 2026, 4, 27).kind, DayReason::CompensatoryOff);
    assert_eq!(day(&ex, 2026, 4, 27).reason, "nghỉ bù Giỗ Tổ Hùng Vương");
    assert_eq!(
        day(&ex, 2026, 4, 26).reason,
        "nghỉ lễ: Giỗ Tổ Hùng Vương (Chủ nhật)"
    );
}

#[test]
fn g34_explain_same_day_and_calendar_days() {
    // Same day received at the 15:00 cut-off → Tue 17:00.
    let ex = explain(cal(), vn(2024, 3, 4, 15, 0), SAME);
    assert_eq!(ex.days.len(), 2);
    assert!(!ex.days[0].counted);
    assert_eq!(
        ex.days[0].reason,
        "ngày làm việc; tiếp nhận lúc 15:00; tiếp nhận từ 15:00 trở đi: hẹn trả cuối ngày làm việc tiếp theo"
    );
    assert!(ex.days[1].counted);
    assert_eq!(ex.days[1].reason, "ngày làm việc; hạn trả 17:00");
    // Mon 04/03/2024 10:00 + 5 calendar days: Tue..Sat are days 1–5, Sat is not a working
    // day, the due time moves to Mon 11/03 10:00.
    let ex = explain(cal(), vn(2024, 3, 4, 10, 0), cd(5));
    let counted: Vec<_> = ex.days.iter().map(|d| d.ordinal).collect();
    assert_eq!(
        counted,
        [
            None,
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(5),
            None,
            None
        ]
    );
    assert_eq!(
        ex.days[5].reason,
        "thứ Bảy; ngày thứ 5/5; ngày thứ 5 không phải ngày làm việc: hạn chuyển sang ngày làm việc tiếp theo"
    );
    assert_eq!(ex.days[7].reason, "ngày làm việc; hạn trả 10:00");
}

#[test]
fn g35_explain_serialises_in_the_api_shape() {
    let ex = explain(cal(), vn(2024, 2, 7, 17, 30), wd(1));
    let json = serde_json::to_value(&ex).unwrap();
    assert_eq!(json["start"], "2024-02-07T17:30:00+07:00");
    assert_eq!(json["effective_start"], "2024-02-15T07:30:00+07:00");
    assert_eq!(json["due_at"], "2024-02-16T07:30:00+07:00");
    assert_eq!(
        json["duration"],
        serde_json::json!({"value": 1, "unit": "working_days"})
    );
    let d0 = &json["days"][0];
    assert_eq!(d0["date"], "2024-02-07");
    assert_eq!(d0["counted"], false);
    assert_eq!(d0["kind"], "outside_office_hours");
    assert_eq!(json["days"][1]["kind"], "holiday");
    assert_eq!(json["days"].as_array().unwrap().len(), 10);
    let back: Explanation = serde_json::from_value(json).unwrap();
    assert_eq!(back, ex);
}

#[test]
fn g36_duration_type() {
    let d: Duration = serde_json::from_str(r#"{"value": 15, "unit": "working_days"}"#).unwrap();
    assert_eq!(d, wd(15));
    assert_eq!(d.to_string(), "15 working_days");
    assert_eq!(d.label_vi(), "15 ngày làm việc");
    for u in DurationUnit::ALL {
        assert_eq!(u.as_str().parse::<DurationUnit>().unwrap(), u);
    }
    assert!("days".parse::<DurationUnit>().is_err());
    assert_eq!(
        wd(3).working_time(TimeDelta::hours(8)),
        Some(TimeDelta::hours(24))
    );
    assert_eq!(
        wh(3).working_time(TimeDelta::hours(8)),
        Some(TimeDelta::hours(3))
    );
    assert_eq!(cd(3).working_time(TimeDelta::hours(8)), None);
    assert!(wd(Duration::MAX_VALUE).check().is_ok());
    assert_eq!(
        wd(Duration::MAX_VALUE + 1).check(),
        Err(DurationError::TooLarge(10_001))
    );
    assert_eq!(
        Duration::new(2, DurationUnit::SameDay).check(),
        Err(DurationError::SameDayValue(2))
    );
    // Huge values are clamped, not looped over for ever.
    let s = vn(2024, 3, 4, 10, 0);
    assert_eq!(
        due(cal(), s, wd(u32::MAX)),
        due(cal(), s, wd(Duration::MAX_VALUE))
    );
    assert_eq!(
        due(cal(), s, wh(u32::MAX)),
        due(cal(), s, wh(Duration::MAX_VALUE))
    );
}

#[test]
fn g37_other_zones_with_daylight_saving() {
    // Europe/Paris, no special days: Fri 29/03/2024 10:00 CET + 1 working day crosses the
    // change to summer time (Sun 31/03) → Mon 01/04 10:00 CEST = 08:00 UTC.
    let paris = chrono_tz::Europe::Paris;
    let settings = WorkingTimeSettings::from_config(
        "Europe/Paris",
        &["08:00-12:00", "14:00-18:00"],
        "15:00",
        true,
    )
    .unwrap();
    let cal = Calendar::new([], settings);
    let start = paris
        .with_ymd_and_hms(2024, 3, 29, 10, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    let d = due(&cal, start, wd(1));
    assert_eq!(d.due_at, Utc.with_ymd_and_hms(2024, 4, 1, 8, 0, 0).unwrap());
    assert_eq!(
        working_time_between(&cal, start, d.due_at),
        TimeDelta::hours(8)
    );
    // A session inside the skipped hour (Sunday 31/03 02:00–03:00 does not exist) on a
    // make-up Sunday: no panic, times move forward.
    let night =
        WorkingTimeSettings::from_config("Europe/Paris", &["01:00-04:00"], "15:00", true).unwrap();
    let sunday = NaiveDate::from_ymd_opt(2024, 3, 31).unwrap();
    let cal = Calendar::new(
        [SpecialDay {
            date: sunday,
            kind: DayKind::MakeupWorkday,
            name: "test".into(),
            source: String::new(),
        }],
        night,
    );
    let start = Utc.with_ymd_and_hms(2024, 3, 30, 23, 30, 0).unwrap(); // 00:30 CET
    let d = due(&cal, start, wh(1));
    assert_eq!(
        d.effective_start,
        Utc.with_ymd_and_hms(2024, 3, 31, 0, 0, 0).unwrap()
    );
    assert!(d.due_at > d.effective_start);
    let later = add_working_time(&cal, d.effective_start, TimeDelta::minutes(90));
    assert!(later > d.effective_start);
}

// ---------------------------------------------------------------- property tests

/// Local midnight, 01/01/2024, as a Unix timestamp; the range ends on 31/10/2026.
fn range_secs() -> (i64, i64) {
    (
        vn(2024, 1, 1, 0, 0).timestamp(),
        vn(2026, 10, 31, 0, 0).timestamp(),
    )
}

/// Times of day that sit on the edges of the rules.
const EDGES: [(u32, u32, u32); 14] = [
    (0, 0, 0),
    (6, 0, 0),
    (7, 29, 59),
    (7, 30, 0),
    (10, 0, 0),
    (11, 29, 59),
    (11, 30, 0),
    (12, 0, 0),
    (13, 0, 0),
    (14, 59, 0),
    (15, 0, 0),
    (16, 50, 0),
    (16, 59, 59),
    (17, 0, 0),
];

/// A start in 2024-01-01..2026-10-31: any minute, or a day at an edge time.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let (lo, hi) = range_secs();
    let days = (hi - lo) / 86_400;
    prop_oneof![
        (lo / 60..hi / 60).prop_map(|m| DateTime::from_timestamp(m * 60, 0).unwrap()),
        (0..days, 0..EDGES.len()).prop_map(move |(d, i)| {
            let (h, m, s) = EDGES[i];
            let secs = lo + d * 86_400 + i64::from(h * 3600 + m * 60 + s);
            DateTime::from_timestamp(secs, 0).unwrap()
        }),
    ]
}

/// Like [`instant`], sometimes with sub-second parts.
fn precise_instant() -> impl Strategy<Value = DateTime<Utc>> {
    (instant(), prop_oneof![Just(0u32), 0..1_000_000_000u32])
        .prop_map(|(t, ns)| t + TimeDelta::nanoseconds(i64::from(ns)))
}

fn unit() -> impl Strategy<Value = DurationUnit> {
    prop_oneof![
        Just(DurationUnit::WorkingDays),
        Just(DurationUnit::WorkingHours),
        Just(DurationUnit::CalendarDays),
        Just(DurationUnit::SameDay),
    ]
}

fn local_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&TZ).date_naive()
}

/// `calendar_days` moves a due date that is not a working day to the *same time* on the
/// next working day (design §5); two different dates can land on one working day at
/// different times, so for that unit only the due *date* is monotone.
fn not_earlier(unit: DurationUnit, a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    match unit {
        DurationUnit::CalendarDays => local_date(a) <= local_date(b),
        _ => a <= b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn due_never_decreases_when_the_start_grows(
        a in instant(), b in instant(), u in unit(), n in 0u32..=60
    ) {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        let d = Duration::new(n, u);
        for cal in [cal(), off()] {
            let (da, db) = (due(cal, a, d), due(cal, b, d));
            prop_assert!(da.effective_start <= db.effective_start);
            prop_assert!(not_earlier(u, da.due_at, db.due_at),
                "{} → {}, {} → {}", show(a), show(da.due_at), show(b), show(db.due_at));
        }
    }

    #[test]
    fn due_never_decreases_when_the_duration_grows(
        t in instant(), u in unit(), n in 0u32..=60, m in 0u32..=60
    ) {
        let (n, m) = (n.min(m), n.max(m));
        for cal in [cal(), off()] {
            let dn = due(cal, t, Duration::new(n, u));
            let dm = due(cal, t, Duration::new(m, u));
            prop_assert_eq!(dn.effective_start, dm.effective_start);
            prop_assert!(dn.due_at <= dm.due_at, "{} + {n} → {}, + {m} → {}",
                show(t), show(dn.due_at), show(dm.due_at));
            prop_assert!(dn.due_at >= dn.effective_start);
        }
    }

    #[test]
    fn adding_a_holiday_never_makes_a_due_time_earlier(
        t in instant(), u in unit(), n in 0u32..=60, offset in 0i64..1100
    ) {
        let date = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + TimeDelta::days(offset);
        let holiday = SpecialDay {
            date,
            kind: DayKind::Holiday,
            name: "Ngày nghỉ thêm".into(),
            source: String::new(),
        };
        let d = Duration::new(n, u);
        for cal in [cal(), off()] {
            let more = cal.with_day(holiday.clone());
            let (before, after) = (due(cal, t, d), due(&more, t, d));
            prop_assert!(before.effective_start <= after.effective_start);
            prop_assert!(not_earlier(u, before.due_at, after.due_at),
                "holiday {date}: {} → {} became {}", show(t), show(before.due_at), show(after.due_at));
            if before.effective_start == after.effective_start {
                prop_assert!(before.due_at <= after.due_at);
            }
        }
        // Not counting make-up days is like adding holidays.
        let (on, no) = (due(cal(), t, d), due(off(), t, d));
        prop_assert!(not_earlier(u, on.due_at, no.due_at));
    }

    #[test]
    fn working_time_from_effective_start_to_due_is_the_duration(
        t in precise_instant(), n in 0u32..=60
    ) {
        for cal in [cal(), off()] {
            let day = cal.settings().day_length();
            let d = due(cal, t, Duration::working_days(n));
            prop_assert_eq!(working_time_between(cal, d.effective_start, d.due_at), day * n as i32);
            let h = due(cal, t, Duration::working_hours(n));
            prop_assert_eq!(working_time_between(cal, h.effective_start, h.due_at), TimeDelta::hours(n.into()));
            // Same day: due at the close of the start day or of the next working day.
            let s = due(cal, t, Duration::same_day());
            let closing = s.due_at.with_timezone(&TZ).time();
            prop_assert_eq!(closing, cal.settings().closing());
            prop_assert!(working_time_between(cal, s.effective_start, s.due_at) <= day * 2);
            // Calendar days: due on a working day, inside office hours (same time of day).
            let c = due(cal, t, Duration::calendar_days(n));
            prop_assert!(is_working_instant(cal, c.due_at));
            prop_assert_eq!(c.due_at.with_timezone(&TZ).time(), c.effective_start.with_timezone(&TZ).time());
        }
    }

    #[test]
    fn rolling_a_rolled_start_changes_nothing(t in precise_instant(), u in unit(), n in 0u32..=60) {
        for cal in [cal(), off()] {
            let r = roll_to_working_time(cal, t);
            prop_assert!(r >= t);
            prop_assert_eq!(roll_to_working_time(cal, r), r);
            prop_assert!(is_working_instant(cal, r));
            prop_assert_eq!(is_working_instant(cal, t), r == t);
            prop_assert_eq!(working_time_between(cal, t, r), TimeDelta::zero());
            let d = Duration::new(n, u);
            let first = due(cal, t, d);
            prop_assert_eq!(first.effective_start, r);
            prop_assert_eq!(due(cal, r, d), first);
        }
    }

    #[test]
    fn adding_the_working_time_between_returns_to_the_later_instant(
        a in precise_instant(), b in precise_instant()
    ) {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        for cal in [cal(), off()] {
            let t = roll_to_working_time(cal, a);
            let u = b.max(t);
            let w = working_time_between(cal, t, u);
            let back = add_working_time(cal, t, w);
            prop_assert_eq!(working_time_between(cal, t, back), w);
            prop_assert_eq!(roll_to_working_time(cal, back), roll_to_working_time(cal, u));
            // Equal to the later instant itself when it is a working instant that is not a
            // session opening (at an opening the earliest answer is the previous close).
            let local = u.with_timezone(&TZ).time();
            let opening = cal.settings().sessions().iter().any(|s| s.start == local);
            if is_working_instant(cal, u) && !opening && w > TimeDelta::zero() {
                prop_assert_eq!(back, u);
            }
            // Pause, then resume at once: nothing moves.
            prop_assert_eq!(add_working_time(cal, b, TimeDelta::zero()), b);
        }
    }

    #[test]
    fn working_time_is_additive(a in precise_instant(), b in precise_instant(), c in precise_instant()) {
        let mut v = [a, b, c];
        v.sort();
        let [a, b, c] = v;
        let w = |x, y| working_time_between(cal(), x, y);
        prop_assert_eq!(w(a, c), w(a, b) + w(b, c));
        prop_assert!(w(a, c) <= c - a);
    }

    #[test]
    fn timeliness_is_consistent(f in precise_instant(), d in instant()) {
        let t = timeliness(TZ, f, d);
        prop_assert_eq!(t == Timeliness::Late, f > d);
        match t {
            Timeliness::Early => prop_assert!(f < d && local_date(f) < local_date(d)),
            Timeliness::OnTime => prop_assert!(f <= d && local_date(f) == local_date(d)),
            Timeliness::Late => prop_assert!(f > d),
        }
    }

    #[test]
    fn explanation_agrees_with_due(t in instant(), u in unit(), n in 0u32..=60) {
        let d = Duration::new(n, u);
        for cal in [cal(), off()] {
            let due = due(cal, t, d);
            let ex = explain(cal, t, d);
            prop_assert_eq!(ex.due_at.with_timezone(&Utc), due.due_at);
            prop_assert_eq!(ex.effective_start.with_timezone(&Utc), due.effective_start);
            let (first, last) = (local_date(t), local_date(due.due_at));
            prop_assert_eq!(ex.days.len() as i64, (last - first).num_days() + 1);
            prop_assert_eq!(ex.days.first().map(|x| x.date), Some(first));
            prop_assert_eq!(ex.days.last().map(|x| x.date), Some(last));
            let counted = ex.days.iter().filter(|x| x.counted).count() as u32;
            let minutes: u32 = ex.days.iter().map(|x| x.working_minutes).sum();
            match u {
                DurationUnit::WorkingDays | DurationUnit::CalendarDays => prop_assert_eq!(counted, n),
                DurationUnit::SameDay => prop_assert_eq!(counted, 1),
                DurationUnit::WorkingHours => prop_assert!(counted <= n / 8 + 2),
            }
            if u == DurationUnit::WorkingDays && t.second() == 0 {
                prop_assert_eq!(minutes, n * 8 * 60);
            }
            if u == DurationUnit::WorkingHours && t.second() == 0 {
                prop_assert_eq!(minutes, n * 60);
            }
            for x in &ex.days {
                prop_assert!(!x.reason.is_empty() && !x.reason_en.is_empty());
                if x.counted && u == DurationUnit::WorkingDays {
                    prop_assert!(cal.is_working_day(x.date));
                }
            }
        }
    }
}

#[test]
fn g38_calendar_days_same_time_rule_is_monotone_by_date_only() {
    // Design §5 moves a calendar_days due date that is not a working day to the *same
    // time* on the next working day. Two starts can then meet on one day in reverse order:
    // Mon 29/01/2024 16:00 + 10 → Thu 08/02 (Tết) → Thu 15/02 16:00, while the later
    // Mon 05/02/2024 08:00 + 10 → Thu 15/02 08:00. Same date, earlier time.
    let early = due(cal(), vn(2024, 1, 29, 16, 0), cd(10));
    let later = due(cal(), vn(2024, 2, 5, 8, 0), cd(10));
    assert_eq!(early.due_at, vn(2024, 2, 15, 16, 0));
    assert_eq!(later.due_at, vn(2024, 2, 15, 8, 0));
    // Likewise a holiday on the start day moves the start to the next morning: Mon 05/02
    // 10:00 + 4 → Fri 09/02 (Tết) → Thu 15/02 10:00; with Mon 05/02 off, Tue 06/02 07:30
    // + 4 → Sat 10/02 → Thu 15/02 07:30. The caller keeps the later one (api.md: due times
    // are never made earlier by a calendar edit).
    let start = vn(2024, 2, 5, 10, 0);
    let more = cal().with_day(SpecialDay {
        date: NaiveDate::from_ymd_opt(2024, 2, 5).unwrap(),
        kind: DayKind::Holiday,
        name: "test".into(),
        source: String::new(),
    });
    assert_eq!(due(cal(), start, cd(4)).due_at, vn(2024, 2, 15, 10, 0));
    assert_eq!(due(&more, start, cd(4)).due_at, vn(2024, 2, 15, 7, 30));
}

#[test]
fn g39_a_year_without_a_decision_skips_the_provisional_holidays() {
    // The shipped 2024–2026 calendar with the Labor Code's days for the years without a
    // decision: Tết Đinh Mùi 2027 is provisional, Thu 04/02 – Wed 10/02.
    let decided = [2024, 2025, 2026];
    let days = FILES
        .into_iter()
        .flat_map(|t| parse_calendar_file(t).unwrap().days);
    let prov = Calendar::with_provisional(days, &decided, WorkingTimeSettings::default());
    // Fri 29/01/2027 10:00 + 5: Mon 01/02 = 1, Tue 02 = 2, Wed 03 = 3, Tết, Thu 11 = 4,
    // Fri 12/02 = 5. Weekends only would have given Fri 05/02, in the middle of Tết.
    let s = vn(2027, 1, 29, 10, 0);
    check(&prov, s, wd(5), s, vn(2027, 2, 12, 10, 0));
    check(cal(), s, wd(5), s, vn(2027, 2, 5, 10, 0));
    let ex = explain(&prov, s, wd(5));
    assert!(ex.years_without_data.is_empty());
    assert_eq!(ex.provisional_years, vec![2027]);
    let tet = day(&ex, 2027, 2, 8);
    assert_eq!(tet.kind, DayReason::Holiday);
    assert!(tet.provisional && !tet.counted);
    assert_eq!(
        tet.reason,
        format!("nghỉ lễ: Tết Nguyên đán; {PROVISIONAL_VI}")
    );
    assert!(tet.reason_en.ends_with(PROVISIONAL_EN), "{}", tet.reason_en);
    assert!(ex.days.iter().all(|d| d.provisional));
    // Across the year: Wed 30/12/2026 10:00 + 3: Thu 31 = 1, Fri 01/01/2027 is Tết Dương
    // lịch (provisional), Mon 04/01 = 2, Tue 05/01 = 3. Only the 2027 days are marked.
    let s = vn(2026, 12, 30, 10, 0);
    check(&prov, s, wd(3), s, vn(2027, 1, 5, 10, 0));
    let ex = explain(&prov, s, wd(3));
    assert_eq!(ex.provisional_years, vec![2027]);
    assert!(!day(&ex, 2026, 12, 31).provisional);
    let new_year = day(&ex, 2027, 1, 1);
    assert!(new_year.provisional && !new_year.counted);
    assert_eq!(new_year.name.as_deref(), Some("Tết Dương lịch"));
}
