//! Benchmark of `due()` over the real 2024–2026 calendar: 5, 15 and 30 working days, with
//! starts spread over 2024–2026 (in and out of office hours). Target: ≤ 1 µs a call
//! (over 1,000,000 computations a second on one core). `cargo bench --bench deadline`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use chrono::{DateTime, TimeDelta, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use motcua::domain::calendar::{Calendar, WorkingTimeSettings, parse_calendar_file};
use motcua::domain::deadline::{Duration, due};

const FILES: [&str; 3] = [
    include_str!("../config/calendars/vn-2024.toml"),
    include_str!("../config/calendars/vn-2025.toml"),
    include_str!("../config/calendars/vn-2026.toml"),
];

fn calendar() -> Calendar {
    let days = FILES
        .into_iter()
        .flat_map(|t| parse_calendar_file(t).unwrap().days);
    Calendar::new(days, WorkingTimeSettings::default())
}

/// 1,024 starts from 2024-01-01 on, 1 day 1 h 7 min apart: every weekday, every hour.
fn starts() -> Vec<DateTime<Utc>> {
    let first = DateTime::parse_from_rfc3339("2024-01-01T06:00:00+07:00")
        .unwrap()
        .with_timezone(&Utc);
    let step = TimeDelta::minutes(24 * 60 + 67);
    (0..1024).map(|i| first + step * i).collect()
}

fn bench_due(c: &mut Criterion) {
    let cal = calendar();
    let starts = starts();
    let mut group = c.benchmark_group("due");
    group.throughput(Throughput::Elements(1));
    for n in [5, 15, 30] {
        let d = Duration::working_days(n);
        let mut i = 0usize;
        group.bench_function(format!("working_days_{n}"), |b| {
            b.iter(|| {
                i = (i + 1) & 1023;
                due(black_box(&cal), black_box(starts[i]), black_box(d))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_due);
criterion_main!(benches);
