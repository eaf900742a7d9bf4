//! Style images travel content-addressed: a kiosk puts each file into the object store once,
//! under the SHA-256 of its bytes, and a painter fetches and decodes it once per hash.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use async_nats::jetstream::object_store::ObjectStore;

use crate::ids::sha256_hex;
use crate::paths::{FileVersion, file_version};

/// The kiosk's side: which files are already on the server, by path and version.
#[derive(Default)]
pub struct Uploads {
    known: HashMap<PathBuf, (Option<FileVersion>, String)>,
}

impl Uploads {
    /// The file's hash, uploading it first if the server does not have it.
    /// `max_payload`: the server's message limit (the file goes in chunks below it).
    pub async fn ensure(&mut self, store: &ObjectStore, path: &Path, max_payload: usize) -> Result<String, String> {
        let version = file_version(path);
        if let Some((v, hash)) = self.known.get(path)
            && *v == version
            && version.is_some()
        {
            return Ok(hash.clone());
        }
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read style image {}: {e}", path.display()))?;
        let hash = sha256_hex(&bytes);
        if store.info(&hash).await.is_err() {
            let mut reader = bytes.as_slice();
            let meta = async_nats::jetstream::object_store::ObjectMetadata {
                name: hash.clone(),
                // The client's 128 KiB chunks, or less on a server that takes less.
                chunk_size: Some((128 << 10).min(max_payload.saturating_sub(4 << 10)).max(1 << 10)),
                ..Default::default()
            };
            store
                .put(meta, &mut reader)
                .await
                .map_err(|e| format!("cannot send style image {} to the farm: {e}", path.display()))?;
            tracing::info!("farm: style image {} sent ({} KiB, {})", path.display(), bytes.len() >> 10, &hash[..12]);
        }
        self.known.insert(path.to_path_buf(), (version, hash.clone()));
        Ok(hash)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_of_a_known_text() {
        assert_eq!(super::sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
