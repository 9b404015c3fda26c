//! The file backend, for the CLI and cron jobs on one host: one file per entry in a directory made 0700,
//! files 0600, each written to a temporary file, fsynced and renamed into place, so a reader sees a whole
//! entry or the previous one. The lock is an advisory `flock` on a file beside the entry: the kernel drops it
//! when its holder exits, however it exits, so it needs no TTL.

use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use super::store::StoreError;

#[derive(Debug, Clone)]
pub(crate) struct FileStore {
    dir: PathBuf,
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
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn path(&self, name: &str, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}{suffix}", file_name(name)))
    }

    /// The directory, made 0700 if it is new; an existing one is narrowed to 0700 when it is wider.
    fn ensure_dir(&self) -> Result<(), StoreError> {
        match DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
        {
            Ok(()) => {}
            Err(e) => return Err(failed("cannot create the directory", &self.dir, e)),
        }
        let meta = fs::metadata(&self.dir).map_err(|e| failed("cannot read", &self.dir, e))?;
        if meta.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| failed("cannot make the directory private (0700)", &self.dir, e))?;
        }
        Ok(())
    }

    pub fn read(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.path(name, ".token");
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(failed("cannot read", &path, e)),
        }
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.ensure_dir()?;
        let path = self.path(name, ".token");
        let temp = self.path(name, &format!(".{}.tmp", std::process::id()));
        let written = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
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
            .open(&path)
            .map_err(|e| failed("cannot open the lock", &path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(failed("cannot lock", &path, e)),
        }
    }
}
