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
        named(&self.finish_raw())
    }

    /// The digest as its 32 bytes.
    pub fn finish_raw(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// The `sha256:…` name of a digest's 32 bytes.
pub fn named(digest: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

/// The 32 bytes of a digest named as [`hash`] names it (`sha256:` and 64 lowercase hex
/// digits); `None` for anything else.
pub fn parse(name: &str) -> Option<[u8; 32]> {
    let hex = name.strip_prefix("sha256:")?.as_bytes();
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    if hex.len() != 64 {
        return None;
    }
    let mut raw = [0; 32];
    for (byte, pair) in raw.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(raw)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_name_parses_back_to_its_bytes_and_nothing_else_parses() {
        let name = super::hash(b"imggen");
        let raw = super::parse(&name).expect("parses");
        assert_eq!(super::named(&raw), name);
        for bad in [
            name.to_uppercase(),
            name.replace("sha256:", "sha512:"),
            name[..70].to_string(),
            format!("{name}0"),
            name.replacen('a', "g", 1),
        ] {
            assert_eq!(super::parse(&bad), None, "{bad}");
        }
    }

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
