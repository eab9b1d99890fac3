//! A validating JSON scanner over one in-memory document (a JSONL line or
//! meta.json), built to agree with `JSON.parse` on what is valid.
//!
//! Why hand-written: rows are parsed straight into typed columns (no value
//! trees), duplicate keys must follow `JSON.parse` (last one wins), lone
//! surrogate escapes must be accepted, and nesting can be 100k levels deep.
//! Known fields sit at a fixed, shallow depth and are handled by the typed
//! parsers in `parse.rs`; everything else goes through `skip_value`, which
//! is iterative (explicit stack), so no input can overflow the Rust stack.
//!
//! Depth rule: a document is *too deep* when an object/array opens at a
//! depth greater than max_depth (the outermost container is depth 1). The
//! scan goes on to the end so that validity is still decided; callers
//! report invalid JSON first, then too-deep (docs/inspection.md).

use crate::jstr::push_wtf8;
use std::borrow::Cow;

/// The document is not valid JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bad;
pub type R<T> = Result<T, Bad>;

/// Result of reading a value that must have a given type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val<T> {
    Some(T),
    /// `null` (callers treat a missing field the same way).
    Null,
    /// Valid JSON of another type.
    Wrong,
}

impl<T> Val<T> {
    pub fn is_wrong(&self) -> bool {
        matches!(self, Val::Wrong)
    }
}

/// A number token: its text and whether it is an integer literal (no
/// fraction, no exponent).
#[derive(Debug, Clone, Copy)]
pub struct NumTok<'a> {
    pub text: &'a [u8],
    pub int: bool,
}

/// An object key as it appears in the source (escapes not yet decoded).
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    pub raw: &'a [u8],
    pub esc: bool,
}

impl<'a> Key<'a> {
    /// The key as WTF-8 bytes; borrowed unless it contains escapes (rare).
    #[inline]
    pub fn name(&self) -> Cow<'a, [u8]> {
        if self.esc {
            let mut v = Vec::with_capacity(self.raw.len());
            decode_string(self.raw, &mut v);
            Cow::Owned(v)
        } else {
            Cow::Borrowed(self.raw)
        }
    }
}

pub struct Scanner<'a, 's> {
    b: &'a [u8],
    pub i: usize,
    max_depth: u32,
    pub too_deep: bool,
    stack: &'s mut Vec<u8>,
}

/// Bytes that end the fast path inside a string: `"`, `\\`, controls.
static STR_SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

#[inline]
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

impl<'a, 's> Scanner<'a, 's> {
    pub fn new(b: &'a [u8], max_depth: u32, stack: &'s mut Vec<u8>) -> Self {
        stack.clear();
        Scanner { b, i: 0, max_depth, too_deep: false, stack }
    }

    #[inline]
    pub fn ws(&mut self) {
        while self.i < self.b.len() && is_ws(self.b[self.i]) {
            self.i += 1;
        }
    }

    /// The next byte, or 0 at the end (0 is never valid where it is checked).
    #[inline]
    pub fn peek(&self) -> u8 {
        if self.i < self.b.len() {
            self.b[self.i]
        } else {
            0
        }
    }

    /// True when only whitespace remains.
    pub fn at_end(&mut self) -> bool {
        self.ws();
        self.i == self.b.len()
    }

    #[inline]
    fn enter(&mut self, depth: u32) {
        if depth > self.max_depth {
            self.too_deep = true;
        }
    }

    pub fn literal(&mut self, lit: &[u8]) -> R<()> {
        if self.b[self.i..].starts_with(lit) {
            self.i += lit.len();
            Ok(())
        } else {
            Err(Bad)
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    pub fn number(&mut self) -> R<NumTok<'a>> {
        let b = self.b;
        let s = self.i;
        let mut i = s;
        let mut int = true;
        if i < b.len() && b[i] == b'-' {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            _ => return Err(Bad),
        }
        if i < b.len() && b[i] == b'.' {
            int = false;
            i += 1;
            let d = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == d {
                return Err(Bad);
            }
        }
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            int = false;
            i += 1;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                i += 1;
            }
            let d = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == d {
                return Err(Bad);
            }
        }
        self.i = i;
        Ok(NumTok { text: &b[s..i], int })
    }

    /// A number token converted in the same pass (the hot path for
    /// telemetry values); same grammar and result as number() + num_to_f64().
    #[inline]
    pub fn number_f64(&mut self) -> R<f64> {
        let b = self.b;
        let s = self.i;
        let mut i = s;
        let neg = i < b.len() && b[i] == b'-';
        i += neg as usize;
        let mut m: u64 = 0;
        let mut ok = true;
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while i < b.len() && b[i].is_ascii_digit() {
                    ok &= m < 100_000_000_000_000_000;
                    m = m.wrapping_mul(10).wrapping_add((b[i] - b'0') as u64);
                    i += 1;
                }
            }
            _ => return Err(Bad),
        }
        let mut frac: i32 = 0;
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let d = i;
            while i < b.len() && b[i].is_ascii_digit() {
                ok &= m < 100_000_000_000_000_000;
                m = m.wrapping_mul(10).wrapping_add((b[i] - b'0') as u64);
                i += 1;
            }
            frac = (i - d) as i32;
            if i == d {
                return Err(Bad);
            }
        }
        let mut exp: i32 = 0;
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            let eneg = i < b.len() && b[i] == b'-';
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                i += 1;
            }
            let d = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if exp < 100_000 {
                    exp = exp * 10 + (b[i] - b'0') as i32;
                }
                i += 1;
            }
            if i == d {
                return Err(Bad);
            }
            if eneg {
                exp = -exp;
            }
        }
        self.i = i;
        if ok && m <= (1u64 << 53) {
            let e = exp - frac;
            let v = m as f64;
            let r = if e == 0 {
                Some(v)
            } else if (1..=22).contains(&e) {
                Some(v * POW10[e as usize])
            } else if (-22..0).contains(&e) {
                Some(v / POW10[(-e) as usize])
            } else {
                None
            };
            if let Some(r) = r {
                return Ok(if neg { -r } else { r });
            }
        }
        Ok(num_to_f64(&b[s..i]))
    }

    /// At `"`: validates a string and returns its raw contents and whether
    /// it has escapes. The document was already checked to be UTF-8.
    #[inline]
    pub fn string(&mut self) -> R<(&'a [u8], bool)> {
        let b = self.b;
        let start = self.i + 1;
        let mut i = start;
        let mut esc = false;
        loop {
            // Plain bytes are the common case: one table load each (an
            // 8-byte SWAR variant measured no faster on these short keys).
            while i < b.len() && !STR_SPECIAL[b[i] as usize] {
                i += 1;
            }
            let c = *b.get(i).ok_or(Bad)?;
            match c {
                b'"' => {
                    self.i = i + 1;
                    return Ok((&b[start..i], esc));
                }
                b'\\' => {
                    esc = true;
                    match b.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') => {
                            let h = b.get(i + 2..i + 6).ok_or(Bad)?;
                            if !h.iter().all(|c| c.is_ascii_hexdigit()) {
                                return Err(Bad);
                            }
                            i += 6;
                        }
                        _ => return Err(Bad),
                    }
                }
                _ => return Err(Bad), // control character
            }
        }
    }

    fn key_colon(&mut self) -> R<()> {
        if self.peek() != b'"' {
            return Err(Bad);
        }
        self.string()?;
        self.ws();
        if self.peek() != b':' {
            return Err(Bad);
        }
        self.i += 1;
        Ok(())
    }

    /// Validates and skips any value. `d` is the depth of the container
    /// holding the value (0 at top level). Iterative: depth costs one byte
    /// of heap per level, never Rust stack.
    pub fn skip_value(&mut self, d: u32) -> R<()> {
        let base = self.stack.len();
        let mut depth = d;
        'value: loop {
            self.ws();
            match self.peek() {
                b'{' => {
                    self.i += 1;
                    depth += 1;
                    self.enter(depth);
                    self.ws();
                    if self.peek() == b'}' {
                        self.i += 1;
                        depth -= 1;
                    } else {
                        self.stack.push(b'{');
                        self.key_colon()?;
                        continue 'value;
                    }
                }
                b'[' => {
                    self.i += 1;
                    depth += 1;
                    self.enter(depth);
                    self.ws();
                    if self.peek() == b']' {
                        self.i += 1;
                        depth -= 1;
                    } else {
                        self.stack.push(b'[');
                        continue 'value;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                b'-' | b'0'..=b'9' => {
                    self.number()?;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => return Err(Bad),
            }
            // A value ended: close containers until one continues.
            loop {
                if self.stack.len() == base {
                    return Ok(());
                }
                self.ws();
                let top = self.stack[self.stack.len() - 1];
                match self.peek() {
                    b',' => {
                        self.i += 1;
                        if top == b'{' {
                            self.ws();
                            self.key_colon()?;
                        }
                        continue 'value;
                    }
                    b'}' if top == b'{' => {
                        self.i += 1;
                        self.stack.pop();
                        depth -= 1;
                    }
                    b']' if top == b'[' => {
                        self.i += 1;
                        self.stack.pop();
                        depth -= 1;
                    }
                    _ => return Err(Bad),
                }
            }
        }
    }

    /// At `{`: walks an object whose members `f` consumes (exactly one value
    /// per call). `d` is the depth of the context holding the object, so
    /// the object is at `d + 1` and values inside it are read with `d + 1`.
    pub fn object<F>(&mut self, d: u32, mut f: F) -> R<()>
    where
        F: FnMut(&mut Self, Key<'a>) -> R<()>,
    {
        self.i += 1;
        self.enter(d + 1);
        self.ws();
        if self.peek() == b'}' {
            self.i += 1;
            return Ok(());
        }
        loop {
            if self.peek() != b'"' {
                return Err(Bad);
            }
            let (raw, esc) = self.string()?;
            self.ws();
            if self.peek() != b':' {
                return Err(Bad);
            }
            self.i += 1;
            self.ws();
            f(self, Key { raw, esc })?;
            self.ws();
            match self.peek() {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b'}' => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(Bad),
            }
        }
    }

    /// At `[`: calls `f` for each element (which must consume it).
    pub fn array<F>(&mut self, d: u32, mut f: F) -> R<()>
    where
        F: FnMut(&mut Self, usize) -> R<()>,
    {
        self.i += 1;
        self.enter(d + 1);
        self.ws();
        if self.peek() == b']' {
            self.i += 1;
            return Ok(());
        }
        let mut n = 0;
        loop {
            f(self, n)?;
            n += 1;
            self.ws();
            match self.peek() {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b']' => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(Bad),
            }
        }
    }

    /// A number (any) or null; anything else is skipped and reported Wrong.
    #[inline]
    pub fn f64_or_null(&mut self, d: u32) -> R<Val<f64>> {
        match self.peek() {
            b'-' | b'0'..=b'9' => Ok(Val::Some(self.number_f64()?)),
            b'n' => {
                self.literal(b"null")?;
                Ok(Val::Null)
            }
            _ => {
                self.skip_value(d)?;
                Ok(Val::Wrong)
            }
        }
    }

    /// An integer literal that fits i64, or null; anything else is Wrong.
    #[inline]
    pub fn i64_or_null(&mut self, d: u32) -> R<Val<i64>> {
        match self.peek() {
            b'-' | b'0'..=b'9' => {
                // Fast path: plain digits followed by a delimiter, parsed in
                // one pass (timestamps are on every row).
                let b = self.b;
                let neg = b[self.i] == b'-';
                let mut i = self.i + neg as usize;
                let first = i;
                let mut m: u64 = 0;
                while i < b.len() && b[i].is_ascii_digit() && i - first < 19 {
                    m = m * 10 + (b[i] - b'0') as u64;
                    i += 1;
                }
                let done = i < b.len() && !b[i].is_ascii_digit() && b[i] != b'.' && b[i] != b'e' && b[i] != b'E';
                let leading_zero = b.get(first) == Some(&b'0') && i - first > 1;
                if done && i > first && !leading_zero {
                    // Up to 19 digits fit u64; i64::MIN and overflow take the general path.
                    if let Ok(v) = i64::try_from(m) {
                        self.i = i;
                        return Ok(Val::Some(if neg { -v } else { v }));
                    }
                }
                let t = self.number()?;
                Ok(match t.int.then(|| num_to_i64(t.text)).flatten() {
                    Some(v) => Val::Some(v),
                    None => Val::Wrong,
                })
            }
            b'n' => {
                self.literal(b"null")?;
                Ok(Val::Null)
            }
            _ => {
                self.skip_value(d)?;
                Ok(Val::Wrong)
            }
        }
    }

    /// A string (decoded into `out`, replacing its contents) or null.
    #[inline]
    pub fn str_or_null(&mut self, d: u32, out: &mut Vec<u8>) -> R<Val<()>> {
        match self.peek() {
            b'"' => {
                let (raw, esc) = self.string()?;
                out.clear();
                if esc {
                    decode_string(raw, out);
                } else {
                    out.extend_from_slice(raw);
                }
                Ok(Val::Some(()))
            }
            b'n' => {
                self.literal(b"null")?;
                Ok(Val::Null)
            }
            _ => {
                self.skip_value(d)?;
                Ok(Val::Wrong)
            }
        }
    }

    /// `null` only; anything else is skipped and reported Wrong. Used where
    /// a field must be an object (caller handles `{`) or null.
    #[inline]
    pub fn null_or_wrong(&mut self, d: u32) -> R<Val<()>> {
        if self.peek() == b'n' {
            self.literal(b"null")?;
            Ok(Val::Null)
        } else {
            self.skip_value(d)?;
            Ok(Val::Wrong)
        }
    }
}

/// Decodes validated string contents (no quotes) into WTF-8, pairing
/// `\uD8xx\uDCxx` escapes the way a JS string concatenates code units.
pub fn decode_string(raw: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = raw[i + 1];
        i += 2;
        let simple = match e {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0C,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            _ => 0xFF, // 'u'
        };
        if simple != 0xFF {
            out.push(simple);
            continue;
        }
        let u = hex4(&raw[i..i + 4]);
        i += 4;
        if (0xD800..0xDC00).contains(&u) && raw.len() >= i + 6 && raw[i] == b'\\' && raw[i + 1] == b'u' {
            let lo = hex4(&raw[i + 2..i + 6]);
            if (0xDC00..0xE000).contains(&lo) {
                push_wtf8(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
                i += 6;
                continue;
            }
        }
        push_wtf8(out, u);
    }
}

fn hex4(h: &[u8]) -> u32 {
    h.iter().fold(0, |acc, &c| {
        acc * 16
            + match c {
                b'0'..=b'9' => (c - b'0') as u32,
                b'a'..=b'f' => (c - b'a' + 10) as u32,
                _ => (c - b'A' + 10) as u32,
            }
    })
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Converts a validated number token to the double `JSON.parse` gives.
/// Fast path (Clinger): mantissa <= 2^53 and |power of ten| <= 22 are both
/// exact doubles, so one IEEE multiply/divide is correctly rounded. Anything
/// else goes to the standard library's correctly rounded parser.
#[inline]
pub fn num_to_f64(t: &[u8]) -> f64 {
    let neg = t[0] == b'-';
    let mut i = neg as usize;
    let mut m: u64 = 0;
    let mut frac: i32 = 0;
    let mut ok = true;
    while i < t.len() && t[i].is_ascii_digit() {
        if m >= 100_000_000_000_000_000 {
            ok = false;
        }
        m = m.wrapping_mul(10).wrapping_add((t[i] - b'0') as u64);
        i += 1;
    }
    if i < t.len() && t[i] == b'.' {
        i += 1;
        while i < t.len() && t[i].is_ascii_digit() {
            if m >= 100_000_000_000_000_000 {
                ok = false;
            }
            m = m.wrapping_mul(10).wrapping_add((t[i] - b'0') as u64);
            frac += 1;
            i += 1;
        }
    }
    let mut exp: i32 = 0;
    if i < t.len() {
        // exponent
        i += 1;
        let eneg = t[i] == b'-';
        if t[i] == b'-' || t[i] == b'+' {
            i += 1;
        }
        if t.len() - i > 4 {
            ok = false;
        } else {
            while i < t.len() {
                exp = exp * 10 + (t[i] - b'0') as i32;
                i += 1;
            }
            if eneg {
                exp = -exp;
            }
        }
    }
    if ok && m <= (1u64 << 53) {
        let e = exp - frac;
        let v = m as f64;
        let r = if e == 0 {
            Some(v)
        } else if (1..=22).contains(&e) {
            Some(v * POW10[e as usize])
        } else if (-22..0).contains(&e) {
            Some(v / POW10[(-e) as usize])
        } else {
            None
        };
        if let Some(r) = r {
            return if neg { -r } else { r };
        }
    }
    // SAFETY: the token is ASCII by construction (validated number grammar).
    unsafe { std::str::from_utf8_unchecked(t) }.parse::<f64>().unwrap_or(f64::NAN)
}

/// Integer token (digits only) -> i64 when it fits (`-0` is 0).
#[inline]
pub fn num_to_i64(t: &[u8]) -> Option<i64> {
    let neg = t[0] == b'-';
    let mut m: u64 = 0;
    for &c in &t[neg as usize..] {
        m = m.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if m <= i64::MAX as u64 + 1 {
            Some((m as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(m).ok()
    }
}

/// Full validation of one document (used for non-object rows and tests):
/// returns Ok(too_deep) when valid.
pub fn validate(b: &[u8], max_depth: u32, stack: &mut Vec<u8>) -> R<bool> {
    let mut sc = Scanner::new(b, max_depth, stack);
    sc.skip_value(0)?;
    if !sc.at_end() {
        return Err(Bad);
    }
    Ok(sc.too_deep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(s: &str) -> bool {
        let mut st = Vec::new();
        validate(s.as_bytes(), 64, &mut st).is_ok()
    }

    #[test]
    fn grammar_matches_json_parse() {
        for ok in [
            "0", "-0", "1.5e10", "1E+2", "\"a\\u00e9\\ud800\"", "[]", "{}", " [1, {\"a\": [null, true, false]}] ",
            "\"\u{7f}\"", "1e400",
        ] {
            assert!(valid(ok), "{ok}");
        }
        for bad in [
            "", "01", "1.", ".5", "+1", "-", "1e", "[1,]", "{\"a\":1,}", "{'a':1}", "\"\t\"", "NaN", "Infinity",
            "[1 2]", "{\"a\" 1}", "\"\\x\"", "\"\\u12\"", "tru", "nul", "[", "{\"a\":", "1 2", "\u{feff}1",
        ] {
            assert!(!valid(bad), "{bad:?}");
        }
    }

    #[test]
    fn numbers_round_like_js() {
        let cases = [
            "0.1", "123456789012345678", "9007199254740993", "1.7976931348623157e308", "5e-324", "2.2250738585072011e-308",
            "0.30000000000000004", "1e23", "8.589973e9", "-0", "1e400", "-1e400", "123.456e-7", "0.000001",
            "1775124672000000000", "3.14159265358979323846264338327950288", "1e-400", "0e99999999999",
            "123456789012345678901234567890e-10", "9007199254740992", "4.35", "-12.5e2", "1E22", "1e-22",
        ];
        for c in cases {
            let want: f64 = c.parse().unwrap();
            let got = num_to_f64(c.as_bytes());
            assert_eq!(got.to_bits(), want.to_bits(), "{c}");
            let mut st = Vec::new();
            let mut sc = Scanner::new(c.as_bytes(), 64, &mut st);
            assert_eq!(sc.number_f64().unwrap().to_bits(), want.to_bits(), "{c}");
            assert!(sc.at_end());
        }
    }

    #[test]
    fn i64_fast_and_slow_paths() {
        let cases: [(&str, Val<i64>); 11] = [
            ("0", Val::Some(0)),
            ("-0", Val::Some(0)),
            ("1775124672000000000", Val::Some(1775124672000000000)),
            ("9223372036854775807", Val::Some(i64::MAX)),
            ("-9223372036854775808", Val::Some(i64::MIN)),
            ("9223372036854775808", Val::Wrong),
            ("12345678901234567890", Val::Wrong),
            ("1.5", Val::Wrong),
            ("1e3", Val::Wrong),
            ("-12", Val::Some(-12)),
            ("null", Val::Null),
        ];
        for (text, want) in cases {
            let doc = format!("{text},");
            let mut st = Vec::new();
            let mut sc = Scanner::new(doc.as_bytes(), 64, &mut st);
            assert_eq!(sc.i64_or_null(1), Ok(want), "{text}");
            assert_eq!(sc.peek(), b',', "{text}");
        }
        // "01": the number ends after "0"; the caller then rejects "1".
        let mut st = Vec::new();
        let mut sc = Scanner::new(b"01,", 64, &mut st);
        assert_eq!(sc.i64_or_null(1), Ok(Val::Some(0)));
        assert_eq!(sc.peek(), b'1');
        assert_eq!(validate(b"{\"t_wall_ns\":01}", 64, &mut st), Err(Bad));
    }

    #[test]
    fn strings_with_specials_anywhere() {
        // Exercise the 8-byte fast path boundaries.
        for n in 0..20 {
            let mut st = Vec::new();
            let pad = "a".repeat(n);
            for tail in ["\"", "\\n\"", "\u{1}\""] {
                let doc = format!("\"{pad}{tail}");
                let mut sc = Scanner::new(doc.as_bytes(), 64, &mut st);
                let ok = sc.string().is_ok();
                assert_eq!(ok, !tail.starts_with('\u{1}'), "{doc:?}");
            }
            let doc = format!("\"{pad}\u{1}{pad}\"");
            assert!(Scanner::new(doc.as_bytes(), 64, &mut st).string().is_err());
            let doc = format!("\"{pad}\u{7f}\u{e9}{pad}\"");
            assert!(Scanner::new(doc.as_bytes(), 64, &mut st).string().is_ok());
        }
    }

    #[test]
    fn integers() {
        assert_eq!(num_to_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(num_to_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(num_to_i64(b"9223372036854775808"), None);
        assert_eq!(num_to_i64(b"-0"), Some(0));
    }

    #[test]
    fn deep_nesting_is_iterative() {
        let n = 100_000;
        let s = format!("{}{}", "[".repeat(n), "]".repeat(n));
        let mut st = Vec::new();
        assert_eq!(validate(s.as_bytes(), 64, &mut st), Ok(true));
        assert_eq!(validate(b"[[1]]", 2, &mut st), Ok(false));
        assert_eq!(validate(b"[[[1]]]", 2, &mut st), Ok(true));
        let unterminated = "[".repeat(n);
        assert_eq!(validate(unterminated.as_bytes(), 64, &mut st), Err(Bad));
    }

    #[test]
    fn surrogate_pairs_decode() {
        let mut out = Vec::new();
        decode_string(br"\ud83d\ude00", &mut out);
        assert_eq!(out, "😀".as_bytes());
        out.clear();
        decode_string(br"a\ud83dz", &mut out);
        assert_eq!(out, [b'a', 0xED, 0xA0, 0xBD, b'z']);
    }
}
