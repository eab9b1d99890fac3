//! cis490-core: decodes one episode `.tar.zst` into typed columns and the
//! inspection report specified in `docs/inspection.md`. No Node knowledge here.

pub mod archive;
pub mod features;
pub mod inspect;
pub mod json;
pub mod jsonl;
pub mod jstr;
pub mod limits;
pub mod meta;
pub mod minirocket;
pub mod minirocket_head;
pub mod parse;
pub mod report;
pub mod signals;

pub use inspect::{decode_reader, inspect_bytes, inspect_path, inspect_reader};
pub use jstr::JsStr;
pub use limits::InspectOptions;
pub use parse::{DecodedEpisode, Events, Labels, Table};
pub use report::Report;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
