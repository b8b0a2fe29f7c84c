//! Safe Rust: the MAPI vocabulary, property values and objects, the store model and the save
//! rules. No raw pointers here (DESIGN.md §3).

pub mod contents;
pub mod copy;
pub mod error;
pub mod file_stream;
pub mod folder;
pub mod ids;
pub mod mapidefs;
pub mod message;
pub mod named;
pub mod notify;
pub mod propdata;
pub mod propmap;
pub mod props;
pub mod proputil;
pub mod resolve;
pub mod store;
pub mod stream;
pub mod table;
pub mod value;
