//! The SMTP side of the outbox: lettre, one connection per message (its pool closes
//! connections by spawning a task on drop, which fails once the runtime is gone).

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, header};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::db::outbox::OutboxRow;

pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl Mailer {
    /// `smtp.url` unset: email is off (rows stay pending).
    pub fn from_settings(settings: &crate::config::Settings) -> Result<Self, String> {
        let from: Mailbox = settings
            .smtp
            .from
            .parse()
            .map_err(|e| format!("configuration key `smtp.from`: {e}"))?;
        let transport = match &settings.smtp.url {
            None => None,
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|e| format!("configuration key `smtp.url`: {e}"))?
                    .timeout(Some(Duration::from_secs(settings.smtp.timeout_seconds)))
                    .build(),
            ),
        };
        Ok(Mailer { transport, from })
    }

    pub fn enabled(&self) -> bool {
        self.transport.is_some()
    }

    /// Sends one outbox row with its stable Message-ID.
    pub async fn send(&self, row: &OutboxRow) -> Result<(), String> {
        let Some(transport) = &self.transport else {
            return Err("smtp.url is not set".into());
        };
        let message = self.message(row)?;
        transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn message(&self, row: &OutboxRow) -> Result<Message, String> {
        let to: Mailbox = row
            .recipient
            .parse()
            .map_err(|e| format!("recipient: {e}"))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(row.subject.clone())
            .message_id(Some(row.message_id.clone()))
            .header(header::Date::new(std::time::SystemTime::now()))
            .multipart(MultiPart::alternative_plain_html(
                row.body_text.clone(),
                row.body_html.clone(),
            ))
            .map_err(|e| e.to_string())
    }
}
