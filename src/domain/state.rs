//! The dossier lifecycle's vocabulary (design §4): states with their national status codes,
//! and the actions. Which action goes from where to where, by whom, is the table in
//! `domain::dossier::lifecycle`.

use serde::{Deserialize, Serialize};

use crate::domain::calendar::UnknownValue;

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
        // The national wording of TrangThaiHoSo 1–10 (as exchanged with the national portal).
        match self {
            State::Submitted => "Mới đăng ký",
            State::Received => "Được tiếp nhận",
            State::Refused => "Không được tiếp nhận",
            State::Processing => "Đang xử lý",
            State::SupplementRequested => "Yêu cầu bổ sung giấy tờ",
            State::AwaitingPayment => "Yêu cầu thực hiện nghĩa vụ tài chính",
            State::WithdrawalRequested => "Công dân yêu cầu rút hồ sơ",
            State::Stopped => "Dừng xử lý",
            State::Resolved => "Đã xử lý xong",
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
    /// Components handed in while an online filing waits for completion (portal or counter).
    AddComponents,
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
    /// Every action, the system's own last.
    pub const ALL: [Action; 20] = [
        Action::Submit,
        Action::Receive,
        Action::AskCompletion,
        Action::AddComponents,
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
        Action::CalendarRecomputed,
    ];

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

    /// The action as staff read it on a button (Vietnamese).
    pub fn label_vi(self) -> &'static str {
        match self {
            Action::Submit => "Nộp trực tuyến",
            Action::Receive => "Tiếp nhận",
            Action::AskCompletion => "Yêu cầu hoàn thiện hồ sơ",
            Action::AddComponents => "Bổ sung thành phần hồ sơ",
            Action::Accept => "Tiếp nhận hồ sơ trực tuyến",
            Action::Refuse => "Từ chối tiếp nhận",
            Action::Transfer => "Chuyển phòng giải quyết",
            Action::Forward => "Chuyển bước tiếp theo",
            Action::RequestSupplement => "Yêu cầu bổ sung hồ sơ",
            Action::SupplementReceived => "Đã nhận hồ sơ bổ sung",
            Action::RequestPayment => "Yêu cầu thực hiện nghĩa vụ tài chính",
            Action::PaymentReceived => "Đã thực hiện nghĩa vụ tài chính",
            Action::RequestWithdrawal => "Ghi nhận yêu cầu rút hồ sơ",
            Action::Stop => "Dừng xử lý",
            Action::DeclineWithdrawal => "Không chấp nhận rút hồ sơ",
            Action::Approve => "Phê duyệt",
            Action::Reject => "Từ chối giải quyết",
            Action::Apologize => "Xin lỗi, hẹn lại ngày trả",
            Action::Deliver => "Trả kết quả",
            Action::CalendarRecomputed => "Tính lại hạn theo lịch",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Receive => "receive",
            Action::AskCompletion => "ask_completion",
            Action::AddComponents => "add_components",
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

    /// Taken through a route of its own (`POST /dossiers/{code}/components`), which the
    /// portal may call as well as the counter.
    pub fn has_own_route(self) -> bool {
        self == Action::AddComponents
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_the_national_wording() {
        assert_eq!(State::Submitted.label_vi(), "Mới đăng ký");
        assert_eq!(State::Refused.label_vi(), "Không được tiếp nhận");
        assert_eq!(State::Resolved.label_vi(), "Đã xử lý xong");
    }

    #[test]
    fn status_codes_are_the_national_ones() {
        let codes: Vec<i32> = State::ALL.into_iter().map(State::status_code).collect();
        assert_eq!(codes, (1..=10).collect::<Vec<_>>());
        for s in State::ALL {
            assert_eq!(s.as_str().parse::<State>().unwrap(), s);
        }
    }
}
