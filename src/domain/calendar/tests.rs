//! Golden cases and properties of the working-day calendar.

use super::*;
use chrono::TimeDelta;

const VN_2023: &str = include_str!("../../../config/calendars/vn-2023.toml");
const VN_2024: &str = include_str!("../../../config/calendars/vn-2024.toml");
const VN_2025: &str = include_str!("../../../config/calendars/vn-2025.toml");
const VN_2026: &str = include_str!("../../../config/calendars/vn-2026.toml");

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
    let cal = Calendar::with_provisional(days.clone(), &decided, WorkingTimeSettings::default());
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
    let text = "year = 2025\n[[days]]\ndate = \"2024-12-31\"\nkind = \"holiday\"\nname = \"x\"\n";
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
    let kind = "year = 2025\n[[days]]\ndate = \"2025-01-01\"\nkind = \"vacation\"\nname = \"x\"\n";
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
    let makeup =
        "year = 2025\n[[days]]\ndate = \"2025-04-25\"\nkind = \"makeup_workday\"\nname = \"x\"\n";
    assert_eq!(
        parse_calendar_file(makeup),
        Err(CalendarError::MakeupOnWeekday {
            date: date(2025, 4, 25),
            weekday: Weekday::Fri
        })
    );
    // 2026-04-26 is a Sunday: cannot be a compensatory day off.
    let comp =
        "year = 2026\n[[days]]\ndate = \"2026-04-26\"\nkind = \"compensatory_off\"\nname = \"x\"\n";
    assert!(matches!(
        parse_calendar_file(comp),
        Err(CalendarError::OffDayOnWeekend { .. })
    ));
    let empty = "year = 2025\n[[days]]\ndate = \"2025-01-01\"\nkind = \"holiday\"\nname = \" \"\n";
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
