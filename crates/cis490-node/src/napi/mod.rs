//! A minimal hand-written Node-API binding layer (no napi-rs): `sys` holds
//! the declarations, `value` the conversions and the panic guard, `task`
//! the promise scaffolding. Binding modules `use crate::napi::*`.

mod sys;
mod task;
mod value;

pub use sys::*;
pub use task::*;
pub use value::*;
