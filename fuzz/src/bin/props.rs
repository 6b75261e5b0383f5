//! Randomized property runner on stable Rust: the fuzz targets' checks
//! (`check_signature`, `check_key`) fed with generated inputs
//! for a bounded time. Not coverage-guided like libFuzzer, but biased towards
//! the inputs that matter (valid headers and their mutations, ids full of
//! separators, escapes and non-ASCII bytes, keys that look like ours).
//!
//!   props [--seconds 60] [--seed N]
//!
//! Exit status 1 and the failing input (hex) if a property does not hold.

use monei_concurrency_fuzz::{check_key, check_signature};
use std::panic;
use std::time::{Duration, Instant};

/// splitmix64: small, fast, good enough to drive a fuzzer.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    fn pick<'a, T>(&mut self, a: &'a [T]) -> &'a T {
        &a[self.below(a.len())]
    }
}

const HEADER_PIECES: &[&str] = &[
    "t=",
    "v1=",
    "v0=",
    ",",
    " ",
    "=",
    "t=1700000000",
    "t=01700000000",
    "t=-1",
    "t=99999999999999999999",
    "\u{3000}",
    "\u{a0}",
    "\t",
    "abc",
    "\u{1F4B3}",
    "f903d6ddd5425362780b8de8fbf8cbfde4a2e8a5223a6e51de89fb8e0ed400f2",
    "F903D6DDD5425362780B8DE8FBF8CBFDE4A2E8A5223A6E51DE89FB8E0ED400F2",
    "f903d6ddd5425362780b8de8fbf8cbfde4a2e8a5223a6e51de89fb8e0ed400f",
    "0x",
    "%",
    "\0",
];

const ID_PIECES: &[&[u8]] = &[
    b":",
    b"{",
    b"}",
    b"%",
    b"%3A",
    b"%7B",
    b"%25",
    b" ",
    b"\xff",
    b"\xc3\xa9",
    b"\0",
    b"a",
    b"100000123",
    b"pay_",
    b"order",
    b":payment:",
    b"}:order:lock",
    b"{x}",
    b"%ZZ",
    b"%3a",
];

fn header_input(rng: &mut Rng) -> Vec<u8> {
    let mut v = vec![rng.next() as u8];
    match rng.below(4) {
        0 => {
            let n = rng.below(64);
            v.extend(rng.bytes(n));
        }
        1 => {
            for _ in 0..rng.below(12) {
                let piece = *rng.pick(HEADER_PIECES);
                v.extend_from_slice(piece.as_bytes());
            }
        }
        2 => {
            // A valid-looking header, then mutations.
            let n = 1 + rng.below(9);
            let mut s = format!("t={}", rng.next() % 10_000_000_000);
            for _ in 0..n {
                s.push_str(",v1=");
                s.push_str(&format!(
                    "{:016x}{:016x}{:016x}{:016x}",
                    rng.next(),
                    rng.next(),
                    rng.next(),
                    rng.next()
                ));
            }
            let mut b = s.into_bytes();
            for _ in 0..rng.below(3) {
                let i = rng.below(b.len());
                b[i] = *rng.pick(&b",= t0aF\xff"[..]);
            }
            if rng.below(8) == 0 {
                b = b.repeat(1 + rng.below(100));
            }
            v.extend(b);
        }
        _ => {
            // Structured mode: secret and payload for a correctly signed header.
            v[0] &= !1;
            let n = 9 + rng.below(200);
            v.extend(rng.bytes(n));
        }
    }
    v
}

fn key_input(rng: &mut Rng) -> Vec<u8> {
    let mut v = vec![rng.next() as u8, rng.next() as u8];
    match rng.below(3) {
        0 => {
            let n = rng.below(40);
            v.extend(rng.bytes(n));
        }
        1 => {
            for _ in 0..rng.below(16) {
                let piece = *rng.pick(ID_PIECES);
                v.extend_from_slice(piece);
            }
        }
        _ => {
            // Something shaped like a lock key.
            let prefix = *rng.pick(&["monei:", "", "p:", "shop1:", "a%b:c "]);
            let mut k = prefix.as_bytes().to_vec();
            k.push(b'{');
            for _ in 0..rng.below(6) {
                let piece = *rng.pick(ID_PIECES);
                k.extend_from_slice(piece);
            }
            let tail: &[u8] = rng.pick::<&[u8]>(&[
                &b"}:order:lock"[..],
                &b"}:payment:"[..],
                &b"}:order"[..],
                &b"}"[..],
            ]);
            k.extend_from_slice(tail);
            for _ in 0..rng.below(4) {
                let piece = *rng.pick(ID_PIECES);
                k.extend_from_slice(piece);
            }
            k.extend_from_slice(b":lock");
            v.extend(k);
        }
    }
    if rng.below(50) == 0 {
        let n = 250 + rng.below(10);
        v.resize(v.len() + n, b'x');
    }
    v
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seconds: u64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(60);
    let seed: u64 = arg("--seed")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    panic::set_hook(Box::new(|_| {}));
    let mut rng = Rng(seed);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut runs = [0u64; 2];
    // Failures grouped by property (the "[tag]" of the assertion message); the first input kept.
    let mut failures: std::collections::BTreeMap<String, (u64, String)> = Default::default();
    while Instant::now() < deadline {
        for _ in 0..256 {
            let which = rng.below(2);
            let input = match which {
                0 => header_input(&mut rng),
                _ => key_input(&mut rng),
            };
            let r = panic::catch_unwind(|| match which {
                0 => check_signature(&input),
                _ => check_key(&input),
            });
            runs[which] += 1;
            if let Err(e) = r {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let text = msg.split("failed: ").nth(1).unwrap_or(&msg).to_string();
                let tag = match (text.find('['), text.find(']')) {
                    (Some(0), Some(end)) => text[..=end].to_string(),
                    _ => text.chars().take(40).collect(),
                };
                let name = ["signature_header", "key_encoding"][which];
                let entry = failures.entry(format!("{name} {tag}")).or_insert_with(|| {
                    let hex: String = input.iter().take(200).map(|b| format!("{b:02x}")).collect();
                    (
                        0,
                        format!(
                            "{}\n      input ({} bytes, hex): {}",
                            msg.replace('\n', " "),
                            input.len(),
                            hex
                        ),
                    )
                });
                entry.0 += 1;
            }
        }
    }
    println!(
        "props: seed {seed}, {seconds} s: signature_header {} inputs, key_encoding {} inputs, {} properties failed",
        runs[0],
        runs[1],
        failures.len()
    );
    for (what, (n, example)) in &failures {
        println!("  FAILED {what} ({n} inputs), first: {example}");
    }
    std::process::exit(if failures.is_empty() { 0 } else { 1 });
}
