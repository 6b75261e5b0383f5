//! Reading RESP2 replies off the plain connection's socket.
//!
//! redis-rs' parser is built from parser combinators: decoding the two-item
//! reply that wakes a waiter took 6-7 µs on a CPU that had just woken up, on
//! the critical path of every contended hand-off. A RESP2 server (nothing
//! here sends `HELLO 3`) only ever sends the five types read below, straight
//! from one buffer. Error replies are handed to redis-rs' own parser, so
//! their kinds (`NOSCRIPT`, `MOVED`, ...) are exactly what redis-rs makes of
//! them.

use redis::{ErrorKind, RedisError, RedisResult, Value};
use std::io::{self, Read};

/// Deeper nesting than any reply of ours is a broken or hostile stream
/// (the same limit as redis-rs': a value inside 99 arrays is the deepest).
const MAX_DEPTH: usize = 100;

/// Smallest read: a whole reply usually arrives in one.
const READ_CHUNK: usize = 16 * 1024;

/// Bytes read from the socket and not yet returned as a reply: `buf[pos..end]`.
pub struct Reader {
    /// Kept at its size between reads: zeroing it for every read would cost
    /// more than parsing a small reply.
    buf: Vec<u8>,
    pos: usize,
    end: usize,
}

impl Default for Reader {
    fn default() -> Self {
        Reader::new()
    }
}

impl Reader {
    pub fn new() -> Self {
        Reader {
            buf: vec![0; READ_CHUNK],
            pos: 0,
            end: 0,
        }
    }

    /// The next reply, reading from `src` as much as it takes. Bytes after
    /// it (a pipeline's next reply) are kept for the next call.
    pub fn read_value(&mut self, src: &mut impl Read) -> RedisResult<Value> {
        loop {
            if let Some((value, used)) = parse(&self.buf[self.pos..self.end])? {
                self.pos += used;
                if self.pos == self.end {
                    self.pos = 0;
                    self.end = 0;
                    // A large reply (locks(), a long queue) must not leave a
                    // pooled connection holding its size for its lifetime.
                    if self.buf.len() > READ_CHUNK {
                        self.buf = vec![0; READ_CHUNK];
                    }
                }
                return Ok(value);
            }
            self.fill(src)?;
        }
    }

    /// Appends what the next read() brings; the buffer doubles when full.
    /// An incomplete reply is parsed again from its start after each read:
    /// nothing here gets replies of more than tens of KiB, where that costs
    /// less than keeping a partial parse would.
    fn fill(&mut self, src: &mut impl Read) -> RedisResult<()> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = loop {
            match src.read(&mut self.buf[self.end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        };
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            )
            .into());
        }
        self.end += n;
        Ok(())
    }
}

fn malformed(what: &'static str) -> RedisError {
    RedisError::from((ErrorKind::Parse, "malformed reply", what.to_string()))
}

/// The reply at the start of `b` and its length in bytes, or None if `b`
/// ends before it does. What [`Reader`] reads, without a socket.
pub fn parse(b: &[u8]) -> RedisResult<Option<(Value, usize)>> {
    parse_at(b, 0)
}

/// `depth`: how many arrays this value is inside.
fn parse_at(b: &[u8], depth: usize) -> RedisResult<Option<(Value, usize)>> {
    let Some(&kind) = b.first() else {
        return Ok(None);
    };
    if depth >= MAX_DEPTH {
        return Err(malformed("arrays nested too deep"));
    }
    let Some(cr) = b[1..].iter().position(|&c| c == b'\r').map(|i| i + 1) else {
        return Ok(None);
    };
    match b.get(cr + 1) {
        None => return Ok(None),
        Some(b'\n') => {}
        Some(_) => return Err(malformed("a line not ended by CRLF")),
    }
    let line = &b[1..cr];
    let next = cr + 2;
    let value = match kind {
        b'+' => match std::str::from_utf8(line) {
            Ok("OK") => Value::Okay,
            Ok(s) => Value::SimpleString(s.to_owned()),
            Err(_) => return Err(malformed("a status that is not UTF-8")),
        },
        b'-' => redis::parse_redis_value(&b[..next])?,
        b':' => Value::Int(int(line)?),
        b'$' => {
            let Ok(size) = usize::try_from(int(line)?) else {
                return Ok(Some((Value::Nil, next)));
            };
            let end = next
                .checked_add(size)
                .filter(|end| end.checked_add(2).is_some())
                .ok_or_else(|| malformed("a bulk string too long"))?;
            match b.get(end..end + 2) {
                None => return Ok(None),
                Some(b"\r\n") => {}
                Some(_) => return Err(malformed("a bulk string longer than announced")),
            }
            return Ok(Some((Value::BulkString(b[next..end].to_vec()), end + 2)));
        }
        b'*' => {
            let Ok(count) = usize::try_from(int(line)?) else {
                return Ok(Some((Value::Nil, next)));
            };
            // Each item takes at least 3 bytes: no allocating for a count
            // that the bytes at hand cannot hold yet.
            let mut items = Vec::with_capacity(count.min((b.len() - next) / 3));
            let mut at = next;
            for _ in 0..count {
                match parse_at(&b[at..], depth + 1)? {
                    Some((item, used)) => {
                        items.push(item);
                        at += used;
                    }
                    None => return Ok(None),
                }
            }
            return Ok(Some((Value::Array(items), at)));
        }
        _ => return Err(malformed("an unknown reply type")),
    };
    Ok(Some((value, next)))
}

fn int(line: &[u8]) -> RedisResult<i64> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| malformed("a number that is not one"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out its bytes `step` at a time, like a socket that got them in
    /// pieces.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.bytes.len());
            out[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    /// xorshift64*: reproducible cases without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A random RESP2 reply of the kinds Redis sends, CRLF included.
    fn reply(rng: &mut Rng, depth: usize, out: &mut Vec<u8>) {
        let text = |rng: &mut Rng| -> Vec<u8> {
            let n = rng.below(12) as usize;
            (0..n)
                .map(|_| b"abcOK x-:*$0129"[rng.below(15) as usize])
                .collect()
        };
        match rng.below(if depth < 4 { 8 } else { 6 }) {
            0 => {
                out.push(b'+');
                out.extend(if rng.below(3) == 0 {
                    b"OK".to_vec()
                } else {
                    text(rng)
                });
            }
            1 => {
                let errs: [&[u8]; 5] = [
                    b"ERR wrong",
                    b"NOSCRIPT No matching script",
                    b"WRONGTYPE x",
                    b"BUSY y",
                    b"MOVED 1 127.0.0.1:7000",
                ];
                out.push(b'-');
                out.extend_from_slice(errs[rng.below(5) as usize]);
            }
            2 => out.extend(format!(":{}", (rng.next() as i64) >> rng.below(64)).bytes()),
            3 => out.extend_from_slice(b"$-1"),
            4 | 5 => {
                let n = rng.below(40) as usize;
                out.extend(format!("${n}\r\n").bytes());
                out.extend((0..n).map(|_| rng.next() as u8));
            }
            6 if rng.below(4) == 0 => out.extend_from_slice(b"*-1"),
            _ => {
                let n = rng.below(5) as usize;
                out.extend(format!("*{n}\r\n").bytes());
                for _ in 0..n {
                    reply(rng, depth + 1, out);
                }
                return;
            }
        }
        out.extend_from_slice(b"\r\n");
    }

    #[test]
    fn reads_what_redis_rs_reads_however_the_bytes_arrive() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..5_000 {
            let mut stream = Vec::new();
            let mut expected = Vec::new();
            for _ in 0..1 + rng.below(4) {
                let mut one = Vec::new();
                reply(&mut rng, 0, &mut one);
                expected.push(redis::parse_redis_value(&one).unwrap());
                stream.extend(one);
            }
            let step = 1 + rng.below(stream.len() as u64) as usize;
            let mut src = Trickle {
                bytes: &stream,
                step,
            };
            let mut reader = Reader::new();
            for want in &expected {
                let got = reader.read_value(&mut src).unwrap();
                assert_eq!(
                    &got,
                    want,
                    "case {case}, {step} bytes a read: {:?}",
                    String::from_utf8_lossy(&stream)
                );
            }
            assert!(src.bytes.is_empty() && reader.end == reader.pos);
        }
    }

    #[test]
    fn replies_larger_than_the_buffer() {
        let mut stream = format!("${}\r\n", 100_000).into_bytes();
        stream.extend((0..100_000u32).map(|i| i as u8));
        stream.extend_from_slice(b"\r\n*10000\r\n");
        for i in 0..10_000 {
            stream.extend(format!(":{i}\r\n").bytes());
        }
        stream.extend_from_slice(b"+OK\r\n");
        let mut src = Trickle {
            bytes: &stream,
            step: 7_000,
        };
        let mut reader = Reader::new();
        let mut rest = &stream[..];
        for _ in 0..3 {
            let got = reader.read_value(&mut src).unwrap();
            let want = redis::parse_redis_value(rest).unwrap();
            assert_eq!(got, want);
            rest = &rest[encoded_len(&want)..];
        }
        assert!(src.bytes.is_empty() && rest.is_empty());
        assert_eq!(
            reader.buf.len(),
            READ_CHUNK,
            "the buffer kept a large reply's size"
        );
    }

    /// Length of `v` written as RESP2 (for the values the test above uses).
    fn encoded_len(v: &Value) -> usize {
        match v {
            Value::Okay => 5,
            Value::Int(i) => format!(":{i}\r\n").len(),
            Value::BulkString(b) => format!("${}\r\n", b.len()).len() + b.len() + 2,
            Value::Array(items) => {
                format!("*{}\r\n", items.len()).len() + items.iter().map(encoded_len).sum::<usize>()
            }
            other => panic!("not used here: {other:?}"),
        }
    }

    /// How reading `bytes`, 3 at a time, fails.
    fn first_error(bytes: &[u8]) -> RedisError {
        Reader::new()
            .read_value(&mut Trickle { bytes, step: 3 })
            .unwrap_err()
    }

    #[test]
    fn a_stream_out_of_step_is_an_error_never_a_value() {
        for bad in [
            &b"?x\r\n"[..],
            b":12a\r\n",
            b"$3\r\nabcd\r\n",
            b"$-x\r\n",
            b"+a\rb\r\n",
            b"*1\r\n!\r\n",
        ] {
            let err = first_error(bad);
            assert_eq!(
                err.kind(),
                ErrorKind::Parse,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // A value inside MAX_DEPTH - 1 arrays is read, one more level is not,
        // as with redis-rs.
        for (arrays, ok) in [(MAX_DEPTH - 1, true), (MAX_DEPTH, false)] {
            let mut deep = b"*1\r\n".repeat(arrays);
            deep.extend_from_slice(b":1\r\n");
            assert_eq!(parse(&deep).is_ok(), ok, "{arrays} arrays");
            assert_eq!(
                redis::parse_redis_value(&deep).is_ok(),
                ok,
                "{arrays} arrays"
            );
        }
    }

    #[test]
    fn a_stream_that_ends_inside_a_reply_is_a_dropped_connection() {
        let err = first_error(b"*2\r\n$1\r\na\r\n");
        assert!(err.is_connection_dropped(), "{err:?}");
    }

    #[test]
    fn a_huge_announced_size_waits_for_bytes_instead_of_allocating() {
        // Only 20 bytes arrive; the count must not be trusted for capacity.
        let err = first_error(b"*4611686018427387903\r\n");
        assert!(err.is_connection_dropped(), "{err:?}");
    }
}
