//! meta.json: one JSON document, read leniently (wrong types become null).

use crate::json::{Key, Scanner, Val, R};
use crate::jstr::JsStr;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meta {
    pub schema_version: Option<f64>,
    pub episode_id: Option<JsStr>,
    pub host_id: Option<JsStr>,
    pub started_at: Option<JsStr>,
    pub sample_present: bool,
    pub sample_name: Option<JsStr>,
    pub sample_kind: Option<JsStr>,
    pub profile: Option<JsStr>,
    pub module_name: Option<JsStr>,
    pub duration_observed_s: Option<f64>,
    pub outcome: Option<JsStr>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MetaResult {
    Ok(Box<Meta>),
    /// Not UTF-8, not JSON, or not an object.
    Invalid,
    /// Valid JSON nested deeper than max_depth.
    TooDeep,
}

fn opt_str(sc: &mut Scanner<'_, '_>, d: u32, buf: &mut Vec<u8>) -> R<Option<JsStr>> {
    Ok(match sc.str_or_null(d, buf)? {
        Val::Some(()) => Some(JsStr(buf.clone())),
        _ => None,
    })
}

fn opt_num(sc: &mut Scanner<'_, '_>, d: u32) -> R<Option<f64>> {
    Ok(match sc.f64_or_null(d)? {
        Val::Some(x) => Some(x),
        _ => None,
    })
}

/// Walks `{...}` with `f`, or skips any other value (reported as false).
fn maybe_object<'a>(sc: &mut Scanner<'a, '_>, f: impl FnMut(&mut Scanner<'a, '_>, Key<'a>) -> R<()>) -> R<bool> {
    if sc.peek() == b'{' {
        sc.object(1, f)?;
        Ok(true)
    } else {
        sc.skip_value(1)?;
        Ok(false)
    }
}

pub fn parse_meta(data: &[u8], max_depth: u32) -> MetaResult {
    if std::str::from_utf8(data).is_err() {
        return MetaResult::Invalid;
    }
    let mut stack = Vec::new();
    let mut buf = Vec::new();
    let mut sc = Scanner::new(data, max_depth, &mut stack);
    sc.ws();
    if sc.peek() != b'{' {
        let ok = sc.skip_value(0).is_ok() && sc.at_end();
        return if ok && sc.too_deep { MetaResult::TooDeep } else { MetaResult::Invalid };
    }
    let mut m = Meta::default();
    let r = sc.object(0, |sc, k| {
        match &*k.name() {
            b"schema_version" => m.schema_version = opt_num(sc, 1)?,
            b"episode_id" => m.episode_id = opt_str(sc, 1, &mut buf)?,
            b"host_id" => m.host_id = opt_str(sc, 1, &mut buf)?,
            b"started_at" => m.started_at = opt_str(sc, 1, &mut buf)?,
            b"sample" => {
                // Last duplicate wins entirely, as with JSON.parse.
                m.sample_name = None;
                m.sample_kind = None;
                m.profile = None;
                m.sample_present = maybe_object(sc, |sc, k| {
                    match &*k.name() {
                        b"name" => m.sample_name = opt_str(sc, 2, &mut buf)?,
                        b"kind" => m.sample_kind = opt_str(sc, 2, &mut buf)?,
                        b"profile" => m.profile = opt_str(sc, 2, &mut buf)?,
                        _ => sc.skip_value(2)?,
                    }
                    Ok(())
                })?;
            }
            b"exploit" => {
                m.module_name = None;
                maybe_object(sc, |sc, k| {
                    match &*k.name() {
                        b"module_name" => m.module_name = opt_str(sc, 2, &mut buf)?,
                        _ => sc.skip_value(2)?,
                    }
                    Ok(())
                })?;
            }
            b"result" => {
                m.duration_observed_s = None;
                m.outcome = None;
                maybe_object(sc, |sc, k| {
                    match &*k.name() {
                        b"duration_observed_s" => m.duration_observed_s = opt_num(sc, 2)?,
                        b"outcome" => m.outcome = opt_str(sc, 2, &mut buf)?,
                        _ => sc.skip_value(2)?,
                    }
                    Ok(())
                })?;
            }
            _ => sc.skip_value(1)?,
        }
        Ok(())
    });
    if r.is_err() || !sc.at_end() {
        return MetaResult::Invalid;
    }
    if sc.too_deep {
        return MetaResult::TooDeep;
    }
    MetaResult::Ok(Box::new(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_leniently() {
        let doc = br#"{"schema_version": 1, "episode_id": "ep-1", "host_id": 7, "sample": {"name": "x", "profile": 3},
            "exploit": null, "result": {"duration_observed_s": 52.4, "outcome": "completed"}, "sample": {"name": "y"}}"#;
        let MetaResult::Ok(m) = parse_meta(doc, 64) else { panic!() };
        assert_eq!(m.schema_version, Some(1.0));
        assert!(m.episode_id.unwrap().eq_str("ep-1"));
        assert_eq!(m.host_id, None);
        assert!(m.sample_present);
        assert!(m.sample_name.unwrap().eq_str("y"));
        assert_eq!(m.profile, None);
        assert_eq!(m.module_name, None);
        assert_eq!(m.duration_observed_s, Some(52.4));
    }

    #[test]
    fn invalid_and_deep() {
        assert_eq!(parse_meta(b"[1]", 64), MetaResult::Invalid);
        assert_eq!(parse_meta(b"{\"a\":", 64), MetaResult::Invalid);
        assert_eq!(parse_meta(b"\xff{}", 64), MetaResult::Invalid);
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse_meta(deep.as_bytes(), 64), MetaResult::TooDeep);
        let MetaResult::Ok(m) = parse_meta(br#"{"sample": []}"#, 64) else { panic!() };
        assert!(!m.sample_present);
    }
}
