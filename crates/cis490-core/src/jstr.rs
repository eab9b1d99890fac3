//! Strings exactly as JavaScript sees them.
//!
//! `JSON.parse` accepts lone surrogate escapes (`"\ud800"`), which a Rust
//! `String` cannot hold. We store decoded JSON strings as WTF-8: UTF-8 plus
//! 3-byte encodings of unpaired surrogates. Two JS strings are equal exactly
//! when their WTF-8 bytes are equal, which makes duplicate-key detection and
//! comparisons byte comparisons.

use std::cmp::Ordering;

#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct JsStr(pub Vec<u8>);

impl std::fmt::Debug for JsStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.to_string_lossy())
    }
}

impl JsStr {
    pub fn from_text(s: &str) -> Self {
        JsStr(s.as_bytes().to_vec())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn eq_str(&self, s: &str) -> bool {
        self.0 == s.as_bytes()
    }

    /// Code points (surrogates included, as their own values).
    pub fn code_points(&self) -> CodePoints<'_> {
        CodePoints { b: &self.0, i: 0 }
    }

    /// UTF-16 code units, the order JavaScript's default sort uses.
    pub fn utf16(&self) -> impl Iterator<Item = u16> + '_ {
        self.code_points().flat_map(|cp| {
            let (a, b) = if cp >= 0x10000 {
                let v = cp - 0x10000;
                (0xD800 + (v >> 10) as u16, Some(0xDC00 + (v & 0x3FF) as u16))
            } else {
                (cp as u16, None)
            };
            std::iter::once(a).chain(b)
        })
    }

    /// `Array.prototype.sort()` order: lexicographic on UTF-16 code units.
    pub fn cmp_js(&self, other: &JsStr) -> Ordering {
        self.utf16().cmp(other.utf16())
    }

    pub fn to_string_lossy(&self) -> String {
        self.code_points()
            .map(|cp| char::from_u32(cp).unwrap_or('\u{FFFD}'))
            .collect()
    }

    /// Appends this string as a JSON string literal; unpaired surrogates
    /// become `\udXXX` escapes, as `JSON.stringify` writes them.
    pub fn write_json(&self, out: &mut String) {
        out.push('"');
        for cp in self.code_points() {
            match char::from_u32(cp) {
                Some(c) => push_json_char(out, c),
                None => out.push_str(&format!("\\u{:04x}", cp)),
            }
        }
        out.push('"');
    }
}

pub struct CodePoints<'a> {
    b: &'a [u8],
    i: usize,
}

impl Iterator for CodePoints<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        let b = self.b;
        let i = self.i;
        let c0 = *b.get(i)? as u32;
        // Input is well-formed WTF-8 (we produced it), so no validation here;
        // `get` keeps a malformed tail from panicking all the same.
        let (cp, n) = if c0 < 0x80 {
            (c0, 1)
        } else if c0 < 0xE0 {
            (((c0 & 0x1F) << 6) | cont(b, i + 1), 2)
        } else if c0 < 0xF0 {
            (((c0 & 0x0F) << 12) | (cont(b, i + 1) << 6) | cont(b, i + 2), 3)
        } else {
            (((c0 & 0x07) << 18) | (cont(b, i + 1) << 12) | (cont(b, i + 2) << 6) | cont(b, i + 3), 4)
        };
        self.i = i + n;
        Some(cp)
    }
}

fn cont(b: &[u8], i: usize) -> u32 {
    b.get(i).map(|&c| (c & 0x3F) as u32).unwrap_or(0)
}

pub fn push_json_char(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{08}' => out.push_str("\\b"),
        '\u{0C}' => out.push_str("\\f"),
        c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push(c),
    }
}

/// Appends a Rust string as a JSON string literal.
pub fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        push_json_char(out, c);
    }
    out.push('"');
}

/// Appends one code point as WTF-8.
pub fn push_wtf8(out: &mut Vec<u8>, cp: u32) {
    if cp < 0x80 {
        out.push(cp as u8);
    } else if cp < 0x800 {
        out.extend_from_slice(&[0xC0 | (cp >> 6) as u8, 0x80 | (cp & 0x3F) as u8]);
    } else if cp < 0x10000 {
        out.extend_from_slice(&[
            0xE0 | (cp >> 12) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]);
    } else {
        out.extend_from_slice(&[
            0xF0 | (cp >> 18) as u8,
            0x80 | ((cp >> 12) & 0x3F) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_sort_order_is_utf16() {
        // U+FFFF sorts after U+10000 in UTF-16 (0xFFFF > 0xD800), before it by code point.
        let a = JsStr::from_text("\u{FFFF}");
        let b = JsStr::from_text("\u{10000}");
        assert_eq!(a.cmp_js(&b), Ordering::Greater);
        assert_eq!(a.0.cmp(&b.0), Ordering::Less);
    }

    #[test]
    fn lone_surrogate_round_trip() {
        let mut v = Vec::new();
        push_wtf8(&mut v, 0xD800);
        push_wtf8(&mut v, b'x' as u32);
        let s = JsStr(v);
        let mut out = String::new();
        s.write_json(&mut out);
        assert_eq!(out, "\"\\ud800x\"");
        assert_eq!(s.utf16().collect::<Vec<_>>(), vec![0xD800, b'x' as u16]);
    }
}
