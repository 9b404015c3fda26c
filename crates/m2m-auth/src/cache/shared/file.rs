//! The file backend, for the CLI and cron jobs on one host: one file per entry in a directory made 0700,
//! files 0600, each written to a temporary file, fsynced and renamed into place, so a reader sees a whole
//! entry or the previous one. The lock is an advisory `flock` on a file beside the entry: the kernel drops it
//! when its holder exits, however it exits, so it needs no TTL.

use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Read as _, Write as _};
use std::os::unix::fs::{
    DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _,
};
use std::path::{Path, PathBuf};

use super::store::{LockOwner, StoreError};

/// `O_NOFOLLOW`: no entry, temporary or lock file is ever opened through a link.
const NOFOLLOW: i32 = rustix::fs::OFlags::NOFOLLOW.bits() as i32;

#[derive(Debug, Clone)]
pub(crate) struct FileStore {
    dir: PathBuf,
    /// The longest a caller waits for one operation (a hung network file system).
    pub timeout: std::time::Duration,
}

fn failed(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError(format!("cache file {}: {what}: {e}", path.display()))
}

/// A name as a file name: letters, digits, `.`, `-` and `_` stay, anything else becomes `_`.
fn file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl FileStore {
    pub fn new(dir: PathBuf, timeout: std::time::Duration) -> Self {
        Self { dir, timeout }
    }

    fn path(&self, name: &str, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}{suffix}", file_name(name)))
    }

    /// The directory: made 0700 when it is new; an existing one must be this user's and private (no access
    /// for group or others), or it is not used — it is never changed, and tokens never land where others can
    /// read them or plant links.
    fn ensure_dir(&self) -> Result<(), StoreError> {
        if let Err(e) = DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
        {
            return Err(failed("cannot create the directory", &self.dir, e));
        }
        let meta =
            fs::symlink_metadata(&self.dir).map_err(|e| failed("cannot read", &self.dir, e))?;
        let me = rustix::process::geteuid().as_raw();
        let mode = meta.permissions().mode() & 0o777;
        if !meta.is_dir() || meta.uid() != me || mode & 0o077 != 0 {
            return Err(StoreError(format!(
                "cache directory {} is not a private directory of this user (a {}, mode {mode:o}, owner {}); \
                 use one only this user can read, or let m2m-auth create it",
                self.dir.display(),
                if meta.is_dir() {
                    "directory"
                } else {
                    "link or file"
                },
                meta.uid()
            )));
        }
        Ok(())
    }

    pub fn read(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match fs::symlink_metadata(&self.dir) {
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            _ => self.ensure_dir()?,
        }
        let path = self.path(name, ".token");
        let opened = OpenOptions::new()
            .read(true)
            .custom_flags(NOFOLLOW)
            .open(&path);
        let mut file = match opened {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(failed("cannot read", &path, e)),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| failed("cannot read", &path, e))?;
        Ok(Some(bytes))
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.ensure_dir()?;
        let path = self.path(name, ".token");
        let temp = self.path(
            name,
            &format!(".{}.{}.tmp", std::process::id(), LockOwner::new().as_str()),
        );
        let written = (|| {
            // A new file of its own (O_EXCL), never through a link.
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(NOFOLLOW)
                .open(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&temp, &path)?;
            // The rename itself is made durable by syncing the directory.
            File::open(&self.dir)?.sync_all()
        })();
        written.map_err(|e| {
            let _ = fs::remove_file(&temp);
            failed("cannot write", &path, e)
        })
    }

    /// The lock of `name`, if no other process holds it: an open file with an exclusive `flock`, released
    /// when it is dropped.
    pub fn try_lock(&self, name: &str) -> Result<Option<File>, StoreError> {
        self.ensure_dir()?;
        let path = self.path(name, ".lock");
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(NOFOLLOW)
            .open(&path)
            .map_err(|e| failed("cannot open the lock", &path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(failed("cannot lock", &path, e)),
        }
    }
}
