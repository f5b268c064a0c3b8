//! Administrative procedures (design §3): the definition a dossier is received under, and
//! the rules that make a definition valid.

use std::collections::HashSet;

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::deadline::{Duration, DurationUnit};
use crate::domain::role::Role;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnlineLevel {
    Full,
    Partial,
    None,
}

/// What a supplement request does to the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SupplementPolicy {
    /// The clock stops while waiting; the due time moves later by the working time waited.
    Pause,
    /// The clock starts again, with the full duration, when the supplement arrives.
    Restart,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChecklistItem {
    pub code: String,
    pub name: String,
    pub required: bool,
    #[serde(default)]
    pub originals: u32,
    #[serde(default)]
    pub copies: u32,
    #[serde(default)]
    pub must_digitise: bool,
    /// Form name of the item's template, if any ("Mẫu A.I.1").
    #[serde(default)]
    pub template: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Step {
    pub code: String,
    pub name: String,
    pub unit_code: String,
    /// `officer` or `leader`.
    pub role: Role,
    #[schema(value_type = Object)]
    pub allowance: Duration,
}

fn default_max_supplements() -> u32 {
    1
}

/// A procedure as clients write it (`POST`/`PUT /api/v1/procedures`, `motcua import`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcedureDefinition {
    pub code: String,
    #[serde(default)]
    pub local_code: Option<String>,
    pub name: String,
    pub field: String,
    pub unit_code: String,
    #[schema(value_type = Object)]
    pub duration: Duration,
    /// When online filing has its own statutory duration.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub online_duration: Option<Duration>,
    #[serde(default)]
    pub fee_vnd: i64,
    pub online_level: OnlineLevel,
    #[serde(default = "yes")]
    pub paper_result: bool,
    #[serde(default = "yes")]
    pub issues_appointment: bool,
    pub supplement_policy: SupplementPolicy,
    #[serde(default = "default_max_supplements")]
    pub max_supplement_requests: u32,
    pub checklist: Vec<ChecklistItem>,
    pub steps: Vec<Step>,
    #[serde(default)]
    pub legal_basis: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

fn yes() -> bool {
    true
}

fn valid_code(c: &str) -> bool {
    (1..=64).contains(&c.len())
        && c.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-' | '_'))
}

/// The working time a duration is worth when steps are compared with it. Calendar days
/// count five working days a week (rounded down), so steps never promise more than the law.
pub fn budget(d: Duration, day_length: TimeDelta) -> TimeDelta {
    match d.unit {
        DurationUnit::CalendarDays => {
            day_length * (d.value.min(Duration::MAX_VALUE) * 5 / 7) as i32
        }
        _ => d.working_time(day_length).unwrap_or(TimeDelta::zero()),
    }
}

impl ProcedureDefinition {
    /// Every rule that needs nothing but the definition; `(field, message)` pairs.
    pub fn problems(&self, day_length: TimeDelta) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut add = |f: &str, m: &str| out.push((f.to_owned(), m.to_owned()));
        if !valid_code(&self.code) {
            add("code", "must be 1–64 letters, digits, '.', '-' or '_'");
        }
        if self.name.trim().is_empty() {
            add("name", "must not be empty");
        }
        if self.field.trim().is_empty() {
            add("field", "must not be empty");
        }
        if let Err(e) = self.duration.check() {
            add("duration", &e.to_string());
        }
        if let Some(Err(e)) = self.online_duration.map(|d| d.check()) {
            add("online_duration", &e.to_string());
        }
        if self.fee_vnd < 0 {
            add("fee_vnd", "must not be negative");
        }
        if self.max_supplement_requests > 10 {
            add("max_supplement_requests", "must be at most 10");
        }
        if self.checklist.is_empty() {
            add("checklist", "must list at least one item");
        }
        let mut seen = HashSet::new();
        for (i, item) in self.checklist.iter().enumerate() {
            if !valid_code(&item.code) {
                add(
                    &format!("checklist[{i}].code"),
                    "must be 1–64 letters, digits, '.', '-' or '_'",
                );
            } else if !seen.insert(item.code.as_str()) {
                add(
                    &format!("checklist[{i}].code"),
                    "is used twice in this procedure",
                );
            }
            if item.name.trim().is_empty() {
                add(&format!("checklist[{i}].name"), "must not be empty");
            }
        }
        if self.steps.is_empty() {
            add("steps", "must list at least one workflow step");
        }
        let mut seen = HashSet::new();
        let mut total = TimeDelta::zero();
        for (i, step) in self.steps.iter().enumerate() {
            if !valid_code(&step.code) || !seen.insert(step.code.as_str()) {
                add(
                    &format!("steps[{i}].code"),
                    "must be a code used once in this procedure",
                );
            }
            if !matches!(step.role, Role::Officer | Role::Leader) {
                add(&format!("steps[{i}].role"), "must be officer or leader");
            }
            if let Err(e) = step.allowance.check() {
                add(&format!("steps[{i}].allowance"), &e.to_string());
            }
            total += budget(step.allowance, day_length);
        }
        let limit = [Some(self.duration), self.online_duration]
            .into_iter()
            .flatten()
            .map(|d| budget(d, day_length))
            .min()
            .unwrap_or(TimeDelta::zero());
        if total > limit {
            add(
                "steps",
                &format!(
                    "the steps' allowances ({} working hours) exceed the statutory duration ({} working hours)",
                    total.num_minutes() as f64 / 60.0,
                    limit.num_minutes() as f64 / 60.0
                ),
            );
        }
        out
    }

    /// The duration that applies to a dossier of this channel.
    pub fn duration_for(&self, online: bool) -> Duration {
        match (online, self.online_duration) {
            (true, Some(d)) => d,
            _ => self.duration,
        }
    }

    pub fn item(&self, code: &str) -> Option<&ChecklistItem> {
        self.checklist.iter().find(|i| i.code == code)
    }

    /// The units the definition names (each must exist).
    pub fn unit_codes(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.unit_code.as_str())
            .chain(self.steps.iter().map(|s| s.unit_code.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ProcedureDefinition {
        ProcedureDefinition {
            code: "1.009645".into(),
            local_code: None,
            name: "Cấp Giấy chứng nhận đăng ký đầu tư".into(),
            field: "Đầu tư".into(),
            unit_code: "P.DT".into(),
            duration: Duration::calendar_days(15),
            online_duration: None,
            fee_vnd: 0,
            online_level: OnlineLevel::Full,
            paper_result: true,
            issues_appointment: true,
            supplement_policy: SupplementPolicy::Restart,
            max_supplement_requests: 1,
            checklist: vec![ChecklistItem {
                code: "TP01".into(),
                name: "Văn bản đề nghị".into(),
                required: true,
                originals: 1,
                copies: 0,
                must_digitise: true,
                template: None,
            }],
            steps: vec![Step {
                code: "B1".into(),
                name: "Thẩm định".into(),
                unit_code: "P.DT".into(),
                role: Role::Officer,
                allowance: Duration::working_days(10),
            }],
            legal_basis: None,
            source: None,
            notes: None,
        }
    }

    #[test]
    fn fifteen_calendar_days_allow_ten_working_days_of_steps() {
        let day = TimeDelta::hours(8);
        assert!(sample().problems(day).is_empty());
        let mut p = sample();
        p.steps[0].allowance = Duration::working_days(11);
        assert_eq!(p.problems(day)[0].0, "steps");
    }

    #[test]
    fn duplicate_checklist_codes_and_bad_roles_are_named() {
        let mut p = sample();
        p.checklist.push(p.checklist[0].clone());
        p.steps[0].role = Role::Clerk;
        let fields: Vec<String> = p
            .problems(TimeDelta::hours(8))
            .into_iter()
            .map(|x| x.0)
            .collect();
        assert_eq!(
            fields,
            vec!["checklist[1].code".to_owned(), "steps[0].role".to_owned()]
        );
    }
}
