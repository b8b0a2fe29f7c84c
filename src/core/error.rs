//! The one error type of the safe layers: an HRESULT plus the text `GetLastError` will return.

use super::mapidefs::*;
use std::ffi::CStr;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapiError {
    pub code: i32,
    pub message: String,
}

pub type MapiResult<T> = Result<T, MapiError>;

impl MapiError {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        MapiError {
            code,
            message: message.into(),
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(MAPI_E_INVALID_PARAMETER, message)
    }
    pub fn no_access(message: impl Into<String>) -> Self {
        Self::new(MAPI_E_NO_ACCESS, message)
    }
    pub fn unknown_flags(method: &str, flags: u32, allowed: u32) -> Self {
        Self::new(
            MAPI_E_UNKNOWN_FLAGS,
            format!(
                "{method}: unknown flag bits 0x{:08X} (accepted: 0x{allowed:08X})",
                flags & !allowed
            ),
        )
    }
    pub fn no_support(method: &str) -> Self {
        Self::new(
            MAPI_E_NO_SUPPORT,
            format!("{method} is not supported by this provider"),
        )
    }
}

impl fmt::Display for MapiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            error_name(self.code),
            hex(self.code),
            self.message
        )
    }
}

/// Rejects any flag bit outside `allowed` with MAPI_E_UNKNOWN_FLAGS.
pub fn check_flags(method: &str, flags: u32, allowed: u32) -> MapiResult<()> {
    if flags & !allowed != 0 {
        Err(MapiError::unknown_flags(method, flags, allowed))
    } else {
        Ok(())
    }
}

pub fn hex(code: i32) -> String {
    format!("0x{:08X}", code as u32)
}

/// The symbolic name of an HRESULT, for messages and the demo's output.
pub fn error_name_c(code: i32) -> &'static CStr {
    match code {
        S_OK => c"S_OK",
        S_FALSE => c"S_FALSE",
        MAPI_W_ERRORS_RETURNED => c"MAPI_W_ERRORS_RETURNED",
        MAPI_W_PARTIAL_COMPLETION => c"MAPI_W_PARTIAL_COMPLETION",
        MAPI_E_CALL_FAILED => c"MAPI_E_CALL_FAILED",
        MAPI_E_NOT_ENOUGH_MEMORY => c"MAPI_E_NOT_ENOUGH_MEMORY",
        MAPI_E_INVALID_PARAMETER => c"MAPI_E_INVALID_PARAMETER",
        MAPI_E_INTERFACE_NOT_SUPPORTED => c"MAPI_E_INTERFACE_NOT_SUPPORTED",
        MAPI_E_NO_ACCESS => c"MAPI_E_NO_ACCESS",
        MAPI_E_NO_SUPPORT => c"MAPI_E_NO_SUPPORT",
        MAPI_E_BAD_CHARWIDTH => c"MAPI_E_BAD_CHARWIDTH",
        MAPI_E_STRING_TOO_LONG => c"MAPI_E_STRING_TOO_LONG",
        MAPI_E_UNKNOWN_FLAGS => c"MAPI_E_UNKNOWN_FLAGS",
        MAPI_E_INVALID_ENTRYID => c"MAPI_E_INVALID_ENTRYID",
        MAPI_E_INVALID_OBJECT => c"MAPI_E_INVALID_OBJECT",
        MAPI_E_OBJECT_CHANGED => c"MAPI_E_OBJECT_CHANGED",
        MAPI_E_OBJECT_DELETED => c"MAPI_E_OBJECT_DELETED",
        MAPI_E_BUSY => c"MAPI_E_BUSY",
        MAPI_E_NOT_ENOUGH_DISK => c"MAPI_E_NOT_ENOUGH_DISK",
        MAPI_E_NOT_ENOUGH_RESOURCES => c"MAPI_E_NOT_ENOUGH_RESOURCES",
        MAPI_E_NOT_FOUND => c"MAPI_E_NOT_FOUND",
        MAPI_E_USER_CANCEL => c"MAPI_E_USER_CANCEL",
        MAPI_E_NETWORK_ERROR => c"MAPI_E_NETWORK_ERROR",
        MAPI_E_EXTENDED_ERROR => c"MAPI_E_EXTENDED_ERROR",
        MAPI_E_UNEXPECTED_ID => c"MAPI_E_UNEXPECTED_ID",
        MAPI_E_UNABLE_TO_COMPLETE => c"MAPI_E_UNABLE_TO_COMPLETE",
        MAPI_E_NOT_IN_QUEUE => c"MAPI_E_NOT_IN_QUEUE",
        MAPI_E_NOT_INITIALIZED => c"MAPI_E_NOT_INITIALIZED",
        MAPI_E_SUBMITTED => c"MAPI_E_SUBMITTED",
        MAPI_E_VERSION => c"MAPI_E_VERSION",
        MAPI_E_DISK_ERROR => c"MAPI_E_DISK_ERROR",
        MAPI_E_TOO_COMPLEX => c"MAPI_E_TOO_COMPLEX",
        MAPI_E_COMPUTED => c"MAPI_E_COMPUTED",
        MAPI_E_CORRUPT_DATA => c"MAPI_E_CORRUPT_DATA",
        MAPI_E_UNKNOWN_ENTRYID => c"MAPI_E_UNKNOWN_ENTRYID",
        MAPI_E_BAD_VALUE => c"MAPI_E_BAD_VALUE",
        MAPI_E_INVALID_TYPE => c"MAPI_E_INVALID_TYPE",
        MAPI_E_TYPE_NO_SUPPORT => c"MAPI_E_TYPE_NO_SUPPORT",
        MAPI_E_UNEXPECTED_TYPE => c"MAPI_E_UNEXPECTED_TYPE",
        MAPI_E_TOO_BIG => c"MAPI_E_TOO_BIG",
        MAPI_E_DECLINE_COPY => c"MAPI_E_DECLINE_COPY",
        MAPI_E_CORRUPT_STORE => c"MAPI_E_CORRUPT_STORE",
        MAPI_E_COLLISION => c"MAPI_E_COLLISION",
        MAPI_E_HAS_FOLDERS => c"MAPI_E_HAS_FOLDERS",
        MAPI_E_HAS_MESSAGES => c"MAPI_E_HAS_MESSAGES",
        MAPI_E_FOLDER_CYCLE => c"MAPI_E_FOLDER_CYCLE",
        MAPI_E_TIMEOUT => c"MAPI_E_TIMEOUT",
        MAPI_E_INVALID_BOOKMARK => c"MAPI_E_INVALID_BOOKMARK",
        MAPI_W_POSITION_CHANGED => c"MAPI_W_POSITION_CHANGED",
        MAPI_W_APPROX_COUNT => c"MAPI_W_APPROX_COUNT",
        MAPI_E_UNABLE_TO_ABORT => c"MAPI_E_UNABLE_TO_ABORT",
        MAPI_E_TABLE_TOO_BIG => c"MAPI_E_TABLE_TOO_BIG",
        MAPI_E_TABLE_EMPTY => c"MAPI_E_TABLE_EMPTY",
        STG_E_INVALIDFUNCTION => c"STG_E_INVALIDFUNCTION",
        STG_E_FILENOTFOUND => c"STG_E_FILENOTFOUND",
        STG_E_ACCESSDENIED => c"STG_E_ACCESSDENIED",
        STG_E_INSUFFICIENTMEMORY => c"STG_E_INSUFFICIENTMEMORY",
        STG_E_INVALIDPOINTER => c"STG_E_INVALIDPOINTER",
        STG_E_MEDIUMFULL => c"STG_E_MEDIUMFULL",
        STG_E_INVALIDFLAG => c"STG_E_INVALIDFLAG",
        STG_E_INVALIDPARAMETER => c"STG_E_INVALIDPARAMETER",
        STG_E_REVERTED => c"STG_E_REVERTED",
        _ => c"unknown HRESULT",
    }
}

/// The symbolic name of an HRESULT as text.
pub fn error_name(code: i32) -> &'static str {
    error_name_c(code).to_str().unwrap_or("unknown HRESULT")
}
