//! A procedure, a calendar and received dossiers for the rules' unit tests.

use chrono::{DateTime, TimeZone, Utc};

use super::Channel;
use super::DossierRecord;
use super::input::{Applicant, ComponentInput, ComponentKind, CreateDossierRequest};
use super::receipt::{self, ProcedureVersion};
use crate::domain::calendar::{Calendar, WorkingTimeSettings};
use crate::domain::procedure::ProcedureDefinition;
use crate::domain::role::Role;

/// Five working days; steps S1 (unit U1, one day) and S2 (unit U2, two days); item A required
/// and to be digitised, B optional; supplements pause the clock, one request at most.
pub fn procedure(policy: &str) -> ProcedureDefinition {
    serde_json::from_value(serde_json::json!({
        "code": "P1", "name": "Thủ tục thử", "field": "Thử", "unit_code": "U1",
        "duration": {"value": 5, "unit": "working_days"},
        "online_level": "full", "supplement_policy": policy,
        "checklist": [
            {"code": "A", "name": "Đơn", "required": true, "must_digitise": true},
            {"code": "B", "name": "Bản vẽ", "required": false}
        ],
        "steps": [
            {"code": "S1", "name": "Thẩm định", "unit_code": "U1", "role": "officer",
             "allowance": {"value": 1, "unit": "working_days"}},
            {"code": "S2", "name": "Phê duyệt", "unit_code": "U2", "role": "leader",
             "allowance": {"value": 2, "unit": "working_days"}}
        ]
    }))
    .unwrap()
}

pub fn cal() -> Calendar {
    Calendar::new(Vec::new(), WorkingTimeSettings::default())
}

/// Local time (UTC+7) in December 2026 (the 1st is a Tuesday).
pub fn at(day: u32, h: u32, m: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Ho_Chi_Minh
        .with_ymd_and_hms(2026, 12, day, h, m, 0)
        .unwrap()
        .to_utc()
}

pub fn request(items: &[&str]) -> CreateDossierRequest {
    CreateDossierRequest {
        procedure_code: "P1".into(),
        channel: Channel::Direct,
        applicant: Applicant {
            kind: "citizen".into(),
            name: "Nguyễn Văn An".into(),
            id_number: Some("001".into()),
            phone: None,
            email: None,
            address: None,
            language: None,
        },
        components: items
            .iter()
            .map(|c| ComponentInput {
                item_code: (*c).into(),
                kind: ComponentKind::Original,
                count: 1,
                pages: None,
            })
            .collect(),
        note: String::new(),
        received_at: None,
        refused_reasons: None,
    }
}

/// A dossier received at the counter on Tuesday 1 December at 10:00 (due Tuesday 8th 10:00).
pub fn received(def: &ProcedureDefinition) -> DossierRecord {
    let version = ProcedureVersion {
        version_id: "v1",
        definition: def,
    };
    receipt::receive(
        &request(&["A"]),
        Role::Clerk,
        Some(version),
        &cal(),
        at(1, 10, 0),
    )
    .unwrap()
    .assign("id-1".into(), "CODE-1".into(), "KEY123")
}
