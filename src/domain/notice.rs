//! The notices a dossier raises (design §8): to the applicant on a state change, to staff
//! when a step is assigned or a due time nears or passes. `notify` renders and queues them.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Received,
    CompletionAsked,
    Refused,
    SupplementRequested,
    Apology,
    /// Supplement received under the `restart` policy: a new appointment (form 01 reissued).
    Reappointed,
    Resolved,
    Delivered,
    StepAssigned,
    StepDueSoon,
    DossierDueSoon,
    DossierOverdue,
}

impl Event {
    pub const ALL: [Event; 12] = [
        Event::Received,
        Event::CompletionAsked,
        Event::Refused,
        Event::SupplementRequested,
        Event::Apology,
        Event::Reappointed,
        Event::Resolved,
        Event::Delivered,
        Event::StepAssigned,
        Event::StepDueSoon,
        Event::DossierDueSoon,
        Event::DossierOverdue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Received => "received",
            Event::CompletionAsked => "completion_asked",
            Event::Refused => "refused",
            Event::SupplementRequested => "supplement_requested",
            Event::Apology => "apology",
            Event::Reappointed => "reappointed",
            Event::Resolved => "resolved",
            Event::Delivered => "delivered",
            Event::StepAssigned => "step_assigned",
            Event::StepDueSoon => "step_due_soon",
            Event::DossierDueSoon => "dossier_due_soon",
            Event::DossierOverdue => "dossier_overdue",
        }
    }
}
