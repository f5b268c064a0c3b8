//! The transition table (design §4) as data: one row per action — the states it may be taken
//! from, the state it leads to, who may take it, what it does to the deadline clock and the
//! notice it raises. Every rule the use cases check is a look-up in [`TRANSITIONS`];
//! `docs/lifecycle.md` shows the same table, rendered by a unit test.

use crate::domain::notice::Event;
use crate::domain::role::Role;
use crate::domain::state::{Action, State};

/// Where an action leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum To {
    State(State),
    /// The state stays as it is.
    Same,
    /// The state before the withdrawal request (processing if none was recorded).
    Previous,
}

/// What an action does to the dossier's deadline clock (`domain::dossier::clock`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockEffect {
    /// Nothing: a running clock runs on, a stopped one stays stopped.
    Unchanged,
    /// Starts at the receipt time rolled into working time; the due time is set.
    Start,
    /// Stops (a clock already stopped keeps its first stop).
    Pause,
    /// Runs again if the new state runs it; every due time moves later by the working
    /// time waited.
    Resume,
    /// `Resume` or, under a procedure whose supplement policy is `restart`, starts again
    /// from now with the full duration.
    ResumeOrRestart,
    /// Stops for good: the dossier is finished.
    End,
}

impl ClockEffect {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockEffect::Unchanged => "—",
            ClockEffect::Start => "starts",
            ClockEffect::Pause => "pauses",
            ClockEffect::Resume => "resumes",
            ClockEffect::ResumeOrRestart => "resumes (pause policy) or restarts (restart policy)",
            ClockEffect::End => "ends",
        }
    }
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub struct Transition {
    pub action: Action,
    /// Taken when the dossier is created (`POST /dossiers`): from no state.
    pub creates: bool,
    /// The states the action may be taken from.
    pub from: &'static [State],
    pub to: To,
    /// Who may take it. Admins may take every action (back-entry of paper dossiers).
    pub roles: &'static [Role],
    pub clock: ClockEffect,
    /// The notice raised: to the applicant, or (`step_assigned`) to the unit given the step.
    pub notice: Option<Event>,
}

use ClockEffect as C;
use Role::{Admin, Clerk, Leader, Officer, Portal};
use State::*;

const fn row(
    action: Action,
    creates: bool,
    from: &'static [State],
    to: To,
    roles: &'static [Role],
    clock: ClockEffect,
    notice: Option<Event>,
) -> Transition {
    Transition {
        action,
        creates,
        from,
        to,
        roles,
        clock,
        notice,
    }
}

/// Design §4, in its order.
#[rustfmt::skip]
pub const TRANSITIONS: [Transition; 20] = [
    row(Action::Submit, true, &[], To::State(Submitted), &[Portal, Admin], C::Unchanged, None),
    row(Action::Receive, true, &[], To::State(Received), &[Clerk, Admin], C::Start, Some(Event::Received)),
    row(Action::AskCompletion, false, &[Submitted], To::Same, &[Clerk, Admin], C::Unchanged, Some(Event::CompletionAsked)),
    row(Action::AddComponents, false, &[Submitted], To::Same, &[Clerk, Portal, Admin], C::Unchanged, None),
    row(Action::Accept, false, &[Submitted], To::State(Received), &[Clerk, Admin], C::Start, Some(Event::Received)),
    row(Action::Refuse, true, &[Submitted], To::State(Refused), &[Clerk, Admin], C::End, Some(Event::Refused)),
    row(Action::Transfer, false, &[Received], To::State(Processing), &[Clerk, Leader, Admin], C::Unchanged, Some(Event::StepAssigned)),
    row(Action::Forward, false, &[Processing], To::State(Processing), &[Officer, Leader, Admin], C::Unchanged, Some(Event::StepAssigned)),
    row(Action::RequestSupplement, false, &[Processing], To::State(SupplementRequested), &[Officer, Leader, Admin], C::Pause, Some(Event::SupplementRequested)),
    row(Action::SupplementReceived, false, &[SupplementRequested], To::State(Processing), &[Clerk, Admin], C::ResumeOrRestart, None),
    row(Action::RequestPayment, false, &[Processing], To::State(AwaitingPayment), &[Officer, Leader, Admin], C::Unchanged, None),
    row(Action::PaymentReceived, false, &[AwaitingPayment], To::State(Processing), &[Clerk, Admin], C::Unchanged, None),
    row(Action::RequestWithdrawal, false, &[Received, Processing, SupplementRequested, AwaitingPayment], To::State(WithdrawalRequested), &[Clerk, Admin], C::Pause, None),
    row(Action::Stop, false, &[WithdrawalRequested, SupplementRequested], To::State(Stopped), &[Leader, Admin], C::End, None),
    row(Action::DeclineWithdrawal, false, &[WithdrawalRequested], To::Previous, &[Leader, Admin], C::Resume, None),
    row(Action::Approve, false, &[Processing], To::State(Resolved), &[Leader, Admin], C::End, Some(Event::Resolved)),
    row(Action::Reject, false, &[Processing], To::State(Resolved), &[Leader, Admin], C::End, Some(Event::Resolved)),
    row(Action::Apologize, false, &[Processing, SupplementRequested, AwaitingPayment], To::Same, &[Leader, Admin], C::Unchanged, Some(Event::Apology)),
    row(Action::Deliver, false, &[Resolved], To::State(Delivered), &[Clerk, Admin], C::Unchanged, Some(Event::Delivered)),
    row(Action::CalendarRecomputed, false, &[], To::Same, &[], C::Unchanged, None),
];

impl Action {
    /// The action's row of the table.
    pub fn rule(self) -> &'static Transition {
        match TRANSITIONS.iter().find(|t| t.action == self) {
            Some(t) => t,
            // Every action has a row (checked by `every_action_has_one_row`).
            None => &TRANSITIONS[TRANSITIONS.len() - 1],
        }
    }

    /// Roles that may perform the action (admins may perform every action: back-entry).
    pub fn roles(self) -> &'static [Role] {
        self.rule().roles
    }

    pub fn may(self, role: Role) -> bool {
        self.roles().contains(&role)
    }

    /// Whether the action may be taken on a dossier in `state`.
    pub fn allowed_from(self, state: State) -> bool {
        self.rule().from.contains(&state)
    }

    /// The state after the action (`previous` is the state before a withdrawal request).
    pub fn target(self, from: State, previous: Option<State>) -> State {
        match self.rule().to {
            To::State(s) => s,
            To::Same => from,
            To::Previous => previous.unwrap_or(Processing),
        }
    }

    pub fn clock(self) -> ClockEffect {
        self.rule().clock
    }

    /// The notice the action raises, if any.
    pub fn notice(self) -> Option<Event> {
        self.rule().notice
    }
}

/// The actions a role may take now (for 409 answers and the dossier view).
pub fn allowed_actions(state: State, role: Role) -> Vec<&'static str> {
    Action::POSTABLE
        .into_iter()
        .filter(|a| a.allowed_from(state) && a.may(role))
        .map(Action::as_str)
        .collect()
}

/// The table as Markdown, the way `docs/lifecycle.md` shows it.
pub fn markdown() -> String {
    let states = |from: &[State], creates: bool| {
        let mut parts: Vec<String> = Vec::new();
        if creates {
            parts.push("∅".into());
        }
        parts.extend(
            from.iter()
                .map(|s| format!("{} `{}`", s.status_code(), s.as_str())),
        );
        if parts.is_empty() {
            "—".into()
        } else {
            parts.join(", ")
        }
    };
    let mut out = String::from(
        "| Action | From | To | Roles | Clock | Notice |\n|---|---|---|---|---|---|\n",
    );
    for t in &TRANSITIONS {
        let to = match t.to {
            To::State(s) => format!("{} `{}`", s.status_code(), s.as_str()),
            To::Same => "(stays)".into(),
            To::Previous => "previous (before the withdrawal request)".into(),
        };
        let roles = if t.roles.is_empty() {
            "— (system)".into()
        } else {
            t.roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let notice = t.notice.map_or("—".into(), |e| format!("`{}`", e.as_str()));
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            t.action.as_str(),
            states(t.from, t.creates),
            to,
            roles,
            t.clock.as_str(),
            notice
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_one_row() {
        assert_eq!(TRANSITIONS.len(), Action::ALL.len());
        for a in Action::ALL {
            let rows = TRANSITIONS.iter().filter(|t| t.action == a).count();
            assert_eq!(rows, 1, "{a:?}");
            assert_eq!(a.rule().action, a);
        }
    }

    #[test]
    fn terminal_states_allow_nothing() {
        for s in [State::Refused, State::Stopped, State::Delivered] {
            for role in Role::ALL {
                assert!(allowed_actions(s, role).is_empty(), "{s:?}");
            }
        }
    }

    #[test]
    fn every_postable_action_has_a_source_state_and_roles() {
        for a in Action::POSTABLE.into_iter().chain([Action::AddComponents]) {
            assert!(State::ALL.into_iter().any(|s| a.allowed_from(s)), "{a:?}");
            assert!(a.may(Role::Admin), "{a:?}");
            assert_eq!(
                Action::parse_postable(a.as_str()).is_some(),
                !a.has_own_route()
            );
        }
        for a in [Action::Submit, Action::Receive, Action::CalendarRecomputed] {
            assert!(Action::parse_postable(a.as_str()).is_none());
            assert!(State::ALL.into_iter().all(|s| !a.allowed_from(s)));
        }
    }

    #[test]
    fn withdrawal_decline_returns_to_the_previous_state() {
        assert_eq!(
            Action::DeclineWithdrawal
                .target(State::WithdrawalRequested, Some(State::SupplementRequested)),
            State::SupplementRequested
        );
        assert_eq!(
            Action::DeclineWithdrawal.target(State::WithdrawalRequested, None),
            State::Processing
        );
        assert_eq!(
            Action::Apologize.target(State::AwaitingPayment, None),
            State::AwaitingPayment
        );
    }

    #[test]
    fn ending_actions_lead_to_finished_states() {
        for t in &TRANSITIONS {
            if let (ClockEffect::End, To::State(s)) = (t.clock, t.to) {
                assert!(!s.is_open() && !s.clock_running(), "{:?}", t.action);
            }
            if t.clock == ClockEffect::Pause {
                assert!(matches!(t.to, To::State(s) if !s.clock_running()));
            }
        }
    }

    /// `docs/lifecycle.md` carries the rendered table between two markers; when the table
    /// changes, the test prints the new text to paste.
    #[test]
    fn docs_show_the_table() {
        let doc = include_str!("../../../docs/lifecycle.md");
        let begin = "<!-- transitions:begin -->\n";
        let end = "<!-- transitions:end -->";
        let shown = doc
            .split_once(begin)
            .and_then(|(_, rest)| rest.split_once(end))
            .map(|(table, _)| table)
            .expect("docs/lifecycle.md has the transitions markers");
        let rendered = markdown();
        assert_eq!(
            shown, rendered,
            "docs/lifecycle.md is out of date; the table is now:\n{rendered}"
        );
    }
}
