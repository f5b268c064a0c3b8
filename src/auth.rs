//! Password hashing (argon2id) and access tokens (JWT, HS256 only). Roles are domain
//! vocabulary (`domain::role`); they are re-exported here for the callers that name them so.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub use crate::domain::role::Role;

pub const MIN_PASSWORD_LEN: usize = 8;

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a password against a stored argon2 hash.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Password checks that cost the same whether or not the user exists: an unknown username is
/// checked against a dummy hash, made once at start-up so that the first such login is not
/// slower than the others.
pub struct PasswordChecker {
    dummy: String,
}

impl PasswordChecker {
    pub fn new() -> Result<Self, String> {
        Ok(PasswordChecker {
            dummy: hash_password("dummy-password-for-timing")?,
        })
    }

    pub fn verify(&self, password: &str, stored_hash: Option<&str>) -> bool {
        let ok = verify_password(password, stored_hash.unwrap_or(&self.dummy));
        ok && stored_hash.is_some()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    pub role: Role,
    /// The user's token version when the token was issued.
    pub tv: i32,
    pub iat: i64,
    pub exp: i64,
}

/// Signs and checks access tokens. Only HS256 is accepted, whatever the token's header says.
#[derive(Clone)]
pub struct TokenKeys {
    /// Signs the console's CSRF tokens (HMAC of the session token), derived from the secret.
    csrf: [u8; 32],
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: chrono::Duration,
}

impl TokenKeys {
    pub fn new(secret: &[u8], ttl_minutes: i64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        use sha2::Digest;
        let csrf = sha2::Sha256::new()
            .chain_update(b"motcua console csrf v1\0")
            .chain_update(secret)
            .finalize()
            .into();
        TokenKeys {
            csrf,
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl: chrono::Duration::minutes(ttl_minutes),
        }
    }

    /// Issues a token; token lifetimes follow the real clock, not the business clock.
    pub fn issue(
        &self,
        user_id: &str,
        role: Role,
        token_version: i32,
    ) -> Result<(String, DateTime<Utc>), String> {
        let now = Utc::now();
        let exp = now + self.ttl;
        let claims = Claims {
            sub: user_id.to_owned(),
            role,
            tv: token_version,
            iat: now.timestamp(),
            exp: exp.timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map(|t| (t, exp))
            .map_err(|e| e.to_string())
    }

    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map(|d| d.claims)
    }

    fn csrf_mac(&self, session: &str) -> Hmac<sha2::Sha256> {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.csrf)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(session.as_bytes());
        mac
    }

    /// The console's CSRF token for a session (its token, as the cookie holds it): forms
    /// carry it, and only a page served to that session can know it (double submit bound
    /// to the session, no server-side store).
    pub fn csrf_token(&self, session: &str) -> String {
        crate::domain::hex(&self.csrf_mac(session).finalize().into_bytes())
    }

    /// Whether `given` is the CSRF token of `session` (compared in constant time).
    pub fn csrf_matches(&self, session: &str, given: &str) -> bool {
        unhex(given).is_some_and(|bytes| self.csrf_mac(session).verify_slice(&bytes).is_ok())
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let h = hash_password("correct horse").unwrap();
        let checker = PasswordChecker::new().unwrap();
        assert!(checker.verify("correct horse", Some(&h)));
        assert!(!checker.verify("wrong", Some(&h)));
        assert!(!checker.verify("correct horse", None));
        assert!(!checker.verify("dummy-password-for-timing", None));
    }

    #[test]
    fn csrf_tokens_belong_to_one_session_and_one_secret() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef", 5);
        let t = keys.csrf_token("session-a");
        assert_eq!(t.len(), 64);
        assert!(keys.csrf_matches("session-a", &t));
        assert!(!keys.csrf_matches("session-b", &t));
        assert!(!keys.csrf_matches("session-a", &t[..62]));
        assert!(!keys.csrf_matches("session-a", ""));
        assert!(!keys.csrf_matches("session-a", &"zz".repeat(32)));
        let other = TokenKeys::new(b"another-secret-another-secret-0123", 5);
        assert!(!other.csrf_matches("session-a", &t));
    }

    #[test]
    fn token_round_trip_and_tamper() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef", 5);
        let (t, _) = keys.issue("u1", Role::Clerk, 3).unwrap();
        let c = keys.verify(&t).unwrap();
        assert_eq!((c.sub.as_str(), c.role, c.tv), ("u1", Role::Clerk, 3));
        let other = TokenKeys::new(b"another-secret-another-secret-xx", 5);
        assert!(other.verify(&t).is_err());
    }
}
