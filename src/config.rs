//! Layered settings: `config/default.toml` < `config/{MOTCUA_ENV}.toml` < `MOTCUA__SECTION__KEY`.
//! Validated once at start so that a bad value stops the service with the key's name.

use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.into(),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    #[serde(default)]
    pub bootstrap: BootstrapSettings,
    pub agency: AgencySettings,
    pub calendar: CalendarSettings,
    pub smtp: SmtpSettings,
    pub storage: StorageSettings,
    pub public: PublicSettings,
    pub jobs: JobsSettings,
    pub outbox: OutboxSettings,
    #[serde(default)]
    pub reports: ReportsSettings,
    pub notify: NotifySettings,
    /// `MOTCUA_ENV`, not a file key.
    #[serde(skip)]
    pub env: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    /// Addresses or CIDR blocks of reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
    /// On SIGTERM/SIGINT: how long requests in flight and the jobs get to finish.
    pub shutdown_seconds: u64,
    /// The console's session cookie without `Secure`: plain HTTP on a loopback address only
    /// (development, tests); refused at start for any other `host`.
    pub plain_http_cookies: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// May hold a password: never printed.
    pub url: SecretString,
    pub pool_size: u32,
    pub sqlite_synchronous: String,
    pub sqlite_busy_timeout_ms: u32,
    /// How long a request waits for a pooled connection before it is answered 503.
    pub acquire_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub jwt_secret: Option<SecretString>,
    pub token_ttl_minutes: i64,
    /// Failed logins per username, and per client address, that start a block.
    pub login_failures_per_window: u32,
    pub login_window_minutes: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapSettings {
    pub admin_password: Option<SecretString>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencySettings {
    pub code: String,
    pub name: String,
    pub timezone: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSettings {
    pub office_hours: Vec<String>,
    pub same_day_cutoff: String,
    pub count_makeup_days: bool,
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// May carry credentials: never printed.
    pub url: Option<SecretString>,
    pub from: String,
    pub timeout_seconds: u64,
    pub max_attempts: i32,
    pub retry_base_ms: u32,
    pub poll_interval_ms: u64,
    /// Deprecated home of `jobs.watch_interval_seconds`; when set it still wins (with a warning).
    pub watch_interval_seconds: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    pub dir: PathBuf,
    pub max_upload_bytes: u64,
    /// Media types accepted, as told from the bytes.
    pub allowed_media_types: Vec<String>,
    /// Stored files that no row names are deleted once this old (a crash between the file
    /// write and the commit leaves them).
    pub orphan_grace_minutes: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicSettings {
    pub lookup_per_minute: u32,
    /// Wrong keys for one dossier code that lock its look-ups for `code_lock_minutes`.
    pub wrong_keys_per_code: u32,
    pub code_lock_minutes: u64,
    /// Where applicants reach the service (links in emails and on forms). Unset: forms link
    /// to the address their request reached, emails to `http://server.host:server.port`.
    pub base_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsSettings {
    /// Whether this instance runs the background jobs (false: HTTP only).
    pub enabled: bool,
    pub watch_interval_seconds: u64,
    pub retention_interval_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxSettings {
    /// Sent (and failed) messages are deleted this many days later: their bodies hold lookup keys.
    pub retain_days: u32,
    /// How long a claimed message stays reserved for the worker that claimed it.
    pub lease_seconds: u64,
}

/// How statistics count (issue 13; every report states the rules it used).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportsSettings {
    /// Withdrawals on request count as resolved (judged by the stop's timeliness) and in the
    /// on-time rate; default false: design §9's classic (early + on time) / (early + on time + late).
    #[serde(default)]
    pub withdrawn_counts_as_resolved: bool,
    /// `due_at` (the legal appointment, default) or `due_at_current` (the apology's).
    #[serde(default)]
    pub judge_against: crate::domain::stats::DueBasis,
}

impl ReportsSettings {
    pub fn rules(&self) -> crate::domain::stats::Rules {
        crate::domain::stats::Rules {
            withdrawn_counts_as_resolved: self.withdrawn_counts_as_resolved,
            judged_against: self.judge_against,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// Working days before the due time at which the handling unit is told a dossier is due
    /// soon: more than one, so that a leader can still apologise one working day before.
    pub due_soon_working_days: u32,
}

impl Settings {
    /// The due-time watcher's interval: `jobs.watch_interval_seconds`, unless the deprecated
    /// `smtp.watch_interval_seconds` is set.
    pub fn watch_interval_seconds(&self) -> u64 {
        self.smtp
            .watch_interval_seconds
            .unwrap_or(self.jobs.watch_interval_seconds)
    }

    /// The address applicants reach the service at, for links that no request carries
    /// (emails): `public.base_url`, else the listen address.
    pub fn public_base_url(&self) -> String {
        match &self.public.base_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}:{}", self.server.host, self.server.port),
        }
    }

    /// Loads from `config_dir` (normally `./config`) for environment `env` and the process
    /// environment, and validates.
    pub fn load(config_dir: &Path, env: &str) -> Result<Self, ConfigError> {
        let settings = Self::load_unvalidated(config_dir, env)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Loads without validating, for callers (tests) that complete the settings first.
    pub fn load_unvalidated(config_dir: &Path, env: &str) -> Result<Self, ConfigError> {
        let raw = config::Config::builder()
            .add_source(config::File::from(config_dir.join("default.toml")).required(true))
            .add_source(config::File::from(config_dir.join(format!("{env}.toml"))).required(false))
            .add_source(
                config::Environment::with_prefix("MOTCUA")
                    .prefix_separator("__")
                    .separator("__")
                    .list_separator(",")
                    .with_list_parse_key("calendar.office_hours")
                    .with_list_parse_key("storage.allowed_media_types")
                    .with_list_parse_key("server.trusted_proxies")
                    .try_parsing(true),
            )
            .build()?;
        let mut settings: Settings = raw.try_deserialize()?;
        settings.env = env.to_owned();
        Ok(settings)
    }

    /// Reads `MOTCUA_ENV` (default `production`) and `MOTCUA_CONFIG_DIR` (default `config`).
    pub fn from_environment() -> Result<Self, ConfigError> {
        let env = std::env::var("MOTCUA_ENV").unwrap_or_else(|_| "production".to_owned());
        let dir = std::env::var("MOTCUA_CONFIG_DIR").unwrap_or_else(|_| "config".to_owned());
        Self::load(Path::new(&dir), &env)
    }

    pub fn is_dev(&self) -> bool {
        self.env == "dev"
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        crate::db::Backend::from_url(self.database.url.expose_secret())
            .map_err(|e| invalid("database.url", e.to_string()))?;
        match self.database.sqlite_synchronous.as_str() {
            "full" | "normal" => {}
            other => {
                return Err(invalid(
                    "database.sqlite_synchronous",
                    format!("must be \"full\" or \"normal\", not {other:?}"),
                ));
            }
        }
        if self.server.plain_http_cookies
            && !self
                .server
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
            && self.server.host != "localhost"
        {
            return Err(invalid(
                "server.plain_http_cookies",
                "may be true only when server.host is a loopback address (127.0.0.1, ::1, localhost)",
            ));
        }
        match &self.auth.jwt_secret {
            Some(s) if s.expose_secret().len() < 32 => {
                return Err(invalid("auth.jwt_secret", "must be at least 32 characters"));
            }
            None if !self.is_dev() => {
                return Err(invalid(
                    "auth.jwt_secret",
                    "is required (set MOTCUA__AUTH__JWT_SECRET, or MOTCUA_ENV=dev for a throw-away one)",
                ));
            }
            _ => {}
        }
        if !(1..=60 * 24 * 30).contains(&self.auth.token_ttl_minutes) {
            return Err(invalid(
                "auth.token_ttl_minutes",
                "must be between 1 and 43200",
            ));
        }
        if self.agency.code.is_empty()
            || !self
                .agency
                .code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        {
            return Err(invalid(
                "agency.code",
                "must be non-empty letters, digits, dots or dashes",
            ));
        }
        self.working_time_settings()?;
        if self.public.lookup_per_minute == 0 {
            return Err(invalid("public.lookup_per_minute", "must be at least 1"));
        }
        if self.public.wrong_keys_per_code == 0 {
            return Err(invalid("public.wrong_keys_per_code", "must be at least 1"));
        }
        if !(1..=24 * 60).contains(&self.public.code_lock_minutes) {
            return Err(invalid("public.code_lock_minutes", "must be 1–1440"));
        }
        if self.auth.login_failures_per_window == 0 {
            return Err(invalid(
                "auth.login_failures_per_window",
                "must be at least 1",
            ));
        }
        if !(1..=24 * 60).contains(&self.auth.login_window_minutes) {
            return Err(invalid("auth.login_window_minutes", "must be 1–1440"));
        }
        crate::http::client::parse_all(&self.server.trusted_proxies)
            .map_err(|e| invalid("server.trusted_proxies", e))?;
        for (key, value) in [
            (
                "jobs.watch_interval_seconds",
                self.jobs.watch_interval_seconds,
            ),
            (
                "smtp.watch_interval_seconds",
                self.smtp.watch_interval_seconds.unwrap_or(1),
            ),
            (
                "jobs.retention_interval_seconds",
                self.jobs.retention_interval_seconds,
            ),
            ("smtp.poll_interval_ms", self.smtp.poll_interval_ms),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        if !(100..=600_000).contains(&self.database.acquire_timeout_ms) {
            return Err(invalid(
                "database.acquire_timeout_ms",
                "must be 100–600000 (milliseconds)",
            ));
        }
        if self.outbox.lease_seconds > 86_400 {
            return Err(invalid(
                "outbox.lease_seconds",
                "must be at most 86400 (a day)",
            ));
        }
        if self.outbox.lease_seconds <= self.smtp.timeout_seconds {
            return Err(invalid(
                "outbox.lease_seconds",
                format!(
                    "must be longer than smtp.timeout_seconds ({} s): a claim must outlast one SMTP conversation",
                    self.smtp.timeout_seconds
                ),
            ));
        }
        if self.outbox.retain_days == 0 {
            return Err(invalid(
                "outbox.retain_days",
                "must be at least 1 (sent messages are kept this many days)",
            ));
        }
        if !(1..=30).contains(&self.notify.due_soon_working_days) {
            return Err(invalid(
                "notify.due_soon_working_days",
                "must be 1–30 (working days before the due time)",
            ));
        }
        Ok(())
    }

    pub fn timezone(&self) -> Result<chrono_tz::Tz, ConfigError> {
        self.agency.timezone.parse().map_err(|_| {
            invalid(
                "agency.timezone",
                format!("unknown time zone {:?}", self.agency.timezone),
            )
        })
    }

    /// The office sessions, cut-off and make-up rule as the deadline engine takes them.
    pub fn working_time_settings(
        &self,
    ) -> Result<crate::domain::calendar::WorkingTimeSettings, ConfigError> {
        self.timezone()?;
        crate::domain::calendar::WorkingTimeSettings::from_config(
            &self.agency.timezone,
            &self.calendar.office_hours,
            &self.calendar.same_day_cutoff,
            self.calendar.count_makeup_days,
        )
        .map_err(|e| {
            invalid(
                "calendar.office_hours / calendar.same_day_cutoff",
                e.to_string(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `default.toml` documents every key: with its commented-out keys switched on it must
    /// fill every optional field, and (unknown fields being refused) name nothing else.
    #[test]
    fn default_toml_loads_and_documents_every_key() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let text = std::fs::read_to_string(dir.join("default.toml")).unwrap();
        let uncommented: String = text
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest)
                    if rest
                        .split_once(" = ")
                        .is_some_and(|(k, _)| !k.contains(' ')) =>
                {
                    rest
                }
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let all: Settings = toml::from_str(&uncommented).unwrap();
        assert!(all.auth.jwt_secret.is_some());
        assert!(all.bootstrap.admin_password.is_some());
        assert!(all.smtp.url.is_some());
        assert!(all.smtp.watch_interval_seconds.is_some());
        assert!(all.public.base_url.is_some());

        let plain = Settings::load_unvalidated(&dir, "none").unwrap();
        assert_eq!(plain.server.port, 8080);
        assert!(plain.auth.jwt_secret.is_none());
        assert!(plain.validate().is_err(), "production needs a JWT secret");
        let dev = Settings {
            env: "dev".into(),
            ..plain
        };
        dev.validate().unwrap();
    }

    /// The watcher's interval moved to `jobs.`; the old `smtp.` key still works while set.
    #[test]
    fn deprecated_watch_interval_key_still_wins() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let mut s = Settings::load_unvalidated(&dir, "none").unwrap();
        assert!(s.jobs.enabled);
        assert_eq!(s.watch_interval_seconds(), 60);
        s.jobs.watch_interval_seconds = 30;
        assert_eq!(s.watch_interval_seconds(), 30);
        s.smtp.watch_interval_seconds = Some(5);
        assert_eq!(s.watch_interval_seconds(), 5);
        s.env = "dev".into();
        s.smtp.watch_interval_seconds = Some(0);
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("smtp.watch_interval_seconds"), "{e}");
    }

    #[test]
    fn secrets_do_not_print() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let mut s = Settings::load_unvalidated(&dir, "none").unwrap();
        s.database.url = SecretString::from("postgres://u:hunter2@db/x".to_owned());
        s.auth.jwt_secret = Some(SecretString::from(
            "super-secret-super-secret-super-secret".to_owned(),
        ));
        let printed = format!("{s:?}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("super-secret"),
            "{printed}"
        );
    }
}
