//! Conflict resolution (DESIGN.md §5): what a resolver is shown and what it may decide. The
//! store holds the registered resolver as a [`ConflictResolver`]; the C boundary implements it
//! around the client's COM object (converting its ULONG action into a [`Decision`]), Rust tests
//! implement it directly. The save driver (`message/mod.rs`) consults it on every SaveChanges
//! path, with no lock held, and applies the decision by compare-and-swap.

use super::error::MapiResult;
use super::message::Message;

/// What a client registered to decide conflicts.
pub trait ConflictResolver: Send + Sync {
    /// Decides `conflict` for `saving`, the message whose SaveChanges met it. Called on the
    /// saving thread with no store lock held; it may call back into the store.
    fn resolve(&self, saving: &Message, conflict: Conflict) -> MapiResult<Decision>;
}

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

/// The resolver's answer (the MSGSTORE_RESOLVE_* actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing written; SaveChanges returns MAPI_E_OBJECT_CHANGED.
    KeepOriginal,
    /// As FORCE_SAVE, against the version the resolver was shown.
    Overwrite,
    /// This client's whole view as a new message in this folder (None: "Conflicts").
    SaveElsewhere { dest_folder: Option<u64> },
    /// The stored version plus this client's changes.
    Merge,
    /// An action this provider does not know: nothing written.
    Unknown(u32),
}
