//! The business clock. Use cases take `now` from here so that tests can set the time;
//! access-token lifetimes stay on the real clock.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

#[derive(Clone, Debug, Default)]
pub enum Clock {
    #[default]
    System,
    /// A clock that only moves when told to (tests, back-entry tools).
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    pub fn manual(start: DateTime<Utc>) -> Self {
        Clock::Manual(Arc::new(Mutex::new(start)))
    }

    pub fn now(&self) -> DateTime<Utc> {
        let t = match self {
            Clock::System => Utc::now(),
            Clock::Manual(t) => *t.lock().unwrap_or_else(|p| p.into_inner()),
        };
        crate::domain::truncate_to_micros(t)
    }

    /// Sets a manual clock; a system clock ignores it.
    pub fn set(&self, to: DateTime<Utc>) {
        if let Clock::Manual(t) = self {
            *t.lock().unwrap_or_else(|p| p.into_inner()) = to;
        }
    }

    pub fn advance(&self, by: chrono::Duration) {
        if let Clock::Manual(t) = self {
            let mut guard = t.lock().unwrap_or_else(|p| p.into_inner());
            *guard += by;
        }
    }
}

/// The agency's zone, in which every time of every answer is written (api.md: RFC 3339 with
/// offset, whole seconds). One per process, set once at start-up from `agency.timezone`;
/// until then the design's default, `Asia/Ho_Chi_Minh`.
static AGENCY_ZONE: std::sync::OnceLock<chrono_tz::Tz> = std::sync::OnceLock::new();

/// Sets the zone answers are written in; a process serves one agency, so a second, different
/// zone is refused (answered with the zone already in use).
pub fn set_agency_zone(tz: chrono_tz::Tz) -> Result<(), chrono_tz::Tz> {
    let set = *AGENCY_ZONE.get_or_init(|| tz);
    if set == tz { Ok(()) } else { Err(set) }
}

pub fn agency_zone() -> chrono_tz::Tz {
    AGENCY_ZONE
        .get()
        .copied()
        .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh)
}

/// A time as answers carry it: held in UTC, written in the agency's zone to the whole second
/// (`2025-03-03T09:00:00+07:00`). Every time field of every API shape is one, so that no
/// answer writes UTC or fractions of a second (`tests/api/times.rs` walks the answers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiTime(pub DateTime<Utc>);

impl ApiTime {
    pub fn utc(self) -> DateTime<Utc> {
        self.0
    }

    /// The time in the agency's zone, truncated to the second.
    pub fn local(self) -> DateTime<chrono::FixedOffset> {
        use chrono::{DurationRound, TimeDelta};
        let t = self.0.with_timezone(&agency_zone()).fixed_offset();
        t.duration_trunc(TimeDelta::seconds(1)).unwrap_or(t)
    }

    pub fn opt(t: Option<DateTime<Utc>>) -> Option<ApiTime> {
        t.map(ApiTime)
    }
}

impl From<DateTime<Utc>> for ApiTime {
    fn from(t: DateTime<Utc>) -> Self {
        ApiTime(t)
    }
}

impl From<DateTime<chrono::FixedOffset>> for ApiTime {
    fn from(t: DateTime<chrono::FixedOffset>) -> Self {
        ApiTime(t.to_utc())
    }
}

impl<Tz: chrono::TimeZone> From<&DateTime<Tz>> for ApiTime {
    fn from(t: &DateTime<Tz>) -> Self {
        ApiTime(t.to_utc())
    }
}

impl std::fmt::Display for ApiTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.local().format("%Y-%m-%dT%H:%M:%S%:z"))
    }
}

impl serde::Serialize for ApiTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ApiTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = DateTime::<chrono::FixedOffset>::deserialize(d)?;
        Ok(ApiTime(t.to_utc()))
    }
}

impl utoipa::PartialSchema for ApiTime {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some(
                "RFC 3339 in the agency's zone, whole seconds (2025-03-03T09:00:00+07:00)",
            ))
            .into()
    }
}

impl utoipa::ToSchema for ApiTime {}

/// Rewrites the times a history row's free-form `details` carry (keys `at`, `…_at`,
/// `…deadline`) the way [`ApiTime`] writes them; other values are left alone.
pub fn localise_details(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                let timed = k == "at" || k.ends_with("_at") || k.ends_with("deadline");
                match val {
                    serde_json::Value::String(s) if timed => {
                        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                            *s = ApiTime(t.to_utc()).to_string();
                        }
                    }
                    other => localise_details(other),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(localise_details),
        _ => {}
    }
}

#[cfg(test)]
mod time_tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn answers_write_the_agency_zone_to_the_second() {
        let t = Utc.with_ymd_and_hms(2025, 3, 3, 2, 0, 0).unwrap()
            + chrono::TimeDelta::microseconds(123_456);
        assert_eq!(
            serde_json::to_value(ApiTime(t)).unwrap(),
            "2025-03-03T09:00:00+07:00"
        );
        let mut details = serde_json::json!({"at": "2025-03-03T02:00:00.5Z", "note": "2025-03-03T02:00:00Z",
            "apology": {"new_due_at": "2025-03-10T02:00:00Z"}, "applicant_deadline": null});
        localise_details(&mut details);
        assert_eq!(details["at"], "2025-03-03T09:00:00+07:00");
        assert_eq!(details["note"], "2025-03-03T02:00:00Z", "only time keys");
        assert_eq!(
            details["apology"]["new_due_at"],
            "2025-03-10T09:00:00+07:00"
        );
    }
}
