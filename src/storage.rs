//! Content-addressed file storage under `storage.dir`: `ab/cd/abcdef…` by SHA-256. An upload
//! is written to a temporary file, synced, then renamed into place before the database row
//! that names it is committed, so no row ever points at a missing file. A file that no row
//! names (a crash or a failed transaction after the rename) is removed by [`Store::sweep`]
//! once older than a grace period. No name from a request ever becomes a path.

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

    /// The SHA-256 of what was received so far, in hex (checked before the file is kept).
    pub fn sha256(&self) -> String {
        crate::domain::hex(&self.hasher.clone().finalize())
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
    /// Identical bytes already stored are replaced by this fresh copy: its new modification
    /// time keeps [`Store::sweep`] off it until the row that names it is committed.
    pub fn finish(&self, mut incoming: Incoming) -> std::io::Result<Stored> {
        incoming.file.flush()?;
        incoming.file.sync_all()?;
        let sha = crate::domain::hex(&std::mem::take(&mut incoming.hasher).finalize());
        let target = self
            .path_of(&sha)
            .ok_or_else(|| std::io::Error::other("hash"))?;
        let dir = target
            .parent()
            .ok_or_else(|| std::io::Error::other("path"))?;
        std::fs::create_dir_all(dir)?;
        std::fs::rename(&incoming.path, &target)?;
        std::fs::File::open(dir)?.sync_all()?;
        Ok(Stored {
            sha256: sha,
            size: incoming.size,
        })
    }

    /// Removes what no row will ever name: temporary files and stored files older than
    /// `grace` for which `is_named(sha256)` says no. A stored file is first moved aside, then
    /// its age is looked at again: an upload of the same bytes that landed meanwhile is a fresh
    /// copy and goes back in place.
    pub fn sweep(
        &self,
        grace: std::time::Duration,
        mut is_named: impl FnMut(&str) -> std::io::Result<bool>,
    ) -> std::io::Result<SweepReport> {
        let now = std::time::SystemTime::now();
        let old = |meta: &std::fs::Metadata| {
            meta.modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|age| age >= grace)
        };
        let mut report = SweepReport::default();
        for entry in std::fs::read_dir(self.root.join("tmp"))? {
            let entry = entry?;
            if entry.file_type()?.is_file() && old(&entry.metadata()?) {
                std::fs::remove_file(entry.path())?;
                report.temporary += 1;
            }
        }
        let trash = self.root.join("sweep");
        for a in read_dirs(&self.root)? {
            for b in read_dirs(&a)? {
                for entry in std::fs::read_dir(&b)? {
                    let entry = entry?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if !valid_sha(&name) || !old(&entry.metadata()?) {
                        continue;
                    }
                    if is_named(&name)? {
                        report.kept += 1;
                        continue;
                    }
                    std::fs::create_dir_all(&trash)?;
                    let aside = trash.join(&name);
                    std::fs::rename(entry.path(), &aside)?;
                    if old(&std::fs::metadata(&aside)?) && !is_named(&name)? {
                        std::fs::remove_file(&aside)?;
                        report.orphans += 1;
                    } else {
                        std::fs::rename(&aside, entry.path())?;
                        report.kept += 1;
                    }
                }
            }
        }
        Ok(report)
    }
}

/// What a sweep removed and kept.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// Stored files no row names.
    pub orphans: usize,
    /// Temporary files of uploads that never finished.
    pub temporary: usize,
    /// Stored files old enough to look at that a row names.
    pub kept: usize,
}

/// The two-hex-digit fan-out folders under `dir`.
fn read_dirs(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if entry.file_type()?.is_dir()
            && name.len() == 2
            && name.bytes().all(|b| b.is_ascii_hexdigit())
        {
            out.push(entry.path());
        }
    }
    Ok(out)
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

    fn store_of(bytes: &[u8], store: &Store) -> String {
        let mut a = store.begin().unwrap();
        a.write(bytes).unwrap();
        store.finish(a).unwrap().sha256
    }

    #[test]
    fn the_sweep_removes_old_unnamed_files_only() {
        use std::time::{Duration, SystemTime};
        let dir =
            std::env::temp_dir().join(format!("motcua-sweep-{}", uuid::Uuid::new_v4().simple()));
        let store = Store::new(&dir).unwrap();
        let named = store_of(b"%PDF named", &store);
        let orphan = store_of(b"%PDF orphan", &store);
        let young = store_of(b"%PDF young orphan", &store);
        let stale_tmp = store.begin().unwrap();
        std::mem::forget(stale_tmp); // as if the process had died mid-upload
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        let age = |p: &Path| {
            std::fs::File::options()
                .write(true)
                .open(p)
                .unwrap()
                .set_modified(hour_ago)
                .unwrap()
        };
        for sha in [&named, &orphan] {
            age(&store.path_of(sha).unwrap());
        }
        for e in std::fs::read_dir(dir.join("tmp")).unwrap() {
            age(&e.unwrap().path());
        }
        let grace = Duration::from_secs(600);
        let report = store.sweep(grace, |sha| Ok(sha == named)).unwrap();
        assert_eq!(
            report,
            SweepReport {
                orphans: 1,
                temporary: 1,
                kept: 1
            }
        );
        assert!(store.path_of(&named).unwrap().exists());
        assert!(!store.path_of(&orphan).unwrap().exists());
        assert!(
            store.path_of(&young).unwrap().exists(),
            "within the grace period"
        );
        assert_eq!(std::fs::read_dir(dir.join("tmp")).unwrap().count(), 0);

        // An old orphan uploaded again is a fresh copy: the sweep leaves it.
        let again = store_of(b"%PDF named", &store);
        assert_eq!(again, named);
        let report = store.sweep(grace, |_| Ok(false)).unwrap();
        assert_eq!(report.orphans, 0);
        assert!(store.path_of(&named).unwrap().exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
