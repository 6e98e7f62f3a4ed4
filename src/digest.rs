//! The digest imggen names bytes by: `sha256:` and 64 lowercase hex digits, the form OCI
//! registries use for blobs and manifests, and the form the manifest and `apply`'s record keep
//! for the files imggen wrote.

use sha2::{Digest, Sha256};

/// The `sha256:…` digest of `contents`.
pub fn hash(contents: &[u8]) -> String {
    named(&Sha256::digest(contents))
}

/// One digest of a list of fields: each field's length goes in before its bytes, so two lists
/// share a digest only when they are the same list (`ab`,`c` is not `a`,`bc`).
pub struct Fields(Sha256);

impl Fields {
    /// A list of what `kind` names (the kind is its first field: lists of different kinds never
    /// share a digest).
    pub fn new(kind: &str) -> Self {
        let mut fields = Self(Sha256::new());
        fields.add(kind);
        fields
    }

    pub fn add(&mut self, field: impl AsRef<[u8]>) -> &mut Self {
        let field = field.as_ref();
        self.0.update((field.len() as u64).to_le_bytes());
        self.0.update(field);
        self
    }

    pub fn finish(self) -> String {
        named(&self.0.finalize())
    }
}

fn named(digest: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest {
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

    #[test]
    fn fields_are_told_apart_by_where_they_split() {
        let of = |fields: &[&str]| {
            let mut digest = super::Fields::new("test");
            for field in fields {
                digest.add(field);
            }
            digest.finish()
        };
        assert_ne!(of(&["ab", "c"]), of(&["a", "bc"]));
        assert_ne!(of(&["abc"]), of(&["abc", ""]));
        assert_eq!(of(&["a", "bc"]), of(&["a", "bc"]));
        assert_ne!(of(&[]), super::Fields::new("other").finish());
    }
}
