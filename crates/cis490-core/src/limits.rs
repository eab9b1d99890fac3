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
            with_columns: false,
        }
    }
}

impl InspectOptions {
    /// Parses the snake_case JSON the TypeScript side sends; missing fields
    /// take their defaults, unknown fields are an error (a typo must not
    /// silently fall back to a default limit).
    pub fn from_json(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_json::from_str(text).map_err(|e| format!("invalid inspect options: {e}"))
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
    }
}
