//! The calendar cache and transactions: a calendar read from inside a change that then rolls
//! back is never served for a later change.

use chrono::NaiveDate;
use motcua::db::calendar::{self as store, CalendarDayRow};
use motcua::db::{self, to_db_time};

use crate::backend_test;
use crate::helpers::*;

fn holiday(date: NaiveDate, name: &str) -> CalendarDayRow {
    CalendarDayRow {
        date,
        kind: "holiday".into(),
        name: name.into(),
        source: "test".into(),
        updated_by: "test".into(),
        updated_at: to_db_time(default_now()),
    }
}

backend_test!(a_rolled_back_change_leaves_no_calendar_behind, |app| {
    let cache = app.state.calendar.clone();
    let mut conn = app.state.pool.get().unwrap();
    let rolled_back = NaiveDate::from_ymd_opt(2026, 6, 10).unwrap();
    let committed = NaiveDate::from_ymd_opt(2026, 6, 11).unwrap();
    cache.current(&mut conn).unwrap();

    // A change whose transaction reads the calendar (as the due-time recomputation does),
    // then fails.
    let failed: Result<(), motcua::error::AppError> = db::write_tx(&mut conn, |conn| {
        store::insert_day(conn, &holiday(rolled_back, "rolled back"))?;
        store::bump_revision(conn)?;
        assert!(!cache.current(conn)?.is_working_day(rolled_back));
        Err(motcua::error::AppError::internal("the change fails"))
    });
    assert!(failed.is_err());

    // The next change commits.
    db::write_tx(&mut conn, |conn| {
        store::insert_day(conn, &holiday(committed, "committed"))?;
        store::bump_revision(conn)
    })
    .unwrap();

    let cal = cache.current(&mut conn).unwrap();
    assert!(
        !cal.is_working_day(committed),
        "the committed change is seen"
    );
    assert!(
        cal.is_working_day(rolled_back),
        "the rolled-back day is gone"
    );
});
