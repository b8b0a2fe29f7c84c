//! Creating a store file in one step, as every other opener sees it (issue 12, item 1): the
//! whole store — schema, GUID, counters, already in WAL mode — is built in memory, written to a
//! file beside the target that has no name yet (`O_TMPFILE`), made durable, and only then given
//! the target's name with `linkat`, which fails if the name is taken. So an opener finds no file
//! or a complete store, never a file being laid out; of several creators one links its file and
//! the others find its store; and a crash at any point leaves nothing at the target (an unnamed
//! file vanishes with its process). Where `O_TMPFILE` or `/proc` is missing the file is built
//! under a hidden temporary name and renamed into place without replacing
//! (`renameat2(RENAME_NOREPLACE)`); a crash then can leave that temporary file
//! (`.NAME.PID-N.msgstore-new`), never anything at the target.
//!
//! The system calls std has no safe form of (`linkat` with AT_SYMLINK_FOLLOW, `renameat2` with
//! RENAME_NOREPLACE, `faccessat` with AT_EACCESS) are here and only here outside `src/abi/`
//! (`tests/layers.rs` holds that line).

use super::super::{ErrorKind, StorageError, StorageResult};
use super::schema;
use rusqlite::Connection;
use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// Makes a new store at `path` unless a file is already there. Returns whether this call made
/// it; either way the caller then opens what is at `path` like any opener.
pub(super) fn create_store_file(path: &Path) -> StorageResult<bool> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let created = match create_unnamed(&dir, path)? {
        Some(created) => created,
        None => create_named(&dir, path)?,
    };
    if created {
        // The new name is durable only once the directory is.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
    }
    Ok(created)
}

/// The bytes of a new, empty store: laid out in memory by `schema::create`, with the header
/// marked for WAL (bytes 18 and 19, the file format's read and write versions, are 2 in WAL
/// mode), so no opener ever switches journal modes on it.
fn store_image(home: u64) -> StorageResult<Vec<u8>> {
    let mut conn = Connection::open_in_memory()?;
    schema::create(&conn, home)?;
    let mut bytes = conn.serialize(rusqlite::MAIN_DB)?.to_vec();
    if bytes.len() < 100 || &bytes[..16] != super::SQLITE_MAGIC {
        return Err(StorageError::new(
            ErrorKind::Io,
            "SQLite produced no database image",
        ));
    }
    bytes[18] = 2;
    bytes[19] = 2;
    Ok(bytes)
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> StorageError {
    let kind = match e.kind() {
        std::io::ErrorKind::NotFound => ErrorKind::NotFound,
        std::io::ErrorKind::PermissionDenied => ErrorKind::ReadOnly,
        _ if e.raw_os_error() == Some(libc::EROFS) => ErrorKind::ReadOnly,
        _ if e.raw_os_error() == Some(libc::ENOSPC) => ErrorKind::Full,
        _ => ErrorKind::Io,
    };
    StorageError::new(
        kind,
        format!("cannot create {}: {what}: {e}", path.display()),
    )
}

fn c_path(path: &Path) -> StorageResult<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        StorageError::new(
            ErrorKind::NotFound,
            format!("{} has a NUL byte", path.display()),
        )
    })
}

/// Whether this process may create files in `dir` (its effective IDs; false on a read-only
/// file system too).
pub(super) fn writable_dir(dir: &Path) -> bool {
    let Ok(c) = c_path(dir) else {
        return false;
    };
    // SAFETY: a NUL-terminated path that lives across the call.
    unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::W_OK, libc::AT_EACCESS) == 0 }
}

/// Writes the store into `file` (whose inode becomes its home) and makes it durable.
fn fill(file: &mut File, path: &Path) -> StorageResult<()> {
    let ino = file
        .metadata()
        .map_err(|e| io_error("reading the new file's inode", path, e))?
        .ino();
    let image = store_image(ino)?;
    file.write_all(&image)
        .and_then(|_| file.sync_all())
        .map_err(|e| io_error("writing the new store", path, e))
}

/// The `O_TMPFILE` way; None when the system or file system does not offer it.
fn create_unnamed(dir: &Path, path: &Path) -> StorageResult<Option<bool>> {
    let mut file = match OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE)
        .open(dir)
    {
        Ok(f) => f,
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EOPNOTSUPP) | Some(libc::EISDIR) | Some(libc::EINVAL)
            ) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(io_error("a new file in its directory", path, e)),
    };
    fill(&mut file, path)?;
    let from = CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .expect("a path without NUL bytes");
    let to = c_path(path)?;
    // SAFETY: both are NUL-terminated paths that live across the call.
    let r = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if r == 0 {
        return Ok(Some(true));
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EEXIST) => Ok(Some(false)),
        // No /proc: build it under a temporary name instead.
        Some(libc::ENOENT) if Path::new(dir).exists() => Ok(None),
        _ => Err(io_error("giving it its name", path, e)),
    }
}

/// The portable way: a hidden temporary name, renamed into place without replacing.
fn create_named(dir: &Path, path: &Path) -> StorageResult<bool> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(
        ".{name}.{}-{}.msgstore-new",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)
        .map_err(|e| io_error("a temporary file in its directory", path, e))?;
    let result = fill(&mut file, path).and_then(|_| {
        drop(file);
        rename_no_replace(&temp, path)
    });
    // Gone after the rename; after a failure, ours to remove.
    let _ = std::fs::remove_file(&temp);
    result
}

/// Renames `from` to `to` unless `to` exists (false then).
fn rename_no_replace(from: &Path, to: &Path) -> StorageResult<bool> {
    let (f, t) = (c_path(from)?, c_path(to)?);
    // SAFETY: NUL-terminated paths that live across the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            f.as_ptr(),
            libc::AT_FDCWD,
            t.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if r == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EEXIST) => Ok(false),
        // A kernel or file system without renameat2: a hard link also fails if the name is
        // taken (the file has two names for an instant; the temporary one is removed next).
        Some(libc::ENOSYS) | Some(libc::EINVAL) => match std::fs::hard_link(from, to) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io_error("giving it its name", to, e)),
        },
        _ => Err(io_error("giving it its name", to, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("msgstore-create-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Both ways of creating (the unnamed file where there is one, and the temporary name used
    /// where there is not) make a whole store, refuse to replace an existing name, and leave
    /// nothing else in the directory.
    #[test]
    fn both_ways_create_once_and_leave_nothing_else() {
        for (way, unnamed) in [("unnamed", true), ("named", false)] {
            let dir = temp_dir(way);
            let path = dir.join("new.db");
            let create = || {
                if unnamed {
                    create_unnamed(&dir, &path)
                        .unwrap()
                        .expect("O_TMPFILE on the test's fs")
                } else {
                    create_named(&dir, &path).unwrap()
                }
            };
            assert!(create(), "{way}: the first creation makes the file");
            let before = std::fs::read(&path).unwrap();
            assert!(!create(), "{way}: a second one finds the name taken");
            assert_eq!(std::fs::read(&path).unwrap(), before, "{way}: not replaced");
            let names: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(names, vec![std::ffi::OsString::from("new.db")], "{way}");
            assert_eq!(&before[18..20], &[2, 2], "{way}: WAL from the start");
            let conn = Connection::open(&path).unwrap();
            let home: i64 = conn
                .query_row("SELECT value FROM meta WHERE key = 'home'", [], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(
                home as u64,
                std::fs::metadata(&path).unwrap().ino(),
                "{way}"
            );
            drop(conn);
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}
