//! The constants C sees are defined once, in `core::mapidefs` (numbers only, shared by every layer).
pub use crate::core::mapidefs::*;
