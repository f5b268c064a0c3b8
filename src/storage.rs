//! Content-addressed file storage under `storage.dir`: `ab/cd/abcdef…` by SHA-256. An upload
//! is written to a temporary file, synced, then renamed into place before the database row
//! that names it is committed, so no row ever points at a missing file. No name from a
//! request ever becomes a path.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub struct Store {
    root: PathBuf,
}

/// A file being received: bytes go to disk as they arrive, hashed on the way.
pub struct Incoming {
    path: PathBuf,
    file: std::fs::File,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
}

impl Incoming {
    pub fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        if self.head.len() < crate::domain::media::SNIFF_LEN {
            let take = (crate::domain::media::SNIFF_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        self.file.write_all(chunk)
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn head(&self) -> &[u8] {
        &self.head
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        // Still here means it was not kept (refused, or the request died).
        let _ = std::fs::remove_file(&self.path);
    }
}

pub struct Stored {
    pub sha256: String,
    pub size: u64,
}

fn valid_sha(sha: &str) -> bool {
    sha.len() == 64
        && sha
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl Store {
    pub fn new(root: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(Store {
            root: root.to_owned(),
        })
    }

    pub fn begin(&self) -> std::io::Result<Incoming> {
        let path = self
            .root
            .join("tmp")
            .join(uuid::Uuid::new_v4().simple().to_string());
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(Incoming {
            path,
            file,
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
        })
    }

    /// The path of a stored file; `None` for anything that is not a SHA-256 in hex.
    pub fn path_of(&self, sha: &str) -> Option<PathBuf> {
        valid_sha(sha).then(|| self.root.join(&sha[..2]).join(&sha[2..4]).join(sha))
    }

    /// Syncs the upload and moves it to its content address (durable before it is named).
    pub fn finish(&self, mut incoming: Incoming) -> std::io::Result<Stored> {
        incoming.file.flush()?;
        incoming.file.sync_all()?;
        let sha: String = std::mem::take(&mut incoming.hasher)
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let target = self
            .path_of(&sha)
            .ok_or_else(|| std::io::Error::other("hash"))?;
        let dir = target
            .parent()
            .ok_or_else(|| std::io::Error::other("path"))?;
        std::fs::create_dir_all(dir)?;
        if target.exists() {
            // Same bytes already stored: the temporary copy goes (Drop removes it).
        } else {
            std::fs::rename(&incoming.path, &target)?;
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(Stored {
            sha256: sha,
            size: incoming.size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_stored_by_their_hash_and_temp_files_do_not_stay() {
        let dir =
            std::env::temp_dir().join(format!("motcua-store-{}", uuid::Uuid::new_v4().simple()));
        let store = Store::new(&dir).unwrap();
        let mut a = store.begin().unwrap();
        a.write(b"%PDF-1.4 hello").unwrap();
        let stored = store.finish(a).unwrap();
        let path = store.path_of(&stored.sha256).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"%PDF-1.4 hello");
        let refused = store.begin().unwrap();
        drop(refused);
        assert_eq!(std::fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
        assert!(store.path_of("../../etc/passwd").is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
