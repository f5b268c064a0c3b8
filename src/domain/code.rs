//! Dossier codes (design §6) and lookup keys.

use chrono::NaiveDate;

/// `{agency}-{YYMMDD}-{NNNN}`: local receipt date and the agency's daily sequence from 0001.
pub fn dossier_code(agency_code: &str, local_date: NaiveDate, sequence: i32) -> String {
    format!(
        "{agency_code}-{}-{sequence:04}",
        local_date.format("%y%m%d")
    )
}

/// The receipt date and sequence of a code of this agency's shape (`{agency}-YYMMDD-NNNN`);
/// `None` for any other code (a paper-era code from another numbering).
pub fn parse_dossier_code(agency_code: &str, code: &str) -> Option<(NaiveDate, i32)> {
    let rest = code.strip_prefix(agency_code)?.strip_prefix('-')?;
    let (day, seq) = rest.split_once('-')?;
    if day.len() != 6 || seq.len() < 4 || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day = NaiveDate::parse_from_str(day, "%y%m%d").ok()?;
    Some((day, seq.parse().ok()?))
}

/// No 0/O, 1/I/L: a key read aloud or copied from paper is not mistaken.
pub const LOOKUP_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const LOOKUP_KEY_LEN: usize = 6;

/// A lookup key from random bytes (the caller supplies the randomness: no I/O here).
pub fn lookup_key(random: [u8; LOOKUP_KEY_LEN]) -> String {
    random
        .iter()
        .map(|b| LOOKUP_ALPHABET[usize::from(*b) % LOOKUP_ALPHABET.len()] as char)
        .collect()
}

/// Normalises what an applicant typed: case and surrounding spaces do not matter.
pub fn normalise_lookup_key(key: &str) -> String {
    key.trim().to_ascii_uppercase()
}

/// What is stored of a lookup key: SHA-256 of the dossier code and the normalised key, in hex.
pub fn hash_lookup_key(dossier_code: &str, key: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{dossier_code}:{}", normalise_lookup_key(key)).as_bytes());
    super::hex(&digest)
}

/// Checks a lookup key against the stored hash in constant time (the public lookup).
pub fn lookup_key_matches(dossier_code: &str, stored_hash: &str, key: &str) -> bool {
    let expected = hash_lookup_key(dossier_code, key);
    let a = expected.as_bytes();
    let b = stored_hash.as_bytes();
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_of_the_agency_shape_parse_back() {
        let day = NaiveDate::from_ymd_opt(2024, 1, 15).unwrap();
        let code = dossier_code("000.00.00.H00", day, 42);
        assert_eq!(parse_dossier_code("000.00.00.H00", &code), Some((day, 42)));
        assert_eq!(parse_dossier_code("000.00.00.H01", &code), None);
        assert_eq!(
            parse_dossier_code("000.00.00.H00", "000.00.00.H00-2401-0001"),
            None
        );
        assert_eq!(parse_dossier_code("X", "X-240115-00a1"), None);
    }

    #[test]
    fn code_has_the_official_shape() {
        let d = NaiveDate::from_ymd_opt(2025, 3, 3).unwrap();
        assert_eq!(
            dossier_code("000.00.00.H27", d, 7),
            "000.00.00.H27-250303-0007"
        );
        assert_eq!(dossier_code("X", d, 12345), "X-250303-12345");
    }

    #[test]
    fn keys_use_the_unambiguous_alphabet() {
        let k = lookup_key([0, 1, 30, 31, 255, 100]);
        assert_eq!(k.len(), 6);
        assert!(k.bytes().all(|b| LOOKUP_ALPHABET.contains(&b)));
        assert_eq!(normalise_lookup_key(" ab3 "), "AB3");
    }
}
