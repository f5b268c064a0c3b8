//! Why a rule refuses: a problem code, a message, per-field messages and further members.
//! The domain says no with these; `app` turns them into HTTP problems unchanged.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::code::Code;

#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    pub code: Code,
    pub detail: String,
    pub fields: BTreeMap<String, String>,
    pub extra: Vec<(&'static str, Value)>,
}

pub type Checked<T> = Result<T, Rejection>;

impl Rejection {
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        Rejection {
            code,
            detail: detail.into(),
            fields: BTreeMap::new(),
            extra: Vec::new(),
        }
    }

    /// A 422 about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut r = Rejection::new(Code::ValidationFailed, format!("{field}: {message}"));
        r.fields.insert(field.to_owned(), message);
        r
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Rejection::new(Code::AuthForbidden, detail)
    }

    pub fn with_extra(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.extra.push((key, value.into()));
        self
    }
}

/// Collects per-field messages (the first message per field wins) and turns them into one 422.
#[derive(Default)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    pub fn check(&mut self, ok: bool, field: &str, message: &str) {
        if !ok {
            self.add(field, message);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_checked(self) -> Checked<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let detail = self
            .0
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut r = Rejection::new(Code::ValidationFailed, detail);
        r.fields = self.0;
        Err(r)
    }
}
