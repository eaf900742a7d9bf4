//! Hex and random tokens, written once: take-home links and console sessions, job ids, job
//! secrets and nonces, and the content hashes that name style files, scene versions and cached
//! speech. Imports nothing of the crate.

use sha2::{Digest as _, Sha256};

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Bytes of lowercase or uppercase hex (spaces around it ignored); None if it is not hex of
/// an even length.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    hex::decode(text.trim()).ok()
}

/// `N` bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    bytes
}

/// `N` random bytes as `2 * N` hex digits.
pub fn random_hex<const N: usize>() -> String {
    hex(&random_bytes::<N>())
}

/// A secret nobody can guess: 128 random bits as 32 hex digits (take-home links, console
/// sessions and their forms).
pub fn new_token() -> String {
    random_hex::<16>()
}

/// The SHA-256 of `bytes` in hex: a file's name in the farm's object store.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}
