//! What streams on a message, an attachment or an embedded message reach their object through
//! (core/stream.rs): the object's working copy, held weakly, so that a stream outliving its
//! object's last client reference fails with MAPI_E_INVALID_OBJECT rather than writing where no
//! save can follow.

use super::super::error::MapiResult;
use super::super::props::PropObject;
use super::super::store::Store;
use super::super::stream::StreamOwner;
use super::super::value::LargeRef;
use super::attach::{AttachState, EmbeddedState, Host};
use super::working::State;
use super::{Attachment, EmbeddedMessage, Message};
use parking_lot::Mutex;
use std::sync::{Arc, Weak};

pub(super) struct MessageStreams {
    pub(super) store: Arc<Store>,
    pub(super) state: Weak<Mutex<State>>,
}

impl StreamOwner for MessageStreams {
    fn object(&self) -> Option<Box<dyn PropObject>> {
        Some(Box::new(Message {
            store: self.store.clone(),
            state: self.state.upgrade()?,
        }))
    }
    fn max_value_bytes(&self) -> u64 {
        self.store.storage().max_value_bytes()
    }
    fn read_large(&self, at: &LargeRef, offset: u64, buf: &mut [u8]) -> MapiResult<usize> {
        self.store.read_large(at, offset, buf)
    }
}

pub(super) struct AttachStreams {
    pub(super) store: Arc<Store>,
    pub(super) host: Weak<dyn Host>,
    pub(super) state: Weak<Mutex<AttachState>>,
}

impl StreamOwner for AttachStreams {
    fn object(&self) -> Option<Box<dyn PropObject>> {
        Some(Box::new(Attachment {
            store: self.store.clone(),
            host: self.host.clone(),
            state: self.state.upgrade()?,
        }))
    }
    fn max_value_bytes(&self) -> u64 {
        self.store.storage().max_value_bytes()
    }
    fn read_large(&self, at: &LargeRef, offset: u64, buf: &mut [u8]) -> MapiResult<usize> {
        self.store.read_large(at, offset, buf)
    }
}

pub(super) struct EmbeddedStreams {
    pub(super) store: Arc<Store>,
    pub(super) attach: Weak<Mutex<AttachState>>,
    pub(super) state: Weak<Mutex<EmbeddedState>>,
}

impl StreamOwner for EmbeddedStreams {
    fn object(&self) -> Option<Box<dyn PropObject>> {
        Some(Box::new(EmbeddedMessage {
            store: self.store.clone(),
            attach: self.attach.clone(),
            state: self.state.upgrade()?,
        }))
    }
    fn max_value_bytes(&self) -> u64 {
        self.store.storage().max_value_bytes()
    }
    fn read_large(&self, at: &LargeRef, offset: u64, buf: &mut [u8]) -> MapiResult<usize> {
        self.store.read_large(at, offset, buf)
    }
}
