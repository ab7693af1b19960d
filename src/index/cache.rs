//! On-disk cache of parsed files, so a warm start re-parses nothing.
//!
//! Layout: magic, format version (u32 LE), schema hash (32 bytes), payload
//! checksum (32 bytes), postcard payload. Anything unexpected means "start
//! over": the cache is an optimisation and never worth failing a build for.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::IndexError;
use super::lang::Lang;
use super::tags::FileTags;

const MAGIC: &[u8; 8] = b"TNDMIDX\0";
/// Bump when `FileEntry` or `FileTags` change shape.
pub const FORMAT_VERSION: u32 = 2;
const HEADER_LEN: usize = MAGIC.len() + 4 + 32 + 32;

/// One indexed file, as kept in memory and on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileEntry {
    pub size: u64,
    pub mtime_ns: u64,
    pub hash: [u8; 32],
    pub tags: FileTags,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    entries: Vec<(String, FileEntry)>,
}

/// Changes whenever a tag query changes, since old tags would then be wrong. Every
/// language counts, compiled in or not, so adding one also discards older caches.
fn schema_hash() -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    for lang in Lang::ALL {
        h.update(lang.name().as_bytes());
        h.update(lang.query_source().as_bytes());
    }
    *h.finalize().as_bytes()
}

/// Loads a cache file. A missing file is an empty cache; a bad one is an empty cache plus a warning.
pub fn load(path: &Path) -> (BTreeMap<PathBuf, FileEntry>, Option<String>) {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (BTreeMap::new(), None),
        Err(e) => {
            return (BTreeMap::new(), Some(format!("index cache {} unreadable, rebuilding: {e}", path.display())));
        }
    };
    match decode(&bytes) {
        Ok(entries) => (entries, None),
        Err(why) => (BTreeMap::new(), Some(format!("index cache {} discarded ({why}), rebuilding", path.display()))),
    }
}

fn decode(bytes: &[u8]) -> Result<BTreeMap<PathBuf, FileEntry>, &'static str> {
    if bytes.len() < HEADER_LEN || &bytes[..MAGIC.len()] != MAGIC {
        return Err("not a tandem index cache");
    }
    let mut version = [0u8; 4];
    version.copy_from_slice(&bytes[8..12]);
    if u32::from_le_bytes(version) != FORMAT_VERSION {
        return Err("written by another version");
    }
    if bytes[12..44] != schema_hash() {
        return Err("tag queries changed");
    }
    let payload = &bytes[HEADER_LEN..];
    if bytes[44..76] != *blake3::hash(payload).as_bytes() {
        return Err("checksum mismatch, truncated or corrupt");
    }
    let payload: Payload = postcard::from_bytes(payload).map_err(|_| "undecodable payload")?;
    Ok(payload.entries.into_iter().map(|(p, e)| (PathBuf::from(p), e)).collect())
}

/// Writes the cache atomically: a temp file in the same directory, then rename,
/// so readers (and a second tandem process) see the old or the new file, never half of one.
pub(crate) fn save(path: &Path, files: &BTreeMap<PathBuf, FileEntry>) -> Result<(), IndexError> {
    let payload =
        Payload { entries: files.iter().map(|(p, e)| (p.to_string_lossy().into_owned(), e.clone())).collect() };
    let body = postcard::to_allocvec(&payload).map_err(|e| IndexError::CacheEncode(e.to_string()))?;
    let mut bytes = Vec::with_capacity(HEADER_LEN + body.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&schema_hash());
    bytes.extend_from_slice(blake3::hash(&body).as_bytes());
    bytes.extend_from_slice(&body);

    let io = |source| IndexError::Io { path: path.to_path_buf(), source };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io)?;
    // Unique per process and per call so concurrent writers never share a temp file.
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "index".into());
    let tmp = dir.join(format!(".{name}.{}.{}.tmp", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed)));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io)
}
