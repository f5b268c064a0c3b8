//! The dossier's deadline clock as one value: when it started, whether and since when it is
//! stopped, how much working time it has been stopped, and the due times it drives (the
//! legal `due_at`, the promised `due_at_current`, the current step's). Pause, resume,
//! restart and the apology's projection are its methods; all arithmetic is in working time.

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::calendar::Calendar;
use crate::domain::deadline::{self, Duration};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DueClock {
    /// The receipt time rolled into working time.
    pub started_at: Option<DateTime<Utc>>,
    /// Set while the clock is stopped (supplement requested, withdrawal requested).
    pub paused_at: Option<DateTime<Utc>>,
    /// Working time spent stopped since the start, in seconds.
    pub paused_seconds: i64,
    /// The legal appointment (form 01), moved only by the supplement rule and calendar changes.
    pub due_at: Option<DateTime<Utc>>,
    /// What the applicant was last promised (an apology moves it).
    pub due_at_current: Option<DateTime<Utc>>,
    /// The current workflow step's due time.
    pub step_due_at: Option<DateTime<Utc>>,
}

fn shift(t: Option<DateTime<Utc>>, cal: &Calendar, by: TimeDelta) -> Option<DateTime<Utc>> {
    t.map(|t| deadline::add_working_time(cal, t, by))
}

impl DueClock {
    /// Starts at `t` with `duration`: both due times are set. Answers the due time.
    pub fn start(&mut self, cal: &Calendar, t: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
        let due = deadline::due(cal, t, duration);
        self.started_at = Some(due.effective_start);
        self.due_at = Some(due.due_at);
        self.due_at_current = self.due_at;
        due.due_at
    }

    pub fn is_paused(&self) -> bool {
        self.paused_at.is_some()
    }

    /// Stops the clock at `t`; a clock already stopped keeps its first stop.
    pub fn pause(&mut self, t: DateTime<Utc>) {
        if self.paused_at.is_none() {
            self.paused_at = Some(t);
        }
    }

    /// The working time the clock has been stopped at `t` (zero if it runs).
    pub fn waited(&self, cal: &Calendar, t: DateTime<Utc>) -> TimeDelta {
        self.paused_at.map_or(TimeDelta::zero(), |p| {
            deadline::working_time_between(cal, p, t)
        })
    }

    /// Runs the clock again at `t`: every due time moves later by the working time waited —
    /// except a promise written during the stop (`promised_at`, an apology's new appointment),
    /// which already counts the wait before it and moves only by the wait after it.
    pub fn resume(
        &mut self,
        cal: &Calendar,
        t: DateTime<Utc>,
        promised_at: Option<DateTime<Utc>>,
    ) -> TimeDelta {
        let waited = self.waited(cal, t);
        let Some(paused) = self.paused_at.take() else {
            return waited;
        };
        self.paused_seconds += waited.num_seconds();
        self.due_at = shift(self.due_at, cal, waited);
        let promise_wait = match promised_at {
            Some(p) if p > paused => deadline::working_time_between(cal, p.min(t), t),
            _ => waited,
        };
        self.due_at_current = shift(self.due_at_current, cal, promise_wait);
        self.step_due_at = shift(self.step_due_at, cal, waited);
        waited
    }

    /// Starts again from `t` with the full duration (supplement policy `restart`): earlier
    /// pauses no longer count. Answers the new due time; the step's is set by its reopening.
    pub fn restart(
        &mut self,
        cal: &Calendar,
        t: DateTime<Utc>,
        duration: Duration,
    ) -> DateTime<Utc> {
        self.paused_at = None;
        self.paused_seconds = 0;
        self.start(cal, t, duration)
    }

    /// Stops for good (the dossier is finished).
    pub fn end(&mut self) {
        self.paused_at = None;
    }

    /// Where a due time `d` would fall if the clock ran again at `t`: while it is stopped the
    /// due times have not moved yet, so they are projected from the working time that was left
    /// when it stopped. A running clock's due time is itself.
    pub fn project(&self, cal: &Calendar, t: DateTime<Utc>, d: DateTime<Utc>) -> DateTime<Utc> {
        match self.paused_at {
            Some(paused) => {
                deadline::add_working_time(cal, t, deadline::working_time_between(cal, paused, d))
            }
            None => d,
        }
    }

    /// The legal due time under (another) calendar: from the start with the duration, plus the
    /// working time stopped; never earlier than it is now. `None` before the clock started.
    pub fn recomputed_due(&self, cal: &Calendar, duration: Duration) -> Option<DateTime<Utc>> {
        let (start, old) = (self.started_at?, self.due_at?);
        let base = deadline::due(cal, start, duration).due_at;
        let due = deadline::add_working_time(cal, base, TimeDelta::seconds(self.paused_seconds));
        Some(due.max(old))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::WorkingTimeSettings;
    use chrono::TimeZone;

    fn cal() -> Calendar {
        Calendar::new(Vec::new(), WorkingTimeSettings::default())
    }

    /// Local time (UTC+7) on a date of December 2026 (1 December is a Tuesday).
    fn at(day: u32, h: u32, m: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Ho_Chi_Minh
            .with_ymd_and_hms(2026, 12, day, h, m, 0)
            .unwrap()
            .to_utc()
    }

    fn days(n: u32) -> Duration {
        Duration::working_days(n)
    }

    #[test]
    fn start_sets_both_due_times() {
        let mut c = DueClock::default();
        let due = c.start(&cal(), at(1, 10, 0), days(3));
        assert_eq!(due, at(4, 10, 0));
        assert_eq!((c.due_at, c.due_at_current), (Some(due), Some(due)));
        assert_eq!(c.started_at, Some(at(1, 10, 0)));
    }

    #[test]
    fn pause_then_immediate_resume_changes_nothing() {
        let cal = cal();
        let mut c = DueClock::default();
        c.start(&cal, at(1, 10, 0), days(3));
        c.step_due_at = Some(at(2, 10, 0));
        let before = c.clone();
        c.pause(at(1, 14, 0));
        assert!(c.is_paused());
        assert_eq!(c.resume(&cal, at(1, 14, 0), None), TimeDelta::zero());
        assert_eq!(c, before);
    }

    #[test]
    fn resume_moves_every_due_time_by_the_working_time_waited() {
        let cal = cal();
        let mut c = DueClock::default();
        c.start(&cal, at(1, 10, 0), days(3));
        c.step_due_at = Some(at(2, 10, 0));
        // Stopped from Tuesday 16:00 to Wednesday 09:30: 1 h on Tuesday and 2 h on Wednesday.
        c.pause(at(1, 16, 0));
        c.pause(at(1, 16, 30)); // a second stop keeps the first
        let waited = c.resume(&cal, at(2, 9, 30), None);
        assert_eq!(waited, TimeDelta::hours(3));
        assert_eq!(c.paused_seconds, 3 * 3600);
        // Friday 10:00 + 3 working hours, across the lunch break: 14:30.
        assert_eq!(c.due_at, Some(at(4, 14, 30)));
        assert_eq!(c.due_at_current, Some(at(4, 14, 30)));
        assert_eq!(c.step_due_at, Some(at(2, 14, 30)));
        assert!(!c.is_paused());
        // Resuming a running clock changes nothing.
        let again = c.clone();
        c.resume(&cal, at(3, 9, 0), None);
        assert_eq!(c, again);
    }

    #[test]
    fn a_promise_made_during_the_stop_moves_only_by_the_wait_after_it() {
        let cal = cal();
        let mut c = DueClock::default();
        c.start(&cal, at(1, 10, 0), days(3)); // due Friday 4th 10:00
        c.pause(at(2, 10, 0)); // Wednesday: supplement requested
        // Thursday 10:00, a day into the wait, the leader promises Wednesday 9th 10:00.
        c.due_at_current = Some(at(9, 10, 0));
        // The supplement arrives Friday 10:00: two working days waited in all, one after the
        // promise.
        let waited = c.resume(&cal, at(4, 10, 0), Some(at(3, 10, 0)));
        assert_eq!(waited, TimeDelta::hours(16));
        assert_eq!(c.due_at, Some(at(8, 10, 0)));
        assert_eq!(c.due_at_current, Some(at(10, 10, 0)));
        // A promise from before the stop moves by the whole wait, like the legal due time.
        let mut c = DueClock::default();
        c.start(&cal, at(1, 10, 0), days(3));
        c.due_at_current = Some(at(7, 10, 0));
        c.pause(at(2, 10, 0));
        c.resume(&cal, at(4, 10, 0), Some(at(1, 11, 0)));
        assert_eq!(c.due_at_current, Some(at(9, 10, 0)));
    }

    #[test]
    fn restart_forgets_earlier_pauses() {
        let cal = cal();
        let mut c = DueClock::default();
        c.start(&cal, at(1, 10, 0), days(3));
        c.pause(at(1, 16, 0));
        c.resume(&cal, at(2, 9, 30), None);
        c.pause(at(2, 10, 0));
        let due = c.restart(&cal, at(7, 8, 0), days(3));
        assert_eq!(due, at(10, 8, 0));
        assert_eq!((c.paused_at, c.paused_seconds), (None, 0));
        assert_eq!(c.due_at_current, Some(due));
    }

    #[test]
    fn a_stopped_clock_projects_its_due_time_from_the_time_left() {
        let cal = cal();
        let mut c = DueClock::default();
        let due = c.start(&cal, at(1, 10, 0), days(3));
        assert_eq!(c.project(&cal, at(3, 9, 0), due), due);
        // Stopped on Friday 10:00 with one working day left … resumed the next Tuesday 8:00.
        c.pause(at(3, 10, 0));
        assert_eq!(c.project(&cal, at(8, 8, 0), due), at(9, 8, 0));
    }

    #[test]
    fn recomputation_never_makes_the_due_time_earlier() {
        let cal = cal();
        let mut c = DueClock::default();
        assert_eq!(c.recomputed_due(&cal, days(3)), None);
        let due = c.start(&cal, at(1, 10, 0), days(3));
        assert_eq!(c.recomputed_due(&cal, days(3)), Some(due));
        c.paused_seconds = 3600;
        assert_eq!(c.recomputed_due(&cal, days(3)), Some(at(4, 11, 0)));
        c.due_at = Some(at(8, 10, 0));
        assert_eq!(c.recomputed_due(&cal, days(3)), Some(at(8, 10, 0)));
    }
}
