//! Resource limits for one inspection (the `InspectOptions` JSON of docs/inspection.md).

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InspectOptions {
    pub max_total_bytes: u64,
    pub max_member_bytes: u64,
    pub max_line_bytes: u64,
    pub max_depth: u32,
    pub max_rows: u64,
    /// Largest zstd window a frame may declare (a power of two). The window
    /// is the decoder's one large allocation, held for the whole episode,
    /// so it is part of the episode's memory budget: a frame asking for
    /// more is refused before anything is allocated (`limit:window-bytes`).
    pub max_window_bytes: u64,
    pub with_columns: bool,
}

impl Default for InspectOptions {
    fn default() -> Self {
        InspectOptions {
            max_total_bytes: 256 * 1024 * 1024,
            max_member_bytes: 64 * 1024 * 1024,
            max_line_bytes: 1024 * 1024,
            max_depth: 64,
            max_rows: 1_000_000,
            max_window_bytes: DEFAULT_MAX_WINDOW_BYTES,
            with_columns: false,
        }
    }
}

/// 128 MiB (window log 27): libzstd's own default limit, and the largest
/// window `zstd` writes without `--long=28` or more.
pub const DEFAULT_MAX_WINDOW_BYTES: u64 = 1 << 27;

/// zstd's bounds on the window log a decoder may be limited to (64-bit).
const WINDOW_LOG_MIN: u32 = 10;
const WINDOW_LOG_MAX: u32 = 31;

impl InspectOptions {
    /// `max_window_bytes` as the decoder's window log (checked by from_json).
    pub fn window_log_max(&self) -> u32 {
        self.max_window_bytes.trailing_zeros()
    }

    fn check(self) -> Result<Self, String> {
        let w = self.max_window_bytes;
        if !w.is_power_of_two() || !(WINDOW_LOG_MIN..=WINDOW_LOG_MAX).contains(&w.trailing_zeros()) {
            return Err(format!("invalid inspect options: max_window_bytes must be a power of two from 2^{WINDOW_LOG_MIN} to 2^{WINDOW_LOG_MAX}, got {w}"));
        }
        Ok(self)
    }

    /// Parses the snake_case JSON the TypeScript side sends; missing fields
    /// take their defaults, unknown fields are an error (a typo must not
    /// silently fall back to a default limit).
    pub fn from_json(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_json::from_str::<Self>(text).map_err(|e| format!("invalid inspect options: {e}"))?.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let o = InspectOptions::from_json("{}").unwrap();
        assert_eq!(o, InspectOptions::default());
        let o = InspectOptions::from_json(r#"{"max_depth": 3, "with_columns": true}"#).unwrap();
        assert_eq!(o.max_depth, 3);
        assert!(o.with_columns);
        assert_eq!(o.max_rows, 1_000_000);
        assert!(InspectOptions::from_json(r#"{"max_dept": 3}"#).is_err());
        assert!(InspectOptions::from_json(r#"{"max_depth": -1}"#).is_err());
        assert!(InspectOptions::from_json("[1]").is_err());
        assert_eq!(InspectOptions::default().window_log_max(), 27);
        assert_eq!(InspectOptions::from_json(r#"{"max_window_bytes": 1048576}"#).unwrap().window_log_max(), 20);
        for bad in ["0", "1000", "512", "4294967296"] {
            let e = InspectOptions::from_json(&format!(r#"{{"max_window_bytes": {bad}}}"#)).unwrap_err();
            assert!(e.contains("power of two"), "{bad}: {e}");
        }
    }
}
