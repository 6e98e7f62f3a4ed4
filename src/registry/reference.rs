//! An image reference taken apart the way Docker does: `[host[:port]/]path[:tag][@digest]`.
//! The registry mapping (`corporate.registry`), `lock` and `mirror` all read references through
//! here, so they agree on where an image lives.

/// Docker Hub's name in references, and the host its API answers on.
pub const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";
pub(crate) const DOCKER_HUB_ALIASES: [&str; 3] = [DOCKER_HUB, "index.docker.io", DOCKER_HUB_API];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The registry host (with its port), `docker.io` when the reference names none.
    pub registry: String,
    /// The repository inside it; Docker Hub's official images get their `library/`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// Docker's rule: the first part names a registry when it has a `.` or `:`, or is `localhost`.
/// Returns the host (if any) and the rest.
fn split_host(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

impl Reference {
    /// Takes apart a reference that passed the profile's image rule.
    pub fn parse(text: &str) -> Self {
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest.to_string())),
            None => (text, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(colon) => (
                &rest[..last_slash + colon],
                Some(rest[last_slash + colon + 1..].to_string()),
            ),
            None => (rest, None),
        };
        let (host, path) = split_host(name);
        let hub = host.is_none_or(|h| DOCKER_HUB_ALIASES.contains(&h));
        let repository = if hub && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        Self {
            registry: if hub {
                DOCKER_HUB
            } else {
                host.unwrap_or(DOCKER_HUB)
            }
            .to_string(),
            repository,
            tag,
            digest,
        }
    }

    pub fn is_docker_hub(&self) -> bool {
        self.registry == DOCKER_HUB
    }

    /// The host the registry's HTTP API answers on.
    pub fn api_host(&self) -> &str {
        if self.is_docker_hub() {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// A registry on this machine: Docker lets it speak plain HTTP, and so does imggen.
    pub fn is_loopback(&self) -> bool {
        let host = self
            .registry
            .rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map_or(self.registry.as_str(), |(host, _)| host);
        let ipv4_loopback = host.starts_with("127.")
            && host.split('.').count() == 4
            && host.split('.').all(|part| part.parse::<u8>().is_ok());
        host == "localhost" || host == "[::1]" || ipv4_loopback
    }

    /// What the manifest is asked for by: the digest when there is one, else the tag
    /// (`latest` when neither is given, as Docker does).
    pub fn manifest_ref(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// The same image in another registry, under the same repository, tag and digest.
    pub fn moved_to(&self, registry: &str) -> Self {
        Self {
            registry: registry.to_string(),
            ..self.clone()
        }
    }

    /// Without its digest: what a tag points at.
    pub fn without_digest(&self) -> Self {
        Self {
            digest: None,
            ..self.clone()
        }
    }

    /// Only by its digest, without the tag (what skopeo reads: it takes no reference with both).
    pub fn by_digest(&self) -> Self {
        Self {
            tag: None,
            ..self.clone()
        }
    }

    /// With `digest` in place of any it had.
    pub fn with_digest(&self, digest: &str) -> Self {
        Self {
            digest: Some(digest.to_string()),
            ..self.clone()
        }
    }
}

impl std::fmt::Display for Reference {
    /// The full spelling, registry and `library/` included: what skopeo and engines take.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_references_apart_as_docker_does() {
        let hub = Reference::parse("python:3.11-slim-bookworm");
        assert_eq!(hub.registry, "docker.io");
        assert_eq!(hub.repository, "library/python");
        assert_eq!(hub.tag.as_deref(), Some("3.11-slim-bookworm"));
        assert_eq!(hub.api_host(), "registry-1.docker.io");
        assert_eq!(
            hub.to_string(),
            "docker.io/library/python:3.11-slim-bookworm"
        );

        let org = Reference::parse("opensearchproject/opensearch:2.19.2");
        assert_eq!(org.registry, "docker.io");
        assert_eq!(org.repository, "opensearchproject/opensearch");

        let port = Reference::parse("127.0.0.1:5000/library/postgres:17.5@sha256:ab");
        assert_eq!(port.registry, "127.0.0.1:5000");
        assert_eq!(port.repository, "library/postgres");
        assert_eq!(port.tag.as_deref(), Some("17.5"));
        assert_eq!(port.digest.as_deref(), Some("sha256:ab"));
        assert_eq!(port.manifest_ref(), "sha256:ab");
        assert!(port.is_loopback());

        let other = Reference::parse("docker.getcollate.io/openmetadata/server:1.10.1");
        assert_eq!(other.registry, "docker.getcollate.io");
        assert_eq!(other.repository, "openmetadata/server");
        assert!(!other.is_loopback());
        assert_eq!(
            Reference::parse("index.docker.io/alpine").to_string(),
            "docker.io/library/alpine"
        );
        assert_eq!(Reference::parse("alpine").manifest_ref(), "latest");
        assert!(Reference::parse("localhost/x:1").is_loopback());
        assert!(!Reference::parse("127.example.com/x:1").is_loopback());
    }
}
