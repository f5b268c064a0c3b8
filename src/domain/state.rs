//! The dossier lifecycle (design §4): states with their national status codes, actions,
//! who may perform them and from which states.

use serde::{Deserialize, Serialize};

use crate::domain::calendar::UnknownValue;
use crate::domain::role::Role;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Submitted,
    Received,
    Refused,
    Processing,
    SupplementRequested,
    AwaitingPayment,
    WithdrawalRequested,
    Stopped,
    Resolved,
    Delivered,
}

impl State {
    pub const ALL: [State; 10] = [
        State::Submitted,
        State::Received,
        State::Refused,
        State::Processing,
        State::SupplementRequested,
        State::AwaitingPayment,
        State::WithdrawalRequested,
        State::Stopped,
        State::Resolved,
        State::Delivered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Submitted => "submitted",
            State::Received => "received",
            State::Refused => "refused",
            State::Processing => "processing",
            State::SupplementRequested => "supplement_requested",
            State::AwaitingPayment => "awaiting_payment",
            State::WithdrawalRequested => "withdrawal_requested",
            State::Stopped => "stopped",
            State::Resolved => "resolved",
            State::Delivered => "delivered",
        }
    }

    /// National status code (TrangThaiHoSo).
    pub fn status_code(self) -> i32 {
        match self {
            State::Submitted => 1,
            State::Received => 2,
            State::Refused => 3,
            State::Processing => 4,
            State::SupplementRequested => 5,
            State::AwaitingPayment => 6,
            State::WithdrawalRequested => 7,
            State::Stopped => 8,
            State::Resolved => 9,
            State::Delivered => 10,
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            State::Submitted => "Đã nộp trực tuyến, chờ tiếp nhận",
            State::Received => "Đã tiếp nhận",
            State::Refused => "Từ chối tiếp nhận",
            State::Processing => "Đang giải quyết",
            State::SupplementRequested => "Yêu cầu bổ sung hồ sơ",
            State::AwaitingPayment => "Chờ thực hiện nghĩa vụ tài chính",
            State::WithdrawalRequested => "Công dân yêu cầu rút hồ sơ",
            State::Stopped => "Dừng xử lý",
            State::Resolved => "Đã có kết quả",
            State::Delivered => "Đã trả kết quả",
        }
    }

    /// The deadline clock runs (a dossier in these states can be overdue).
    pub fn clock_running(self) -> bool {
        matches!(
            self,
            State::Received | State::Processing | State::AwaitingPayment
        )
    }

    /// Received and not finished: counted as in progress.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            State::Received
                | State::Processing
                | State::SupplementRequested
                | State::AwaitingPayment
                | State::WithdrawalRequested
        )
    }
}

impl std::str::FromStr for State {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        State::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| UnknownValue::new("state", s, "submitted, received, refused, processing, supplement_requested, awaiting_payment, withdrawal_requested, stopped, resolved, delivered"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Submit,
    Receive,
    AskCompletion,
    Accept,
    Refuse,
    Transfer,
    Forward,
    RequestSupplement,
    SupplementReceived,
    RequestPayment,
    PaymentReceived,
    RequestWithdrawal,
    Stop,
    DeclineWithdrawal,
    Approve,
    Reject,
    Apologize,
    Deliver,
    /// Not a user action: a calendar change moved the due time (history only).
    CalendarRecomputed,
}

impl Action {
    /// The actions a user may post to `/dossiers/{code}/actions/{action}`.
    pub const POSTABLE: [Action; 16] = [
        Action::AskCompletion,
        Action::Accept,
        Action::Refuse,
        Action::Transfer,
        Action::Forward,
        Action::RequestSupplement,
        Action::SupplementReceived,
        Action::RequestPayment,
        Action::PaymentReceived,
        Action::RequestWithdrawal,
        Action::Stop,
        Action::DeclineWithdrawal,
        Action::Approve,
        Action::Reject,
        Action::Apologize,
        Action::Deliver,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Receive => "receive",
            Action::AskCompletion => "ask_completion",
            Action::Accept => "accept",
            Action::Refuse => "refuse",
            Action::Transfer => "transfer",
            Action::Forward => "forward",
            Action::RequestSupplement => "request_supplement",
            Action::SupplementReceived => "supplement_received",
            Action::RequestPayment => "request_payment",
            Action::PaymentReceived => "payment_received",
            Action::RequestWithdrawal => "request_withdrawal",
            Action::Stop => "stop",
            Action::DeclineWithdrawal => "decline_withdrawal",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Apologize => "apologize",
            Action::Deliver => "deliver",
            Action::CalendarRecomputed => "calendar_recomputed",
        }
    }

    pub fn parse_postable(s: &str) -> Option<Action> {
        Action::POSTABLE.into_iter().find(|a| a.as_str() == s)
    }

    /// Roles that may perform the action (admins may perform every action: back-entry).
    pub fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Action::Submit => &[Portal, Admin],
            Action::Receive
            | Action::AskCompletion
            | Action::Accept
            | Action::Refuse
            | Action::SupplementReceived
            | Action::PaymentReceived
            | Action::RequestWithdrawal
            | Action::Deliver => &[Clerk, Admin],
            Action::Transfer => &[Clerk, Leader, Admin],
            Action::Forward | Action::RequestSupplement | Action::RequestPayment => {
                &[Officer, Leader, Admin]
            }
            Action::Stop
            | Action::DeclineWithdrawal
            | Action::Approve
            | Action::Reject
            | Action::Apologize => &[Leader, Admin],
            Action::CalendarRecomputed => &[],
        }
    }

    /// Whether the action may be taken in `state`.
    pub fn allowed_from(self, state: State) -> bool {
        use State::*;
        match self {
            Action::Submit | Action::Receive | Action::CalendarRecomputed => false,
            Action::AskCompletion | Action::Accept => state == Submitted,
            Action::Refuse => state == Submitted,
            Action::Transfer => state == Received,
            Action::Forward | Action::RequestSupplement | Action::RequestPayment => {
                state == Processing
            }
            Action::Approve | Action::Reject => state == Processing,
            Action::SupplementReceived => state == SupplementRequested,
            Action::PaymentReceived => state == AwaitingPayment,
            Action::RequestWithdrawal => {
                matches!(
                    state,
                    Received | Processing | SupplementRequested | AwaitingPayment
                )
            }
            Action::Stop => matches!(state, WithdrawalRequested | SupplementRequested),
            Action::DeclineWithdrawal => state == WithdrawalRequested,
            Action::Apologize => {
                matches!(state, Processing | SupplementRequested | AwaitingPayment)
            }
            Action::Deliver => state == Resolved,
        }
    }

    /// The state after the action (`previous` is the state before a withdrawal request).
    pub fn target(self, from: State, previous: Option<State>) -> State {
        use State::*;
        match self {
            Action::Submit | Action::AskCompletion => Submitted,
            Action::Receive | Action::Accept => Received,
            Action::Refuse => Refused,
            Action::Transfer
            | Action::Forward
            | Action::SupplementReceived
            | Action::PaymentReceived => Processing,
            Action::RequestSupplement => SupplementRequested,
            Action::RequestPayment => AwaitingPayment,
            Action::RequestWithdrawal => WithdrawalRequested,
            Action::Stop => Stopped,
            Action::DeclineWithdrawal => previous.unwrap_or(Processing),
            Action::Approve | Action::Reject => Resolved,
            Action::Apologize | Action::CalendarRecomputed => from,
            Action::Deliver => Delivered,
        }
    }
}

/// The actions a role may take now (for 409 answers and the dossier view).
pub fn allowed_actions(state: State, role: Role) -> Vec<&'static str> {
    Action::POSTABLE
        .into_iter()
        .filter(|a| a.allowed_from(state) && a.roles().contains(&role))
        .map(Action::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for a in Action::POSTABLE {
            assert!(State::ALL.into_iter().any(|s| a.allowed_from(s)), "{a:?}");
            assert!(a.roles().contains(&Role::Admin), "{a:?}");
            assert_eq!(Action::parse_postable(a.as_str()), Some(a));
        }
    }

    #[test]
    fn status_codes_are_the_national_ones() {
        let codes: Vec<i32> = State::ALL.into_iter().map(State::status_code).collect();
        assert_eq!(codes, (1..=10).collect::<Vec<_>>());
        for s in State::ALL {
            assert_eq!(s.as_str().parse::<State>().unwrap(), s);
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
            Action::Apologize.target(State::AwaitingPayment, None),
            State::AwaitingPayment
        );
    }
}
