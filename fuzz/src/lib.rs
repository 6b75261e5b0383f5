//! Properties checked by the fuzz targets (libFuzzer, `fuzz_targets/`) and by
//! the stable randomized runner (`src/bin/props.rs`). Every check panics when a
//! property does not hold, so both drivers report the input that broke it.

use monei_concurrency_core::key::{encode_id, Resource, MAX_ID_BYTES, WAKE_SLOTS};
use monei_concurrency_core::signature::{parse_header, sign, verify, MAX_HEADER_BYTES};

/// The signature header parser and `verify` on one input.
///
/// The first byte selects the mode: odd = the rest is a raw header (no panic,
/// invariants of a parsed header, agreement with the written grammar);
/// even = the rest seeds a correctly signed header with decorations, which
/// must verify, and tampered variants, which must not.
pub fn check_signature(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 1 {
        raw_header(rest);
    } else {
        signed_header(mode, rest);
    }
}

fn raw_header(header: &[u8]) {
    let parsed = parse_header(header);
    if let Some(h) = &parsed {
        assert!(
            header.len() <= MAX_HEADER_BYTES,
            "[parse-size] accepted an oversized header"
        );
        assert!(
            std::str::from_utf8(header).is_ok(),
            "[parse-utf8] accepted invalid UTF-8"
        );
        assert!(
            (1..=8).contains(&h.signatures.len()),
            "[parse-count] signature count {}",
            h.signatures.len()
        );
        assert!(
            !h.timestamp_text.is_empty() && h.timestamp_text.bytes().all(|b| b.is_ascii_digit()),
            "[parse-timestamp] timestamp text {:?}",
            h.timestamp_text
        );
        assert_eq!(
            h.timestamp_text.parse::<i64>().ok(),
            Some(h.timestamp),
            "[parse-timestamp] text and value differ"
        );
    }
    // The grammar as documented: comma-separated key=value entries, t once
    // (digits), v1 one to eight times (64 hex digits), anything else ignored.
    let expected = reference_parse(header);
    let got = parsed.map(|h| (h.timestamp, h.timestamp_text, h.signatures));
    assert_eq!(
        got, expected,
        "[grammar] parse_header disagrees with the grammar"
    );
    let secrets = vec![b"sk_test".to_vec()];
    let ok = verify(b"{}", header, &secrets, 0, 0)
        .expect("[verify-error] verify with valid arguments must not fail");
    if got.is_none() {
        assert!(
            !ok,
            "[verify-unparsed] verify accepted a header that does not parse"
        );
    }
    // Caller mistakes are errors, never panics.
    assert!(
        verify(b"", header, &[], 0, 0).is_err(),
        "[caller-error] no secret accepted"
    );
    assert!(
        verify(b"", header, &[vec![]], 0, 0).is_err(),
        "[caller-error] empty secret accepted"
    );
    assert!(
        verify(b"", header, &secrets, -1, 0).is_err(),
        "[caller-error] negative tolerance accepted"
    );
    let _ = verify(header, header, &secrets, i64::MAX, i64::MIN);
}

type Parsed = (i64, String, Vec<[u8; 32]>);

fn reference_parse(header: &[u8]) -> Option<Parsed> {
    if header.is_empty() || header.len() > MAX_HEADER_BYTES {
        return None;
    }
    let text = std::str::from_utf8(header).ok()?;
    let mut t: Option<(i64, String)> = None;
    let mut sigs = Vec::new();
    for part in text.split(',') {
        let eq = part.find('=')?;
        let (k, v) = (part[..eq].trim(), part[eq + 1..].trim());
        if k == "t" {
            if t.is_some() || v.is_empty() || !v.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            t = Some((v.parse().ok()?, v.to_string()));
        } else if k == "v1" {
            if sigs.len() == 8 || v.len() != 64 || !v.chars().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            let mut s = [0u8; 32];
            for (i, b) in s.iter_mut().enumerate() {
                *b = u8::from_str_radix(&v[2 * i..2 * i + 2], 16).ok()?;
            }
            sigs.push(s);
        }
    }
    let (ts, text) = t?;
    if sigs.is_empty() {
        return None;
    }
    Some((ts, text, sigs))
}

fn signed_header(mode: u8, rest: &[u8]) {
    // rest = [secret len][secret][timestamp 8 bytes][payload]
    let Some((&slen, rest)) = rest.split_first() else {
        return;
    };
    let slen = (slen as usize % 40 + 1).min(rest.len());
    let (secret, rest) = rest.split_at(slen);
    if secret.is_empty() || rest.len() < 8 {
        return;
    }
    let ts = (u64::from_le_bytes(rest[..8].try_into().unwrap()) % 100_000_000_000) as i64;
    let payload = &rest[8..];
    let sig = sign(payload, ts, secret);
    let junk = format!("{:064x}", 0xdead_beef_u64);
    let header = match mode % 8 {
        0 => format!("t={ts},v1={sig}"),
        2 => format!(" v1 = {sig} , t = {ts} "),
        4 => format!("t={ts},v0=whatever,v1={junk},v1={}", sig.to_uppercase()),
        _ => format!("t={ts},v2=x=y,v1={sig},v1={junk},v1={junk}"),
    };
    let secrets = vec![secret.to_vec()];
    assert_eq!(
        verify(payload, header.as_bytes(), &secrets, 0, 0).ok(),
        Some(true),
        "[signed] a correctly signed header was refused: {header}"
    );
    // Key rotation: the right secret anywhere in the list.
    let rotated = vec![b"old-secret".to_vec(), secret.to_vec()];
    assert_eq!(
        verify(payload, header.as_bytes(), &rotated, 0, 0).ok(),
        Some(true),
        "[rotation] second secret refused"
    );
    // Tolerance window: inside passes, one second outside fails.
    let tol = 300;
    assert_eq!(
        verify(payload, header.as_bytes(), &secrets, tol, ts + tol).ok(),
        Some(true),
        "[tolerance] inside window refused"
    );
    assert_eq!(
        verify(payload, header.as_bytes(), &secrets, tol, ts - tol).ok(),
        Some(true),
        "[tolerance] inside window refused"
    );
    assert_eq!(
        verify(payload, header.as_bytes(), &secrets, tol, ts + tol + 1).ok(),
        Some(false),
        "[tolerance] outside window accepted"
    );
    // Tampering: payload, secret, timestamp text.
    let mut tampered = payload.to_vec();
    tampered.push(b'x');
    assert_eq!(
        verify(&tampered, header.as_bytes(), &secrets, 0, 0).ok(),
        Some(false),
        "[tampered] tampered payload accepted"
    );
    if let Some(first) = payload.first() {
        let mut flipped = payload.to_vec();
        flipped[0] = first ^ 1;
        assert_eq!(
            verify(&flipped, header.as_bytes(), &secrets, 0, 0).ok(),
            Some(false),
            "[tampered] flipped payload accepted"
        );
    }
    // (Not secret + "\0": HMAC pads short keys with zero bytes, so that is the same key.)
    let mut other = secret.to_vec();
    other[0] ^= 0x01;
    assert_eq!(
        verify(payload, header.as_bytes(), &[other], 0, 0).ok(),
        Some(false),
        "[wrong-secret] wrong secret accepted"
    );
    let shifted = header.replacen(&format!("t={ts}"), &format!("t={}", ts + 1), 1);
    if shifted != header {
        assert_eq!(
            verify(payload, shifted.as_bytes(), &secrets, 0, 0).ok(),
            Some(false),
            "[tampered] changed timestamp accepted"
        );
    }
}

const PREFIXES: [&str; 6] = ["monei:", "", "p:", "shop1:", "a%b:c ", "x:{}"];

/// The key encoder on one input: `[prefix selector][split][order bytes | payment bytes]`.
pub fn check_key(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    // Prefixes as the config allows them (no '{', '}' or NUL); the last one is not allowed
    // but must not break anything either.
    let prefix = PREFIXES[sel as usize % PREFIXES.len()];
    let braces_in_prefix = prefix.contains('{') || prefix.contains('}');
    let Some((&split, ids)) = rest.split_first() else {
        return;
    };
    let at = if ids.is_empty() {
        0
    } else {
        split as usize % (ids.len() + 1)
    };
    let (order, payment) = ids.split_at(at);

    for id in [order, payment] {
        let valid = !id.is_empty() && id.len() <= MAX_ID_BYTES && !id.contains(&0);
        match encode_id("id", id) {
            Ok(e) => {
                assert!(
                    valid,
                    "[encode-valid] encode_id accepted an invalid id {id:?}"
                );
                assert!(
                    e.bytes().all(|b| b.is_ascii_graphic()),
                    "[encode-charset] non-graphic byte in {e:?}"
                );
                assert!(
                    !e.contains([':', '{', '}']),
                    "[encode-charset] separator left in {e:?}"
                );
                assert_eq!(
                    decode(&e).as_deref(),
                    Some(id),
                    "[encode-roundtrip] encoding of {id:?} does not decode back"
                );
            }
            Err(_) => assert!(!valid, "[encode-valid] encode_id refused a valid id {id:?}"),
        }
    }

    // Round trips through the lock key, for orders and payments.
    if let Ok(r) = Resource::order(prefix, order) {
        assert_eq!(
            r.name(),
            format!("order:{}", String::from_utf8_lossy(order)),
            "[name] order name"
        );
        if !braces_in_prefix {
            assert_eq!(
                Resource::from_lock_key(prefix, r.lock_key().as_bytes()),
                Some(r.clone()),
                "[key-roundtrip] order key"
            );
            assert_eq!(
                r.lock_key().matches('{').count(),
                1,
                "[hash-tag] hash tag broken in {}",
                r.lock_key()
            );
        }
    } else {
        assert!(
            encode_id("id", order).is_err(),
            "[resource-valid] order refused"
        );
    }
    match Resource::payment(prefix, order, payment) {
        Ok(r) => {
            if !braces_in_prefix {
                let key = r.lock_key();
                assert_eq!(
                    Resource::from_lock_key(prefix, key.as_bytes()),
                    Some(r.clone()),
                    "[key-roundtrip] round trip of {key}"
                );
                assert_eq!(key.matches('{').count(), 1, "[hash-tag] {key}");
                assert_eq!(key.matches('}').count(), 1, "[hash-tag] {key}");
                // Injective: the same ids split differently never give the same key.
                if at > 0 && !payment.is_empty() {
                    let (o2, p2) = ids.split_at(at - 1);
                    if let Ok(r2) = Resource::payment(prefix, o2, p2) {
                        assert_ne!(r2.lock_key(), key, "[injective] two id pairs share a key");
                    }
                }
                // The other keys of the resource stay inside its hash tag.
                for k in [
                    r.queue_key(),
                    r.fence_key(),
                    r.wake_key(0),
                    r.wake_key(WAKE_SLOTS - 1),
                    &r.forced_key(),
                ] {
                    assert!(
                        k.starts_with(&key[..key.find('}').unwrap() + 1]),
                        "[hash-tag] {k} outside the tag of {key}"
                    );
                }
            }
        }
        Err(_) => assert!(
            encode_id("id", order).is_err() || encode_id("id", payment).is_err(),
            "[resource-valid] payment refused"
        ),
    }

    // Arbitrary bytes as a key found by SCAN: never a panic; a key it accepts
    // is one the encoder produces ("None for anything encode_id cannot produce").
    if let Some(r) = Resource::from_lock_key(prefix, ids) {
        assert_eq!(
            r.lock_key().as_bytes(),
            ids,
            "[canonical] from_lock_key accepted {:?}, which encode_id cannot produce (it would be {:?})",
            String::from_utf8_lossy(ids),
            r.lock_key()
        );
    }
}

fn decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            if !hex
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c))
            {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}
