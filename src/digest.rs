//! The digest imggen names bytes by: `sha256:` and 64 lowercase hex digits, the form OCI
//! registries use for blobs and manifests, and the form the manifest and `apply`'s record keep
//! for the files imggen wrote.

use sha2::{Digest, Sha256};

/// The `sha256:…` digest of `contents`.
pub fn hash(contents: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(contents);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest.iter() {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_digest_of_nothing_is_sha256s_known_value() {
        assert_eq!(
            super::hash(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
