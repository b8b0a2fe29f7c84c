//! msgstore: a MAPI-shaped message store provider with a COM-style C ABI. Module map only; the
//! layers are `abi` (the C boundary) → `core` (safe rules and model) → `storage` (SQLite).

pub mod abi;
pub mod core;
/// cbindgen:ignore
pub mod storage;
