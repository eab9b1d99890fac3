//! Streaming `.tar.zst` reading: raw bytes -> sha256 + size -> zstd
//! streaming decoder (counted against max_total_bytes) -> tar walker.
//! Nothing is ever written to disk; member data is handed to a sink.

use sha2::{Digest, Sha256};
use std::io::{self, Read};
use std::cell::RefCell;
use zstd::zstd_safe::{self, DCtx, InBuffer, OutBuffer, ResetDirective};

/// Why reading stopped early. The string is the free-text `fatal_detail`.
#[derive(Debug, Clone, PartialEq)]
pub enum Fatal {
    Zstd(String),
    Tar(String),
    /// A malformed pax header (`tar-error`, plus a `malformed-pax` finding
    /// naming the pax header's own tar name).
    Pax { header: String, what: String },
    TotalBytes,
    /// A zstd frame declares a window over max_window_bytes (the limit).
    WindowBytes(u64),
    MemberBytes,
    Rows,
    /// Reading the file itself failed (errno name, e.g. "EIO").
    Io(String),
}

impl Fatal {
    pub fn code(&self) -> &'static str {
        match self {
            Fatal::Zstd(_) => "zstd-error",
            Fatal::Tar(_) | Fatal::Pax { .. } => "tar-error",
            Fatal::TotalBytes => "limit:total-bytes",
            Fatal::WindowBytes(_) => "limit:window-bytes",
            Fatal::MemberBytes => "limit:member-bytes",
            Fatal::Rows => "limit:rows",
            Fatal::Io(_) => "io-error",
        }
    }

    pub fn detail(&self) -> String {
        match self {
            Fatal::Zstd(m) => format!("zstd: {m}"),
            Fatal::Tar(m) => format!("tar: {m}"),
            Fatal::Pax { header, what } => format!("tar: malformed pax header {header:?}: {what}"),
            Fatal::TotalBytes => "decompressed size exceeds max_total_bytes".into(),
            Fatal::WindowBytes(max) => format!("a zstd frame declares a window larger than max_window_bytes ({max} bytes); refused before allocating it"),
            Fatal::MemberBytes => "member size exceeds max_member_bytes".into(),
            Fatal::Rows => "member has more rows than max_rows".into(),
            Fatal::Io(m) => m.clone(),
        }
    }
}

/// Node-style errno name for an I/O error (what `err.code` says in Node),
/// so io_error agrees between the native and TypeScript readers.
pub fn errno_name(e: &io::Error) -> String {
    let names: &[(i32, &str)] = &[
        (libc::ENOENT, "ENOENT"),
        (libc::EACCES, "EACCES"),
        (libc::EPERM, "EPERM"),
        (libc::EISDIR, "EISDIR"),
        (libc::ENOTDIR, "ENOTDIR"),
        (libc::EIO, "EIO"),
        (libc::ELOOP, "ELOOP"),
        (libc::ENAMETOOLONG, "ENAMETOOLONG"),
        (libc::EMFILE, "EMFILE"),
        (libc::ENFILE, "ENFILE"),
        (libc::ENXIO, "ENXIO"),
        (libc::ENODEV, "ENODEV"),
        (libc::EINVAL, "EINVAL"),
        (libc::EFBIG, "EFBIG"),
        (libc::ENOMEM, "ENOMEM"),
        (libc::EBUSY, "EBUSY"),
        (libc::ETIMEDOUT, "ETIMEDOUT"),
        (libc::ESTALE, "ESTALE"),
    ];
    match e.raw_os_error() {
        Some(n) => names.iter().find(|(c, _)| *c == n).map(|(_, s)| s.to_string()).unwrap_or_else(|| format!("E{n}")),
        None => "EIO".into(),
    }
}

const IN_BUF: usize = 64 * 1024;
const OUT_BUF: usize = 128 * 1024;

/// The zstd context and I/O buffers, reused per thread: a fresh context
/// and two >=64 KiB buffers per episode (mmap'd by malloc, page-faulted on
/// every use) cost as much as decoding a small episode.
struct Resources {
    dctx: DCtx<'static>,
    inbuf: Box<[u8]>,
    out: Box<[u8]>,
}

thread_local! {
    static POOL: RefCell<Option<Box<Resources>>> = const { RefCell::new(None) };
}

/// libzstd's message for ZSTD_error_frameParameter_windowTooLarge (also
/// what the TypeScript twin matches on).
const WINDOW_TOO_LARGE: &str = "Frame requires too much memory for decoding";

/// A context limited to windows of 2^window_log bytes (set every time: a
/// pooled context may come from an episode with other options).
fn take_resources(window_log: u32) -> Box<Resources> {
    let mut r = take_pooled();
    // InspectOptions::from_json checks the bounds; a setting libzstd still
    // refuses leaves its default (27), never a crash.
    let _ = r.dctx.set_parameter(zstd_safe::DParameter::WindowLogMax(window_log));
    r
}

fn take_pooled() -> Box<Resources> {
    let pooled = POOL.with(|p| p.borrow_mut().take());
    match pooled {
        Some(mut r) => {
            // A previous episode may have stopped mid-frame or on an error.
            let _ = r.dctx.reset(ResetDirective::SessionOnly);
            r
        }
        None => Box::new(Resources {
            dctx: DCtx::create(),
            inbuf: vec![0u8; IN_BUF].into_boxed_slice(),
            out: vec![0u8; OUT_BUF].into_boxed_slice(),
        }),
    }
}

/// The zstd stream over a hashing, counting reader. `fill_buf`/`consume`
/// work like `BufRead` but with our error type and the total-bytes limit.
pub struct Decoder<R: Read> {
    src: R,
    hasher: Sha256,
    raw_bytes: u64,
    src_eof: bool,
    /// Always Some until drop (returned to the per-thread pool there).
    res: Option<Box<Resources>>,
    in_pos: usize,
    in_len: usize,
    out_pos: usize,
    out_len: usize,
    produced: u64,
    max_total: u64,
    max_window: u64,
    over_limit: bool,
    /// libzstd's hint from the last call: 0 when a frame just ended.
    last_hint: usize,
    done: bool,
}

impl<R: Read> Decoder<R> {
    /// A decoder with the default window limit (DEFAULT_MAX_WINDOW_BYTES).
    pub fn new(src: R, max_total: u64) -> Self {
        Self::with_window(src, max_total, crate::limits::DEFAULT_MAX_WINDOW_BYTES.trailing_zeros())
    }

    /// Frames declaring a window over 2^window_log bytes are a
    /// `Fatal::WindowBytes`; window_log must be in 10..=31.
    pub fn with_window(src: R, max_total: u64, window_log: u32) -> Self {
        Decoder {
            src,
            hasher: Sha256::new(),
            raw_bytes: 0,
            src_eof: false,
            res: Some(take_resources(window_log)),
            max_window: 1u64 << window_log,
            in_pos: 0,
            in_len: 0,
            out_pos: 0,
            out_len: 0,
            produced: 0,
            max_total,
            over_limit: false,
            // Nonzero: an empty file is a frame that never started.
            last_hint: 1,
            done: false,
        }
    }

    fn res(&mut self) -> &mut Resources {
        self.res.as_mut().expect("decoder resources")
    }

    fn refill(&mut self) -> Result<(), Fatal> {
        let inbuf = &mut self.res.as_mut().expect("decoder resources").inbuf;
        loop {
            match self.src.read(inbuf) {
                Ok(0) => {
                    self.src_eof = true;
                    self.in_pos = 0;
                    self.in_len = 0;
                    return Ok(());
                }
                Ok(n) => {
                    self.hasher.update(&inbuf[..n]);
                    self.raw_bytes += n as u64;
                    self.in_pos = 0;
                    self.in_len = n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Fatal::Io(errno_name(&e))),
            }
        }
    }

    /// Decompressed bytes available now; empty means a clean end of stream.
    pub fn fill_buf(&mut self) -> Result<&[u8], Fatal> {
        if self.out_pos == self.out_len {
            if self.over_limit {
                return Err(Fatal::TotalBytes);
            }
            if self.done {
                return Ok(&[]);
            }
            self.decode_more()?;
        }
        let (a, b) = (self.out_pos, self.out_len);
        Ok(&self.res().out[a..b])
    }

    pub fn consume(&mut self, n: usize) {
        self.out_pos += n;
    }

    fn decode_more(&mut self) -> Result<(), Fatal> {
        let mut stalls = 0;
        loop {
            if self.in_pos == self.in_len && !self.src_eof {
                self.refill()?;
            }
            let input_empty = self.in_pos == self.in_len;
            if input_empty && self.src_eof && self.last_hint == 0 {
                self.done = true;
                self.out_pos = 0;
                self.out_len = 0;
                return Ok(());
            }
            // Never produce more than max_total + 1 bytes: the extra byte
            // proves the limit is passed without decoding a bomb any further.
            let room = (self.max_total + 1 - self.produced).min(OUT_BUF as u64) as usize;
            let (in_pos, in_len) = (self.in_pos, self.in_len);
            let res = self.res.as_mut().expect("decoder resources");
            let mut ob = OutBuffer::around(&mut res.out[..room]);
            let mut ib = InBuffer::around(&res.inbuf[in_pos..in_len]);
            let r = res.dctx.decompress_stream(&mut ob, &mut ib);
            let consumed = ib.pos();
            let made = ob.pos();
            self.in_pos += consumed;
            match r {
                Ok(h) => self.last_hint = h,
                Err(code) if zstd_safe::get_error_name(code) == WINDOW_TOO_LARGE => return Err(Fatal::WindowBytes(self.max_window)),
                Err(code) => return Err(Fatal::Zstd(zstd_safe::get_error_name(code).to_string())),
            }
            if made > 0 {
                self.produced += made as u64;
                let mut deliver = made;
                if self.produced > self.max_total {
                    // Bytes up to the limit are still delivered (errors are
                    // reported in stream order); the excess byte is not.
                    deliver -= (self.produced - self.max_total) as usize;
                    self.over_limit = true;
                }
                self.out_pos = 0;
                self.out_len = deliver;
                if deliver == 0 {
                    return Err(Fatal::TotalBytes);
                }
                return Ok(());
            }
            if consumed == 0 {
                if input_empty && self.src_eof {
                    let what = if self.raw_bytes == 0 { "empty input" } else { "truncated frame" };
                    return Err(Fatal::Zstd(what.into()));
                }
                stalls += 1;
                if stalls > 2 {
                    return Err(Fatal::Zstd("decoder made no progress".into()));
                }
            } else {
                stalls = 0;
            }
        }
    }

    /// Decodes the rest of the stream after the tar end marker: its bytes
    /// are ignored but still counted, and a bad frame is still an error.
    pub fn drain_decoded(&mut self) -> Result<(), Fatal> {
        loop {
            let n = self.fill_buf()?.len();
            if n == 0 {
                return Ok(());
            }
            self.consume(n);
        }
    }

    /// Hashes the rest of the file without decoding it.
    pub fn drain_raw(&mut self) -> Result<(), Fatal> {
        while !self.src_eof {
            self.refill()?;
        }
        Ok(())
    }

    /// (size_bytes, sha256 hex) of every byte read from the file.
    pub fn digest(&mut self) -> (u64, String) {
        let d = std::mem::take(&mut self.hasher).finalize();
        let mut hex = String::with_capacity(64);
        for b in d.iter() {
            hex.push_str(&format!("{b:02x}"));
        }
        (self.raw_bytes, hex)
    }
}

impl<R: Read> Drop for Decoder<R> {
    fn drop(&mut self) {
        if let Some(r) = self.res.take() {
            // A frame with a huge window (up to 128 MiB) must not stay
            // resident in every worker thread: pool only ordinary contexts.
            if r.dctx.sizeof() <= 16 << 20 {
                POOL.with(|p| *p.borrow_mut() = Some(r));
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Regular,
    Directory,
    Symlink,
    Hardlink,
    /// Devices, FIFOs and every other type we do not interpret.
    Special,
}

#[derive(Debug, Clone)]
pub struct Entry {
    /// The effective name (pax `path`, else GNU long name, else ustar
    /// prefix/name), UTF-8 lossy.
    pub name: String,
    pub kind: EntryKind,
    /// Effective data size (pax `size` when given, else the header field).
    pub size: u64,
    /// Effective link target (pax `linkpath`, else GNU long link, else the
    /// header field), UTF-8 lossy; never followed.
    pub link: String,
    /// Effective modification time in seconds (pax `mtime`, else the header
    /// field; None when the header field is not a number).
    pub mtime: Option<f64>,
}

impl Entry {
    /// Absolute, or has a `..` component.
    pub fn is_unsafe(&self) -> bool {
        self.name.starts_with('/') || self.name.split('/').any(|c| c == "..")
    }

    /// Last `/`-separated component, after removing leading `./`.
    pub fn base_name(&self) -> &str {
        let mut n = self.name.as_str();
        while let Some(rest) = n.strip_prefix("./") {
            n = rest;
        }
        n.rsplit('/').next().unwrap_or(n)
    }
}

/// Over this many data bytes a pax header is malformed: real tools write a
/// few hundred bytes, and the data is held in memory to be parsed.
pub const MAX_PAX_BYTES: u64 = 1 << 20;

/// One pax value as a header states it: set, or explicitly emptied
/// (`key=` with nothing after it: fall back to the header's own field).
#[derive(Debug, Clone, PartialEq)]
enum PaxValue<T> {
    Set(T),
    Cleared,
}

/// The pax keys we interpret; everything else is ignored.
#[derive(Debug, Clone, Default)]
struct PaxRecords {
    path: Option<PaxValue<Vec<u8>>>,
    linkpath: Option<PaxValue<Vec<u8>>>,
    size: Option<PaxValue<u64>>,
    mtime: Option<PaxValue<f64>>,
}

impl PaxRecords {
    /// Later records win (a second header, or a repeated key).
    fn merge(&mut self, later: PaxRecords) {
        if later.path.is_some() {
            self.path = later.path;
        }
        if later.linkpath.is_some() {
            self.linkpath = later.linkpath;
        }
        if later.size.is_some() {
            self.size = later.size;
        }
        if later.mtime.is_some() {
            self.mtime = later.mtime;
        }
    }

    /// Global records: a set value replaces, an emptied value removes.
    fn merge_global(&mut self, later: PaxRecords) {
        fn put<T>(slot: &mut Option<PaxValue<T>>, v: Option<PaxValue<T>>) {
            match v {
                Some(PaxValue::Set(x)) => *slot = Some(PaxValue::Set(x)),
                Some(PaxValue::Cleared) => *slot = None,
                None => {}
            }
        }
        put(&mut self.path, later.path);
        put(&mut self.linkpath, later.linkpath);
        put(&mut self.size, later.size);
        put(&mut self.mtime, later.mtime);
    }
}

/// The effective value: the member's own record, else the global one, else
/// the header's. An emptied member record skips the global one.
fn effective<T: Clone>(local: &Option<PaxValue<T>>, global: &Option<PaxValue<T>>, header: T) -> T {
    match local {
        Some(PaxValue::Set(v)) => v.clone(),
        Some(PaxValue::Cleared) => header,
        None => match global {
            Some(PaxValue::Set(v)) => v.clone(),
            _ => header,
        },
    }
}

/// `[-]digits[.digits]` (POSIX's grammar for pax times), as seconds.
fn parse_pax_time(v: &[u8]) -> Option<f64> {
    let body = v.strip_prefix(b"-").unwrap_or(v);
    let (int, frac) = match memchr::memchr(b'.', body) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let digits = |d: &[u8]| !d.is_empty() && d.iter().all(u8::is_ascii_digit);
    if !digits(int) || !frac.is_none_or(digits) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse::<f64>().ok().filter(|t| t.is_finite())
}

/// Decimal digits only, within u64.
fn parse_pax_size(v: &[u8]) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &c in v {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(n)
}

/// Parses pax extended header data: a sequence of `"<len> <key>=<value>\n"`
/// records, `len` counting the whole record in decimal bytes (docs/inspection.md,
/// "pax headers"). Trailing NUL bytes after the last record are allowed.
fn parse_pax(data: &[u8]) -> Result<PaxRecords, String> {
    let mut out = PaxRecords::default();
    let n = data.len();
    let mut pos = 0;
    while pos < n {
        if data[pos] == 0 {
            if data[pos..].iter().all(|&b| b == 0) {
                break;
            }
            return Err("NUL byte inside the records".into());
        }
        let mut i = pos;
        let mut len: usize = 0;
        while i < n && data[i].is_ascii_digit() {
            // Past the data is past the data, however many digits follow.
            len = len.saturating_mul(10).saturating_add((data[i] - b'0') as usize).min(n + 1);
            i += 1;
        }
        if i == pos {
            return Err("record length is not a decimal number".into());
        }
        if i == n || data[i] != b' ' {
            return Err("record length is not followed by a space".into());
        }
        if len > n - pos {
            return Err("record runs past the header data".into());
        }
        let end = pos + len;
        if end < i + 2 {
            return Err("record shorter than its length field".into());
        }
        if data[end - 1] != b'\n' {
            return Err("record does not end with a newline".into());
        }
        let body = &data[i + 1..end - 1];
        let Some(eq) = memchr::memchr(b'=', body) else {
            return Err("record has no '='".into());
        };
        let (key, value) = (&body[..eq], &body[eq + 1..]);
        if key.is_empty() {
            return Err("record has an empty key".into());
        }
        match key {
            b"path" => out.path = Some(if value.is_empty() { PaxValue::Cleared } else { PaxValue::Set(value.to_vec()) }),
            b"linkpath" => out.linkpath = Some(if value.is_empty() { PaxValue::Cleared } else { PaxValue::Set(value.to_vec()) }),
            b"size" => {
                out.size = Some(if value.is_empty() {
                    PaxValue::Cleared
                } else {
                    PaxValue::Set(parse_pax_size(value).ok_or("size record is not a decimal number")?)
                })
            }
            b"mtime" => {
                out.mtime = Some(if value.is_empty() {
                    PaxValue::Cleared
                } else {
                    PaxValue::Set(parse_pax_time(value).ok_or("mtime record is not a decimal time")?)
                })
            }
            _ => {}
        }
        pos = end;
    }
    Ok(out)
}

const BLOCK: usize = 512;

/// Header numeric field: octal (leading spaces allowed, ended by NUL or
/// space, nothing but NUL/space after) or GNU base-256 (high bit set).
fn parse_numeric(f: &[u8]) -> Option<u64> {
    if f[0] & 0x80 != 0 {
        if f[0] == 0xFF {
            return None; // negative
        }
        let mut v: u128 = (f[0] & 0x7F) as u128;
        for &c in &f[1..] {
            v = (v << 8) | c as u128;
            if v > u64::MAX as u128 {
                return None;
            }
        }
        return Some(v as u64);
    }
    let mut i = 0;
    while i < f.len() && f[i] == b' ' {
        i += 1;
    }
    let start = i;
    let mut v: u64 = 0;
    while i < f.len() && (b'0'..=b'7').contains(&f[i]) {
        v = v.checked_mul(8)?.checked_add((f[i] - b'0') as u64)?;
        i += 1;
    }
    if i == start || !f[i..].iter().all(|&c| c == 0 || c == b' ') {
        return None;
    }
    Some(v)
}

/// Zero bytes after `size` data bytes up to the next block boundary.
fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

fn cstr(f: &[u8]) -> &[u8] {
    match memchr::memchr(0, f) {
        Some(n) => &f[..n],
        None => f,
    }
}

enum Block {
    Full,
    Eof,
}

pub struct TarReader<R: Read> {
    pub dec: Decoder<R>,
    hdr: [u8; BLOCK],
    /// Over this size a GNU long name is refused (limit:member-bytes).
    max_meta_bytes: u64,
    /// pax `g` records in force for every following entry.
    global: PaxRecords,
}

/// The ustar name (prefix/name joined when the magic says ustar) of a header.
fn header_name(h: &[u8; BLOCK]) -> Vec<u8> {
    let base = cstr(&h[0..100]);
    let prefix = if &h[257..263] == b"ustar\0" { cstr(&h[345..500]) } else { &[][..] };
    if prefix.is_empty() {
        base.to_vec()
    } else {
        let mut v = prefix.to_vec();
        v.push(b'/');
        v.extend_from_slice(base);
        v
    }
}

impl<R: Read> TarReader<R> {
    pub fn new(dec: Decoder<R>, max_member_bytes: u64) -> Self {
        TarReader { dec, hdr: [0; BLOCK], max_meta_bytes: max_member_bytes, global: PaxRecords::default() }
    }

    /// Reads one whole block; Eof only when the stream ends exactly here.
    fn read_block(&mut self) -> Result<Block, Fatal> {
        let mut got = 0;
        while got < BLOCK {
            let avail = self.dec.fill_buf()?;
            if avail.is_empty() {
                return if got == 0 { Ok(Block::Eof) } else { Err(Fatal::Tar("stream ends inside a header".into())) };
            }
            let n = avail.len().min(BLOCK - got);
            self.hdr[got..got + n].copy_from_slice(&avail[..n]);
            self.dec.consume(n);
            got += n;
        }
        Ok(Block::Full)
    }

    fn read_all(&mut self, size: u64) -> Result<Vec<u8>, Fatal> {
        let mut data = Vec::with_capacity(size as usize);
        self.read_data(size, |c| {
            data.extend_from_slice(c);
            Ok(())
        })?;
        Ok(data)
    }

    /// Next entry, or None at the end of the archive (two zero blocks, one
    /// zero block then end of stream, or end of stream at a header boundary).
    /// GNU long-name ('L') / long-link ('K') records and pax extended
    /// headers ('x' for the next entry, 'g' for all following ones) are
    /// consumed here and applied to the entry they describe.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, Fatal> {
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut local = PaxRecords::default();
        loop {
            if let Block::Eof = self.read_block()? {
                return Ok(None);
            }
            if self.hdr.iter().all(|&b| b == 0) {
                return match self.read_block()? {
                    Block::Eof => Ok(None),
                    Block::Full if self.hdr.iter().all(|&b| b == 0) => Ok(None),
                    Block::Full => Err(Fatal::Tar("a single zero block inside the archive".into())),
                };
            }
            let h = &self.hdr;
            let stored = parse_numeric(&h[148..156]).ok_or_else(|| Fatal::Tar("bad header checksum field".into()))?;
            let sum: u64 = h.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { b as u64 }).sum();
            if stored != sum {
                return Err(Fatal::Tar("header checksum mismatch".into()));
            }
            let size = parse_numeric(&h[124..136]).ok_or_else(|| Fatal::Tar("bad size field".into()))?;
            let typeflag = h[156];
            if typeflag == b'L' || typeflag == b'K' {
                if size > self.max_meta_bytes {
                    return Err(Fatal::MemberBytes);
                }
                let data = self.read_all(size)?;
                if typeflag == b'L' {
                    long_name = Some(cstr(&data).to_vec());
                } else {
                    long_link = Some(cstr(&data).to_vec());
                }
                continue;
            }
            if typeflag == b'x' || typeflag == b'g' {
                let malformed = |h: &[u8; BLOCK], what: String| Fatal::Pax { header: String::from_utf8_lossy(&header_name(h)).into_owned(), what };
                if size > MAX_PAX_BYTES {
                    return Err(malformed(h, format!("{size} bytes of records (more than {MAX_PAX_BYTES})")));
                }
                let data = self.read_all(size)?;
                let records = parse_pax(&data).map_err(|what| malformed(&self.hdr, what))?;
                if typeflag == b'x' {
                    local.merge(records);
                } else {
                    self.global.merge_global(records);
                }
                continue;
            }
            let h = &self.hdr;
            let g = &self.global;
            let name = effective(&local.path, &g.path, long_name.take().unwrap_or_else(|| header_name(h)));
            let link = effective(&local.linkpath, &g.linkpath, long_link.take().unwrap_or_else(|| cstr(&h[157..257]).to_vec()));
            let size = effective(&local.size, &g.size, size);
            let header_mtime = parse_numeric(&h[136..148]).map(|t| t as f64);
            let mtime = match (&local.mtime, &g.mtime) {
                (Some(PaxValue::Set(t)), _) | (None, Some(PaxValue::Set(t))) => Some(*t),
                _ => header_mtime,
            };
            let kind = match typeflag {
                b'0' | 0 | b'7' => EntryKind::Regular,
                b'5' => EntryKind::Directory,
                b'2' => EntryKind::Symlink,
                b'1' => EntryKind::Hardlink,
                _ => EntryKind::Special,
            };
            return Ok(Some(Entry {
                name: String::from_utf8_lossy(&name).into_owned(),
                kind,
                size,
                link: String::from_utf8_lossy(&link).into_owned(),
                mtime,
            }));
        }
    }

    /// Streams `size` bytes of member data to `sink`, then skips the padding
    /// to the next block. A stream that ends first is a tar-error.
    pub fn read_data(&mut self, size: u64, mut sink: impl FnMut(&[u8]) -> Result<(), Fatal>) -> Result<(), Fatal> {
        let mut left = size;
        while left > 0 {
            let avail = self.dec.fill_buf()?;
            if avail.is_empty() {
                return Err(Fatal::Tar("stream ends inside member data".into()));
            }
            let n = (avail.len() as u64).min(left) as usize;
            sink(&avail[..n])?;
            self.dec.consume(n);
            left -= n as u64;
        }
        self.skip(padding(size))
    }

    pub fn skip_data(&mut self, size: u64) -> Result<(), Fatal> {
        // Two steps: rounding a size near u64::MAX up to a block would overflow.
        self.skip(size)?;
        self.skip(padding(size))
    }

    fn skip(&mut self, mut left: u64) -> Result<(), Fatal> {
        while left > 0 {
            let avail = self.dec.fill_buf()?.len();
            if avail == 0 {
                return Err(Fatal::Tar("stream ends inside member data".into()));
            }
            let n = (avail as u64).min(left) as usize;
            self.dec.consume(n);
            left -= n as u64;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_fields() {
        assert_eq!(parse_numeric(b"0000644\0"), Some(0o644));
        assert_eq!(parse_numeric(b"  644 \0\0"), Some(0o644));
        assert_eq!(parse_numeric(b"00000000012\0"), Some(10));
        assert_eq!(parse_numeric(b"\0\0\0\0\0\0\0\0"), None);
        assert_eq!(parse_numeric(b"0009x\0\0\0"), None);
        let mut b = [0u8; 12];
        b[0] = 0x80;
        b[11] = 5;
        assert_eq!(parse_numeric(&b), Some(5));
    }

    #[test]
    fn names() {
        let e = |n: &str| Entry { name: n.into(), kind: EntryKind::Regular, size: 0, link: String::new(), mtime: None };
        assert_eq!(e("./meta.json").base_name(), "meta.json");
        assert_eq!(e("ep/meta.json").base_name(), "meta.json");
        assert_eq!(e("././a/b").base_name(), "b");
        assert_eq!(e("dir/").base_name(), "");
        assert!(e("../x").is_unsafe());
        assert!(e("/etc/passwd").is_unsafe());
        assert!(e("a/../../b").is_unsafe());
        assert!(!e("a/..b/c").is_unsafe());
    }

    /// One well-formed record.
    fn rec(key: &str, value: &str) -> Vec<u8> {
        let body = format!(" {key}={value}\n");
        let mut n = body.len() + 1;
        while n.to_string().len() + body.len() != n {
            n += 1;
        }
        format!("{n}{body}").into_bytes()
    }

    #[test]
    fn pax_records() {
        let r = parse_pax(&[rec("mtime", "1700000000.123456789"), rec("path", "ep/meta.json"), rec("size", "7")].concat()).unwrap();
        assert_eq!(r.path, Some(PaxValue::Set(b"ep/meta.json".to_vec())));
        assert_eq!(r.size, Some(PaxValue::Set(7)));
        assert_eq!(r.mtime, Some(PaxValue::Set("1700000000.123456789".parse().unwrap())));
        // Unknown keys are skipped; a value may hold '=' and newlines; later records win; NUL padding after the last record.
        let r = parse_pax(&[rec("comment", "a=b\n"), rec("path", "a=\n"), rec("path", "b"), b"\0\0\0".to_vec()].concat()).unwrap();
        assert_eq!(r.path, Some(PaxValue::Set(b"b".to_vec())));
        let r = parse_pax(&[rec("size", ""), rec("path", "")].concat()).unwrap();
        assert_eq!(r.size, Some(PaxValue::Cleared));
        assert_eq!(r.path, Some(PaxValue::Cleared));
        assert!(parse_pax(b"").unwrap().path.is_none());
        let mut bad: Vec<Vec<u8>> = vec![
            b"x9 path=a\n".to_vec(),
            b"9path=ab\n".to_vec(),
            b"99 path=a\n".to_vec(),
            b"10 path=ab\n".to_vec(),
            b"9 pathab\n\n".to_vec(),
            b"5 =a\n\n\n\n\n".to_vec(),
            b"2 \n".to_vec(),
            [rec("path", "a"), b"\0x".to_vec()].concat(),
            b"99999999999999999999999 path=a\n".to_vec(),
        ];
        for v in ["-1", "1.5", "99999999999999999999", " 1", "0x1"] {
            bad.push(rec("size", v));
        }
        for v in ["1e9", ".5", "5.", "+1", "1.2.3", "--1"] {
            bad.push(rec("mtime", v));
        }
        for b in &bad {
            assert!(parse_pax(b).is_err(), "{:?}", String::from_utf8_lossy(b));
        }
        assert_eq!(parse_pax_time(b"-12.50"), Some(-12.5));
        assert_eq!(parse_pax_size(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_pax_size(b"18446744073709551616"), None);
    }
}
