//! Notifications (design §8): templates, the outbox writes made inside the state change's
//! transaction, and the SMTP mailer. The jobs that send and raise notices are in `jobs/`.

pub mod mailer;

use chrono::{DateTime, Utc};
use minijinja::Environment;
use serde::Deserialize;
use serde_json::Value;

use crate::db::outbox::{self, OutboxRow};
use crate::db::{DbConnection, to_db_time};
use crate::error::{AppError, AppResult};

pub use crate::domain::notice::Event;

pub const LANGUAGES: [&str; 2] = ["vi", "en"];
const TEMPLATE_FILES: [(&str, &str); 2] = [
    ("vi", include_str!("../../config/templates/email/vi.toml")),
    ("en", include_str!("../../config/templates/email/en.toml")),
];

#[derive(Deserialize)]
struct TemplateText {
    subject: String,
    text: String,
    html: String,
}

pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The email templates of every event in every language, checked when the service starts.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn load() -> Result<Self, String> {
        let mut env = Environment::new();
        for (lang, file) in TEMPLATE_FILES {
            let table: std::collections::HashMap<String, TemplateText> =
                toml::from_str(file).map_err(|e| format!("templates/email/{lang}.toml: {e}"))?;
            for event in Event::ALL {
                let t = table.get(event.as_str()).ok_or_else(|| {
                    format!("templates/email/{lang}.toml: no [{}]", event.as_str())
                })?;
                // The `.html` name turns on HTML escaping for that body only.
                for (part, source) in [
                    ("subject.txt", &t.subject),
                    ("text.txt", &t.text),
                    ("html.html", &t.html),
                ] {
                    env.add_template_owned(
                        format!("{lang}/{}/{part}", event.as_str()),
                        source.trim().to_owned(),
                    )
                    .map_err(|e| {
                        format!(
                            "templates/email/{lang}.toml [{}] {part}: {e}",
                            event.as_str()
                        )
                    })?;
                }
            }
        }
        Ok(Templates { env })
    }

    pub fn render(&self, lang: &str, event: Event, ctx: &Value) -> AppResult<Rendered> {
        let lang = if LANGUAGES.contains(&lang) {
            lang
        } else {
            "vi"
        };
        let part = |name: &str| {
            self.env
                .get_template(&format!("{lang}/{}/{name}", event.as_str()))
                .and_then(|t| t.render(minijinja::value::Serde(ctx)))
                .map_err(|e| {
                    AppError::internal(format!("email template {lang}/{}: {e}", event.as_str()))
                })
        };
        Ok(Rendered {
            subject: part("subject.txt")?.replace(['\r', '\n'], " "),
            text: part("text.txt")?,
            html: part("html.html")?,
        })
    }
}

/// One notification to enqueue.
pub struct Notice<'a> {
    pub event: Event,
    /// Unique per (event, what it is about): the outbox writes it once.
    pub key: String,
    pub recipient: &'a str,
    pub language: &'a str,
    pub dossier: Option<(&'a str, &'a str)>,
    pub context: Value,
}

/// Writes a notice into the outbox inside the caller's transaction; a key already there
/// writes nothing. Answers whether a row was written.
pub fn enqueue(
    conn: &mut DbConnection,
    templates: &Templates,
    notice: Notice,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    if outbox::exists(conn, &notice.key)? {
        return Ok(false);
    }
    let rendered = templates.render(notice.language, notice.event, &notice.context)?;
    let id = uuid::Uuid::new_v4().to_string();
    outbox::insert(
        conn,
        &OutboxRow {
            message_id: format!("<{id}@motcua>"),
            id,
            event: notice.event.as_str().to_owned(),
            dossier_id: notice.dossier.map(|d| d.0.to_owned()),
            dossier_code: notice.dossier.map(|d| d.1.to_owned()),
            recipient: notice.recipient.to_owned(),
            language: notice.language.to_owned(),
            subject: rendered.subject,
            body_text: rendered.text,
            body_html: rendered.html,
            idempotency_key: notice.key,
            status: outbox::OutboxStatus::Pending,
            attempts: 0,
            next_attempt_at: to_db_time(now),
            locked_until: None,
            last_error: None,
            created_at: to_db_time(now),
            sent_at: None,
        },
    )?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_renders_in_both_languages_and_html_is_escaped() {
        let t = Templates::load().unwrap();
        let ctx = serde_json::json!({
            "agency_name": "Ban <Quản lý>", "code": "X-250303-0001", "lookup_key": "ABC234",
            "procedure_name": "Thủ tục", "applicant_name": "Nguyễn Văn A", "received_at": "09:00 03/03/2025",
            "due_at": "09:00 10/03/2025", "reasons": ["thiếu chữ ký"], "items": ["Văn bản đề nghị"],
            "new_due_at": "09:00 20/03/2025", "step_name": "Thẩm định", "unit_name": "Phòng Đầu tư",
            "step_due_at": "10:00 06/03/2025", "delivery_method": "counter", "lookup_url": "http://x/tra-cuu"
        });
        for lang in LANGUAGES {
            for e in Event::ALL {
                let r = t.render(lang, e, &ctx).unwrap();
                assert!(
                    !r.subject.is_empty() && !r.subject.contains('\n'),
                    "{lang} {e:?}"
                );
                assert!(r.text.contains("X-250303-0001"), "{lang} {e:?}: {}", r.text);
                assert!(
                    !r.html.contains("<Quản lý>"),
                    "{lang} {e:?} html not escaped"
                );
            }
        }
        let r = t.render("vi", Event::Received, &ctx).unwrap();
        assert!(
            r.text.contains("Mã tra cứu: ABC234")
                && r.text.contains("Ngày hẹn trả kết quả: 09:00 10/03/2025")
        );
    }
}
