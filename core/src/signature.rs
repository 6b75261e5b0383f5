//! MONEI webhook signatures: `MONEI-Signature: t=<unix seconds>,v1=<hex>`,
//! HMAC-SHA256 of `"<t>.<raw body>"` keyed with the account API key.
//!
//! Unlike the MONEI SDK this compares in constant time, checks the timestamp
//! window (a captured webhook cannot be replayed forever) and accepts several
//! `v1` entries and several secrets, for key rotation.

use crate::error::{Error, Result};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Longest header accepted; anything longer is not a MONEI signature.
pub const MAX_HEADER_BYTES: usize = 4096;
/// Most `v1` entries looked at in one header.
const MAX_SIGNATURES: usize = 8;

#[derive(Debug, PartialEq, Eq)]
pub struct Header {
    pub timestamp: i64,
    /// `t` exactly as sent: the signature covers this text, not the number.
    pub timestamp_text: String,
    pub signatures: Vec<[u8; 32]>,
}

/// Parses a signature header; None if it is malformed in any way.
pub fn parse_header(header: &[u8]) -> Option<Header> {
    if header.is_empty() || header.len() > MAX_HEADER_BYTES {
        return None;
    }
    let text = std::str::from_utf8(header).ok()?;
    let mut timestamp: Option<(i64, &str)> = None;
    let mut signatures = Vec::new();
    for part in text.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k.trim() {
            "t" => {
                let v = v.trim();
                if timestamp.is_some() || v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                timestamp = Some((v.parse::<i64>().ok()?, v));
            }
            "v1" => {
                if signatures.len() == MAX_SIGNATURES {
                    return None;
                }
                signatures.push(decode_hex32(v.trim())?);
            }
            // Other schemes may appear in future headers; they are not ours to judge.
            _ => {}
        }
    }
    let (timestamp, text) = timestamp?;
    Some(Header {
        timestamp,
        timestamp_text: text.to_string(),
        signatures: (!signatures.is_empty()).then_some(signatures)?,
    })
}

fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Hex HMAC-SHA256 of `"<t>.<payload>"`: what MONEI puts in `v1`.
pub fn sign(payload: &[u8], timestamp: i64, secret: &[u8]) -> String {
    mac_for(payload, &timestamp.to_string(), secret)
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn mac_for(payload: &[u8], timestamp: &str, secret: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

/// Checks a webhook. Bad input from the sender (malformed, empty or oversized
/// header, stale timestamp, wrong signature) is `Ok(false)`; only the
/// caller's own mistakes (no secret, an empty secret, negative tolerance) are errors.
pub fn verify(
    payload: &[u8],
    header: &[u8],
    secrets: &[Vec<u8>],
    tolerance_s: i64,
    now: i64,
) -> Result<bool> {
    if secrets.is_empty() {
        return Err(Error::invalid("at least one secret is required"));
    }
    if secrets.iter().any(|s| s.is_empty()) {
        return Err(Error::invalid("a secret must not be empty"));
    }
    if tolerance_s < 0 {
        return Err(Error::invalid(
            "toleranceS must be 0 (no check) or positive",
        ));
    }
    let Some(h) = parse_header(header) else {
        return Ok(false);
    };
    if tolerance_s > 0 && now.abs_diff(h.timestamp) > tolerance_s as u64 {
        return Ok(false);
    }
    // Every secret is tried against every signature, so the time taken does
    // not tell which one matched.
    let mut ok = false;
    for secret in secrets {
        for sig in &h.signatures {
            ok |= mac_for(payload, &h.timestamp_text, secret)
                .verify_slice(sig)
                .is_ok();
        }
    }
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Produced with PHP: hash_hmac('sha256', '1700000000.{"id":"pay_1"}', 'sk_test')
    const VECTOR: &str = "f903d6ddd5425362780b8de8fbf8cbfde4a2e8a5223a6e51de89fb8e0ed400f2";

    #[test]
    fn parses_headers() {
        let h = parse_header(format!("t=1700000000,v1={VECTOR}").as_bytes()).unwrap();
        assert_eq!(h.timestamp, 1_700_000_000);
        assert_eq!(h.signatures.len(), 1);
        assert!(parse_header(b"").is_none());
        assert!(parse_header(b"t=1").is_none());
        assert!(parse_header(format!("v1={VECTOR}").as_bytes()).is_none());
        assert!(parse_header(format!("t=1,t=2,v1={VECTOR}").as_bytes()).is_none());
        assert!(parse_header(format!("t=-1,v1={VECTOR}").as_bytes()).is_none());
        assert!(parse_header(b"t=1,v1=zz").is_none());
        assert!(parse_header(b"garbage").is_none());
        assert!(parse_header(&[b't'; MAX_HEADER_BYTES + 1]).is_none());
        assert!(parse_header(b"t=1,v1=\xff").is_none());
        assert!(parse_header(format!(" t = 5 , v1 = {VECTOR} , v0=x").as_bytes()).is_some());
    }

    #[test]
    fn verifies_against_a_vector_and_rejects_everything_else() {
        let payload = br#"{"id":"pay_1"}"#;
        let secrets = vec![b"sk_test".to_vec()];
        let header = format!("t=1700000000,v1={VECTOR}");
        assert_eq!(sign(payload, 1_700_000_000, b"sk_test"), VECTOR);
        assert!(verify(payload, header.as_bytes(), &secrets, 300, 1_700_000_100).unwrap());
        assert!(!verify(payload, header.as_bytes(), &secrets, 300, 1_700_000_301).unwrap());
        assert!(verify(payload, header.as_bytes(), &secrets, 0, 1_900_000_000).unwrap());
        assert!(!verify(b"{}", header.as_bytes(), &secrets, 0, 0).unwrap());
        // The MAC covers t as sent, leading zeros included.
        let padded = format!("t=01700000000,v1={}", {
            use hmac::Mac;
            let mut m = Hmac::<Sha256>::new_from_slice(b"sk_test").unwrap();
            m.update(br#"01700000000.{"id":"pay_1"}"#);
            m.finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        });
        assert!(verify(payload, padded.as_bytes(), &secrets, 0, 0).unwrap());
        assert!(!verify(
            payload,
            header.replace("t=", "t=0").as_bytes(),
            &secrets,
            0,
            0
        )
        .unwrap());
        let rotated = vec![b"old".to_vec(), b"sk_test".to_vec()];
        assert!(verify(payload, header.as_bytes(), &rotated, 0, 0).unwrap());
        assert!(verify(&[], b"", &[], 0, 0).is_err());
        assert!(verify(&[], b"", &[vec![]], 0, 0).is_err());
        assert!(verify(&[], b"", &secrets, -1, 0).is_err());
    }
}
