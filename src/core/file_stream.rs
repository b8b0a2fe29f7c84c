//! OpenStreamOnFile (reference §12, §12.1): an IStream over a file, in direct mode (every Write
//! reaches the file at once; Commit and Revert change nothing). Flags are STGM_* plus
//! SOF_UNIQUEFILENAME, which makes `<prefix>HHHH.TMP` (a new file, HHHH four hex digits, the
//! prefix at most 3 characters, "SOF" by default) in the directory named instead of a file.
//! STGM_DELETEONRELEASE removes the file when the last stream on it (clones included) goes.

use super::error::{check_flags, MapiError, MapiResult};
use super::mapidefs::*;
use super::stream::{check_commit_flags, seek_target, stg, write_end, Stream};
use parking_lot::Mutex;
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// The flags OpenStreamOnFile accepts.
const FLAGS: u32 = SOF_UNIQUEFILENAME
    | 0x3
    | STGM_SHARE_EXCLUSIVE
    | STGM_SHARE_DENY_WRITE
    | STGM_SHARE_DENY_READ
    | STGM_SHARE_DENY_NONE
    | STGM_CREATE
    | STGM_DELETEONRELEASE;

/// The open file, shared by a stream and its clones.
struct Shared {
    file: File,
    path: PathBuf,
    delete_on_release: bool,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if self.delete_on_release {
            // Best effort: the file may have been removed or renamed by someone else.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A stream over a file (OpenStreamOnFile).
pub struct FileStream {
    shared: Arc<Shared>,
    writable: bool,
    pos: Mutex<u64>,
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> MapiError {
    let code = match e.kind() {
        ErrorKind::NotFound => MAPI_E_NOT_FOUND,
        ErrorKind::PermissionDenied | ErrorKind::AlreadyExists => MAPI_E_NO_ACCESS,
        _ => MAPI_E_DISK_ERROR,
    };
    MapiError::new(code, format!("{what} {}: {e}", path.display()))
}

/// A name for SOF_UNIQUEFILENAME's next try: four hex digits that differ between processes and
/// between calls.
fn unique_digits(attempt: u32) -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let seed = std::process::id().wrapping_mul(2_654_435_761);
    (seed ^ NEXT.fetch_add(1, Ordering::Relaxed).wrapping_add(attempt)) & 0xFFFF
}

impl FileStream {
    /// OpenStreamOnFile(ulFlags, lpszFileName, lpszPrefix). `name` is the file, or with
    /// SOF_UNIQUEFILENAME the directory (None: the system's temporary directory).
    pub fn open(flags: u32, name: Option<&Path>, prefix: Option<&str>) -> MapiResult<FileStream> {
        check_flags("OpenStreamOnFile", flags, FLAGS)?;
        let access = flags & 0x3;
        if access == 0x3 {
            return Err(MapiError::invalid(
                "OpenStreamOnFile: both STGM_WRITE and STGM_READWRITE",
            ));
        }
        let writable = access != STGM_READ;
        let (file, path) = if flags & SOF_UNIQUEFILENAME != 0 {
            let dir = name.map_or_else(std::env::temp_dir, Path::to_path_buf);
            let prefix: String = prefix.unwrap_or("SOF").chars().take(3).collect();
            let mut made = None;
            for attempt in 0..0x1_0000 {
                let path = dir.join(format!("{prefix}{:04X}.TMP", unique_digits(attempt)));
                match OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(&path)
                {
                    Ok(f) => {
                        made = Some((f, path));
                        break;
                    }
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(io_error("OpenStreamOnFile: cannot create", &path, e)),
                }
            }
            made.ok_or_else(|| {
                MapiError::no_access(format!(
                    "OpenStreamOnFile: every {prefix}HHHH.TMP name in {} is taken",
                    dir.display()
                ))
            })?
        } else {
            let path = Path::to_path_buf(
                name.ok_or_else(|| MapiError::invalid("OpenStreamOnFile: lpszFileName is NULL"))?,
            );
            let create = flags & STGM_CREATE != 0;
            if create && !writable {
                return Err(MapiError::invalid(
                    "OpenStreamOnFile: STGM_CREATE needs STGM_WRITE or STGM_READWRITE",
                ));
            }
            let file = OpenOptions::new()
                .read(true)
                .write(writable)
                .create(create)
                .truncate(create)
                .open(&path)
                .map_err(|e| io_error("OpenStreamOnFile: cannot open", &path, e))?;
            (file, path)
        };
        Ok(FileStream {
            shared: Arc::new(Shared {
                file,
                path,
                delete_on_release: flags & STGM_DELETEONRELEASE != 0,
            }),
            writable,
            pos: Mutex::new(0),
        })
    }

    /// The file's path (SOF_UNIQUEFILENAME's name).
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    fn fault(&self, what: &str, e: std::io::Error) -> MapiError {
        io_error(what, &self.shared.path, e)
    }

    fn check_write(&self, method: &str) -> MapiResult<()> {
        if self.writable {
            Ok(())
        } else {
            Err(stg(
                STG_E_ACCESSDENIED,
                format!("{method}: the file stream was opened with STGM_READ"),
            ))
        }
    }
}

impl Stream for FileStream {
    fn read(&self, buf: &mut [u8]) -> MapiResult<usize> {
        let mut pos = self.pos.lock();
        let mut done = 0;
        while done < buf.len() {
            match self
                .shared
                .file
                .read_at(&mut buf[done..], *pos + done as u64)
            {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.fault("Read: cannot read", e)),
            }
        }
        *pos += done as u64;
        Ok(done)
    }

    fn write(&self, data: &[u8]) -> MapiResult<usize> {
        self.check_write("Write")?;
        let mut pos = self.pos.lock();
        let end = write_end(*pos, data.len())?;
        self.shared
            .file
            .write_all_at(data, *pos)
            .map_err(|e| self.fault("Write: cannot write", e))?;
        *pos = end;
        Ok(data.len())
    }

    fn seek(&self, offset: i64, origin: u32) -> MapiResult<u64> {
        let mut pos = self.pos.lock();
        *pos = seek_target(*pos, offset, origin, || self.size())?;
        Ok(*pos)
    }

    fn set_size(&self, len: u64) -> MapiResult<()> {
        self.check_write("SetSize")?;
        write_end(len, 0)?;
        self.shared
            .file
            .set_len(len)
            .map_err(|e| self.fault("SetSize: cannot resize", e))
    }

    /// Direct mode: the bytes are in the file already.
    fn commit(&self, flags: u32) -> MapiResult<()> {
        check_commit_flags(flags)
    }

    /// Direct mode: nothing to take back.
    fn revert(&self) -> MapiResult<()> {
        Ok(())
    }

    fn size(&self) -> MapiResult<u64> {
        self.shared
            .file
            .metadata()
            .map(|m| m.len())
            .map_err(|e| self.fault("Stat: cannot read the size of", e))
    }

    fn mode(&self) -> u32 {
        if self.writable {
            STGM_READWRITE
        } else {
            STGM_READ
        }
    }

    fn try_clone(&self) -> MapiResult<Box<dyn Stream>> {
        Ok(Box::new(FileStream {
            shared: self.shared.clone(),
            writable: self.writable,
            pos: Mutex::new(*self.pos.lock()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("msgstore-sof-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn unique_files_are_made_and_deleted_on_release() {
        let d = dir();
        let flags = SOF_UNIQUEFILENAME | STGM_READWRITE | STGM_DELETEONRELEASE;
        let s = FileStream::open(flags, Some(d.as_path()), Some("abcd")).unwrap();
        let path = s.path().to_path_buf();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        assert!(
            name.starts_with("abc") && name.ends_with(".TMP") && name.len() == 11,
            "{name}"
        );
        assert_eq!(s.write(b"hello").unwrap(), 5);
        let twin = s.try_clone().unwrap();
        twin.seek(1, STREAM_SEEK_SET).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(twin.read(&mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], b"ello");
        let other = FileStream::open(flags, Some(d.as_path()), None).unwrap();
        assert_ne!(other.path(), path.as_path());
        drop(s);
        assert!(path.exists(), "the clone keeps the file");
        drop(twin);
        assert!(!path.exists());
    }

    #[test]
    fn named_files_follow_stgm() {
        let path = dir().join("named.bin");
        let name = Some(path.as_path());
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            FileStream::open(STGM_READ, name, None).err().unwrap().code,
            MAPI_E_NOT_FOUND
        );
        let w = FileStream::open(STGM_CREATE | STGM_READWRITE, name, None).unwrap();
        w.write(b"abc").unwrap();
        w.set_size(2).unwrap();
        drop(w);
        let r = FileStream::open(STGM_READ, name, None).unwrap();
        assert_eq!(r.size().unwrap(), 2);
        assert_eq!(r.write(b"x").unwrap_err().code, STG_E_ACCESSDENIED);
        assert_eq!(
            r.seek(-1, STREAM_SEEK_SET).unwrap_err().code,
            STG_E_INVALIDFUNCTION
        );
        assert_eq!(
            FileStream::open(0x100, name, None).err().unwrap().code,
            MAPI_E_UNKNOWN_FLAGS
        );
        assert_eq!(
            FileStream::open(STGM_READ, None, None).err().unwrap().code,
            MAPI_E_INVALID_PARAMETER
        );
        std::fs::remove_file(&path).unwrap();
    }
}
