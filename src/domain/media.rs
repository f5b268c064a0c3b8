//! Media types told from a file's first bytes (never from its name or the client's word).

/// Known signatures: (media type, magic bytes at offset 0).
const SIGNATURES: [(&str, &[u8]); 6] = [
    ("application/pdf", b"%PDF-"),
    ("image/jpeg", &[0xFF, 0xD8, 0xFF]),
    (
        "image/png",
        &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A],
    ),
    ("image/tiff", b"II*\0"),
    ("image/tiff", b"MM\0*"),
    ("image/gif", b"GIF8"),
];

/// How many leading bytes `sniff` needs.
pub const SNIFF_LEN: usize = 16;

pub fn sniff(head: &[u8]) -> Option<&'static str> {
    SIGNATURES
        .iter()
        .find(|(_, magic)| head.starts_with(magic))
        .map(|(t, _)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(b"<html>not a pdf"), None);
        assert_eq!(sniff(b""), None);
    }
}
