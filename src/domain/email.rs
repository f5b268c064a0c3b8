//! The shape of an email address as the service accepts it (users, units, applicants).

/// One `@`, a dotted domain, no spaces, at most 254 bytes.
pub fn valid_email(e: &str) -> bool {
    let mut parts = e.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None)
        if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
        && !e.chars().any(char::is_whitespace)
        && e.len() <= 254
}
