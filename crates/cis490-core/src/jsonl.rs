//! JSONL line splitting over a member streamed in chunks.
//!
//! A line that fits in one chunk is handed out in place (no copy). Only a
//! line straddling chunks is assembled in a reused buffer, and a line that
//! grows past `max_line_bytes` is dropped on the spot and discarded up to
//! its newline, so an over-long line is never held in memory.

use memchr::memchr;

pub enum Line<'a> {
    /// One line without its `\n` (a trailing `\r` is still there).
    Text(&'a [u8]),
    /// A line longer than `max_line_bytes` (reported once, when detected).
    TooLong,
}

pub struct LineSplitter {
    buf: Vec<u8>,
    discarding: bool,
    max_line: usize,
}

impl LineSplitter {
    pub fn new(max_line_bytes: u64) -> Self {
        LineSplitter { buf: Vec::new(), discarding: false, max_line: usize::try_from(max_line_bytes).unwrap_or(usize::MAX) }
    }

    pub fn reset(&mut self) {
        self.buf.clear();
        self.discarding = false;
    }

    pub fn feed<E>(&mut self, chunk: &[u8], mut on_line: impl FnMut(Line<'_>) -> Result<(), E>) -> Result<(), E> {
        let mut pos = 0;
        while pos < chunk.len() {
            match memchr(b'\n', &chunk[pos..]) {
                Some(off) => {
                    let piece = &chunk[pos..pos + off];
                    pos += off + 1;
                    if self.discarding {
                        self.discarding = false;
                    } else if self.buf.is_empty() {
                        if piece.len() > self.max_line {
                            on_line(Line::TooLong)?;
                        } else {
                            on_line(Line::Text(piece))?;
                        }
                    } else if self.buf.len() + piece.len() > self.max_line {
                        self.buf.clear();
                        on_line(Line::TooLong)?;
                    } else {
                        self.buf.extend_from_slice(piece);
                        let r = on_line(Line::Text(&self.buf));
                        self.buf.clear();
                        r?;
                    }
                }
                None => {
                    let piece = &chunk[pos..];
                    pos = chunk.len();
                    if self.discarding {
                        continue;
                    }
                    if self.buf.len() + piece.len() > self.max_line {
                        self.buf.clear();
                        self.discarding = true;
                        on_line(Line::TooLong)?;
                    } else {
                        self.buf.extend_from_slice(piece);
                    }
                }
            }
        }
        Ok(())
    }

    /// End of member: a last line without `\n` is still a line.
    pub fn finish<E>(&mut self, mut on_line: impl FnMut(Line<'_>) -> Result<(), E>) -> Result<(), E> {
        let r = if !self.discarding && !self.buf.is_empty() { on_line(Line::Text(&self.buf)) } else { Ok(()) };
        self.reset();
        r
    }
}

/// Strips one trailing `\r`; None when the line is blank (empty or only
/// ASCII whitespace: space, \t, \n, \x0C, \r), which is not a row at all.
#[inline]
pub fn row_text(line: &[u8]) -> Option<&[u8]> {
    let line = match line.last() {
        Some(b'\r') => &line[..line.len() - 1],
        _ => line,
    };
    // Fast exit: rows start with `{` in practice.
    if line.first().is_some_and(|c| !c.is_ascii_whitespace()) {
        return Some(line);
    }
    if line.iter().all(|c| c.is_ascii_whitespace()) {
        None
    } else {
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]], max: u64) -> Vec<Option<Vec<u8>>> {
        let mut s = LineSplitter::new(max);
        let mut out = Vec::new();
        let mut push = |l: Line<'_>| -> Result<(), ()> {
            out.push(match l {
                Line::Text(t) => Some(t.to_vec()),
                Line::TooLong => None,
            });
            Ok(())
        };
        for c in chunks {
            s.feed(c, &mut push).unwrap();
        }
        s.finish(&mut push).unwrap();
        out
    }

    #[test]
    fn splits_across_chunks_and_limits() {
        let r = split(&[b"ab\ncd", b"ef\n", b"gh"], 10);
        assert_eq!(r, vec![Some(b"ab".to_vec()), Some(b"cdef".to_vec()), Some(b"gh".to_vec())]);
        // "0123456789x" is 11 bytes > 10: dropped once, the rest kept.
        let r = split(&[b"012345", b"6789x", b"yz\nok\n"], 10);
        assert_eq!(r, vec![None, Some(b"ok".to_vec())]);
        let r = split(&[b"0123456789\n0123456789A\n"], 10);
        assert_eq!(r, vec![Some(b"0123456789".to_vec()), None]);
        // Over-long last line without newline.
        let r = split(&[b"a\n", b"0123456789AB"], 10);
        assert_eq!(r, vec![Some(b"a".to_vec()), None]);
    }

    #[test]
    fn blank_lines() {
        assert_eq!(row_text(b" \t\r"), None);
        assert_eq!(row_text(b""), None);
        assert_eq!(row_text(b"\x0c"), None);
        assert_eq!(row_text(b"{}\r"), Some(&b"{}"[..]));
        assert_eq!(row_text(b"\x0b"), Some(&b"\x0b"[..])); // VT is not ASCII whitespace
    }
}
