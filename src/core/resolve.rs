//! Conflict resolution (DESIGN.md §5): what a resolver is shown and what it may decide. The
//! resolver itself is a client COM object, so the C boundary calls it; the save loop in
//! `message.rs` hands it a [`Conflict`] and applies the [`Decision`] by compare-and-swap.

use super::message::Message;
use std::any::Any;

/// The registered resolver as the store keeps it: opaque here, owned by the C boundary (which
/// releases the client's object when this is dropped).
pub type ConflictResolver = dyn Any + Send + Sync;

/// What the resolver is asked to decide.
pub struct Conflict {
    /// The stored message is gone (MSGCONFLICT_DELETED).
    pub deleted: bool,
    /// The message in conflict.
    pub entry_id: Vec<u8>,
    /// Tags changed or deleted in the store since this client opened the message.
    pub their_changes: Vec<u32>,
    /// Tags this client changed or deleted.
    pub my_changes: Vec<u32>,
    /// A read-only message on the stored version (None if deleted).
    pub stored: Option<Message>,
}

/// The resolver's answer: one of the MSGSTORE_RESOLVE_* actions (anything else is unknown and
/// writes nothing), and for SAVE_ELSEWHERE the destination folder (None: "Conflicts").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub action: u32,
    pub dest_folder: Option<u64>,
}

/// How the saving client asks its resolver (the C boundary builds this closure around the
/// client's COM objects). It is called with no lock of the store held.
pub type Ask<'a> = &'a dyn Fn(Conflict) -> super::error::MapiResult<Decision>;
