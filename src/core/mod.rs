//! Safe Rust: the MAPI vocabulary, property values and objects, the store model and the save
//! rules. No raw pointers here (DESIGN.md §3).

pub mod error;
pub mod mapidefs;
pub mod propdata;
pub mod props;
pub mod value;
