//! Image roles: every image the platform runs, one table entry each.
//!
//! An entry owns every fact about its role: the command-line spelling (also its output folder,
//! its pack and its bake target), the key under `[images]`, `[digests]` and `[tags]`, the `.env`
//! variable and the platform folder that reads it, the compose services that run it, and what
//! `lint` and `test` check in it. Accepted values, help, error wording, the render context's
//! role list, `build` and `test` job lists and the wizard's questions all derive from [`ROLES`].
//! This module holds plain data only, so every other module may use it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

pub struct Role {
    /// The one command-line spelling; also the output folder, the pack and the bake target.
    pub name: &'static str,
    /// Other spellings accepted on the command line (the profile key, older forms).
    pub aliases: &'static [&'static str],
    /// The key under `[images]`, `[digests]` and `[tags]`.
    pub key: &'static str,
    /// How messages and questions name it.
    pub title: &'static str,
    /// The `.env` variable the platform reads the image from.
    pub env: &'static str,
    /// The image the platform uses when nothing is set.
    pub upstream: Upstream,
    /// The platform folders whose `.env` holds [`Role::env`]: every file an entry point of the
    /// platform reads it from first (see `platform::PROJECTS`), so each sees the same value.
    pub projects: &'static [&'static str],
    /// The platform's switch between running the image as it is (`true`) and building its
    /// own Dockerfile from it as a base (`false`), for the test containers; imggen sets it to
    /// whether it builds the image.
    pub prebuilt_env: Option<&'static str>,
    /// Whether imggen renders a Dockerfile for it (its pack is named [`Role::name`]). A role
    /// that does not is still the platform's image: `[images]`, the registry and `.env` reach
    /// it.
    pub builds: bool,
    /// Whether a profile that names no `packs` renders it.
    pub by_default: bool,
    /// Whether the profile's `distro` picks the package manager its Dockerfile installs with
    /// (so its image must be of that distro).
    pub follows_distro: bool,
    /// The profile section with this role's own knobs and `tag`, if it has one.
    pub section: Option<&'static str>,
    /// The platform's compose services that run the image (their default names).
    pub services: &'static [&'static str],
    /// What `imggen test` checks in the built image.
    pub probes: &'static [Probe],
    /// What `imggen lint` requires of its Dockerfile, beyond the rules for every image.
    pub requires: &'static [Requirement],
}

/// Where a role's image comes from when the profile names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    Image(&'static str),
    /// The same image as the role with this key (the Kerberos test runs in the Python image).
    SameAs(&'static str),
}

/// One image test; `imggen test` knows how to run each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// `sh -c "echo 'Shell works'"`: every platform image needs a shell (but MockServer's,
    /// which has none).
    Shell,
    /// An image whose program is its JVM and which has no shell (MockServer's): `java -version`
    /// runs in place of its entrypoint; with CA certificates, the JVM reads the trust store
    /// `JAVA_TOOL_OPTIONS` names (`java -XshowSettings:properties`).
    Jvm,
    /// Layered: `pip install requests` works; prebuilt: every pre-installed distribution imports.
    Python,
    /// Prebuilt: `klist -V`; layered: the override's install command, then `klist -V`.
    KerberosTools,
    /// The server starts through the standard entrypoint; databases, extensions, auth method.
    PostgresServer,
    /// When the profile has CA certificates: `script` run with `sh -c`, the certificates'
    /// aliases (`imggen-<file stem>`) as its arguments, succeeds.
    CaTrusted {
        name: &'static str,
        script: &'static str,
    },
}

/// A requirement `imggen lint` checks in a role's Dockerfile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// In prebuilt mode the Kerberos tools are installed in the image.
    KerberosTools,
    /// An `ENTRYPOINT`, if set, keeps this upstream entrypoint script.
    KeepsEntrypoint(&'static str),
    /// In layered mode the platform picks its install command from the image's name.
    InstallerByName,
}

pub static ROLES: [Role; 11] = [
    Role {
        name: "python-runtime",
        aliases: &["python", "python_runtime"],
        key: "python",
        title: "Python runtime",
        env: "IMAGE_PYTHON",
        upstream: Upstream::Image("python:3.11-alpine"),
        projects: &["kerberos", "platform-bootstrap"],
        prebuilt_env: None,
        builds: true,
        by_default: true,
        follows_distro: true,
        section: Some("python"),
        services: &[],
        probes: &[Probe::Shell, Probe::Python],
        requires: &[],
    },
    Role {
        name: "kerberos-test",
        aliases: &["kerberos_test", "kerberos"],
        key: "kerberos_test",
        title: "Kerberos test",
        env: "IMAGE_KERBEROS_TEST",
        upstream: Upstream::SameAs("python"),
        projects: &["platform-bootstrap"],
        prebuilt_env: None,
        builds: true,
        by_default: true,
        follows_distro: true,
        section: Some("kerberos"),
        services: &[],
        probes: &[Probe::Shell, Probe::KerberosTools],
        requires: &[Requirement::KerberosTools, Requirement::InstallerByName],
    },
    Role {
        name: "postgres",
        aliases: &["postgresql"],
        key: "postgres",
        title: "PostgreSQL",
        env: "IMAGE_POSTGRES",
        upstream: Upstream::Image("postgres:17.5-alpine"),
        projects: &["platform-infrastructure", "platform-bootstrap"],
        prebuilt_env: None,
        builds: true,
        by_default: true,
        follows_distro: true,
        section: Some("postgres"),
        services: &["platform-postgres"],
        probes: &[Probe::Shell, Probe::PostgresServer],
        requires: &[Requirement::KeepsEntrypoint("docker-entrypoint.sh")],
    },
    Role {
        name: "openmetadata-server",
        aliases: &["openmetadata_server", "openmetadata"],
        key: "openmetadata_server",
        title: "OpenMetadata server",
        env: "IMAGE_OPENMETADATA_SERVER",
        upstream: Upstream::Image("docker.getcollate.io/openmetadata/server:1.10.1"),
        projects: &["openmetadata"],
        prebuilt_env: None,
        builds: true,
        by_default: false,
        follows_distro: false,
        section: None,
        services: &["openmetadata-migrate", "openmetadata-server"],
        probes: &[Probe::Shell, JVM_TRUSTS_CA],
        requires: &[],
    },
    Role {
        name: "opensearch",
        aliases: &[],
        key: "opensearch",
        title: "OpenSearch",
        env: "IMAGE_OPENSEARCH",
        upstream: Upstream::Image("opensearchproject/opensearch:2.19.2"),
        projects: &["openmetadata"],
        prebuilt_env: None,
        builds: true,
        by_default: false,
        follows_distro: false,
        section: None,
        services: &["openmetadata-opensearch"],
        probes: &[Probe::Shell, JVM_TRUSTS_CA],
        requires: &[],
    },
    Role {
        name: "alpine",
        aliases: &[],
        key: "alpine",
        title: "Alpine base",
        env: "IMAGE_ALPINE",
        upstream: Upstream::Image("alpine:3.19"),
        projects: &["kerberos", "platform-bootstrap"],
        prebuilt_env: None,
        builds: true,
        by_default: false,
        follows_distro: false,
        section: None,
        services: &[],
        probes: &[Probe::Shell, SYSTEM_TRUSTS_CA],
        requires: &[],
    },
    test_container(
        "postgres-test",
        &["postgres_test"],
        "postgres_test",
        "PostgreSQL test container",
        "IMAGE_POSTGRES_TEST",
        "POSTGRES_TEST_PREBUILT",
    ),
    test_container(
        "sqlcmd-test",
        &["sqlcmd_test"],
        "sqlcmd_test",
        "SQL Server test container",
        "IMAGE_SQLCMD_TEST",
        "SQLCMD_TEST_PREBUILT",
    ),
    test_container(
        "pagila-test",
        &["pagila_test"],
        "pagila_test",
        "Pagila test container",
        "IMAGE_PAGILA_TEST",
        "PAGILA_TEST_PREBUILT",
    ),
    Role {
        name: "mockserver",
        aliases: &[],
        key: "mockserver",
        title: "MockServer",
        env: "IMAGE_MOCKSERVER",
        upstream: Upstream::Image("mockserver/mockserver:latest"),
        // docker-compose.mock-services.yml, run with `-f` in platform-bootstrap (`make
        // mock-start`): that folder's `.env`.
        projects: &["platform-bootstrap"],
        prebuilt_env: None,
        builds: true,
        by_default: false,
        follows_distro: false,
        section: None,
        services: &[],
        probes: &[Probe::Jvm],
        requires: &[],
    },
    Role {
        name: "astronomer",
        aliases: &["astro-runtime"],
        key: "astronomer",
        title: "Astronomer runtime",
        env: "IMAGE_ASTRONOMER",
        // What the user's Airflow projects build from; the Kerberos setup scripts keep it here.
        upstream: Upstream::Image("quay.io/astronomer/astro-runtime:11.10.0"),
        projects: &["platform-bootstrap"],
        prebuilt_env: None,
        builds: true,
        by_default: false,
        follows_distro: false,
        section: None,
        services: &[],
        probes: &[Probe::Shell, SYSTEM_TRUSTS_CA],
        requires: &[],
    },
];

/// One of the platform's test containers (`make build-postgres-test` and the like). Not
/// prebuilt, the platform builds its own Dockerfile `FROM` the image (Alpine: `alpine:latest`
/// by default); imggen's pack (Alpine, as the platform's) builds the prebuilt image from it.
const fn test_container(
    name: &'static str,
    aliases: &'static [&'static str],
    key: &'static str,
    title: &'static str,
    env: &'static str,
    prebuilt_env: &'static str,
) -> Role {
    Role {
        name,
        aliases,
        key,
        title,
        env,
        upstream: Upstream::Image("alpine:latest"),
        // The Makefiles that build them (platform-infrastructure, pagila) read only the
        // central file.
        projects: &["platform-bootstrap"],
        prebuilt_env: Some(prebuilt_env),
        builds: true,
        by_default: false,
        follows_distro: false,
        section: None,
        services: &[],
        probes: &[Probe::Shell, SYSTEM_TRUSTS_CA],
        requires: &[],
    }
}

/// Every JVM runtime in the image (keytool on the PATH, bundled and system JDKs) has each
/// corporate CA in its trust store, under the alias the Dockerfile gave it.
const JVM_TRUSTS_CA: Probe = Probe::CaTrusted {
    name: "every JVM trust store has the corporate CA (keytool -list -cacerts)",
    script: r#"found=0
for keytool in "$(command -v keytool)" /usr/share/*/jdk/bin/keytool /usr/lib/jvm/*/bin/keytool; do
    [ -x "$keytool" ] || continue
    found=1
    for alias in "$@"; do
        "$keytool" -list -cacerts -storepass changeit -alias "$alias" >/dev/null             || { echo "$keytool: no certificate with alias $alias"; exit 1; }
    done
done
[ "$found" = 1 ] || { echo "no keytool in the image"; exit 1; }"#,
};

/// The system bundle holds each corporate CA certificate copied into the image.
const SYSTEM_TRUSTS_CA: Probe = Probe::CaTrusted {
    name: "the system CA bundle has the corporate CA",
    script: r#"bundle=$(tr -d '\n' </etc/ssl/certs/ca-certificates.crt)
for alias in "$@"; do
    body=$(grep -v -- '-----' "/usr/local/share/ca-certificates/${alias#imggen-}.crt" | tr -d '\n')
    case $bundle in *"$body"*) ;; *) echo "not in the bundle: $alias"; exit 1 ;; esac
done"#,
};

/// The role a command-line value names: its name, or one of its aliases.
pub fn find(value: &str) -> Option<&'static Role> {
    ROLES
        .iter()
        .find(|r| r.name == value || r.aliases.contains(&value))
}

/// The role whose profile key is `key`.
pub fn by_key(key: &str) -> Option<&'static Role> {
    ROLES.iter().find(|r| r.key == key)
}

/// The role of an imggen output path (`postgres/Dockerfile` → postgres), if it has one.
pub fn of_path(path: &str) -> Option<&'static Role> {
    let folder = path.rsplit('/').nth(1)?;
    ROLES.iter().find(|r| r.name == folder)
}

/// The upstream image a role starts from, following `SameAs` to the role it shares it with.
pub fn upstream_image(role: &Role) -> &'static str {
    match role.upstream {
        Upstream::Image(image) => image,
        Upstream::SameAs(key) => by_key(key).map_or("", upstream_image),
    }
}

/// The roles imggen builds, in table order.
pub fn built() -> impl Iterator<Item = &'static Role> {
    ROLES.iter().filter(|r| r.builds)
}

static KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(|| ROLES.iter().map(|r| r.key).collect());

/// A profile table keyed by role (`[images]`, `[digests]`, `[tags]`): only roles' keys are
/// accepted, and it lists them in table order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleMap(BTreeMap<&'static str, String>);

impl RoleMap {
    /// Every role's own upstream image (what `[images]` holds when nothing is set).
    pub fn upstream_defaults() -> Self {
        Self(
            ROLES
                .iter()
                .filter_map(|r| match r.upstream {
                    Upstream::Image(image) => Some((r.key, image.to_string())),
                    Upstream::SameAs(_) => None,
                })
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.0.get(key)
    }

    /// Entries in table order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &String)> {
        ROLES
            .iter()
            .filter_map(|r| self.0.get(r.key).map(|v| (r.key, v)))
    }

    /// `[images]` as a profile sets it: the roles it names over the platform's defaults.
    pub fn deserialize_over_defaults<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let set = Self::deserialize(d)?;
        let mut map = Self::upstream_defaults();
        map.0.extend(set.0);
        Ok(map)
    }
}

impl Serialize for RoleMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.iter() {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// A key of a [`RoleMap`]: refused while it is read, so the error points at the key itself.
struct RoleKey(&'static str);

impl<'de> Deserialize<'de> for RoleKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let key = String::deserialize(d)?;
        by_key(&key)
            .map(|role| RoleKey(role.key))
            .ok_or_else(|| de::Error::unknown_field(&key, &KEYS))
    }
}

impl<'de> Deserialize<'de> for RoleMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = RoleMap;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table with one value per role")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<RoleMap, A::Error> {
                let mut map = BTreeMap::new();
                while let Some(RoleKey(key)) = access.next_key()? {
                    map.insert(key, access.next_value::<String>()?);
                }
                Ok(RoleMap(map))
            }
        }
        d.deserialize_map(Keys)
    }
}

impl schemars::JsonSchema for RoleMap {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RoleMap".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let properties: serde_json::Map<String, serde_json::Value> = ROLES
            .iter()
            .map(|r| {
                let about = format!("{} ({})", r.title, r.env);
                (
                    r.key.to_string(),
                    serde_json::json!({ "type": "string", "description": about }),
                )
            })
            .collect();
        serde_json::json!({
            "type": "object",
            "description": "One value per image role",
            "properties": properties,
            "additionalProperties": false,
        })
        .try_into()
        .expect("an object is a schema")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keys_aliases_env_and_folders_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for role in &ROLES {
            for spelling in [role.name, role.key].iter().chain(role.aliases) {
                // A role's key may equal its own name; no spelling may name two roles.
                assert!(
                    find(spelling).is_none_or(|r| std::ptr::eq(r, role)),
                    "`{spelling}` names two roles"
                );
            }
            assert!(seen.insert(role.env), "{} twice", role.env);
            assert!(role.env.starts_with("IMAGE_"));
        }
    }

    #[test]
    fn same_as_names_a_role_with_its_own_image() {
        for role in &ROLES {
            if let Upstream::SameAs(key) = role.upstream {
                let other = by_key(key).expect("names a role");
                assert!(matches!(other.upstream, Upstream::Image(_)));
            }
        }
    }

    #[test]
    fn a_role_map_refuses_keys_that_are_not_roles_and_lists_the_roles() {
        let error = toml_edit::de::from_str::<RoleMap>("pyton = \"x\"").expect_err("refused");
        let message = error.message().to_string();
        assert!(message.contains("unknown field `pyton`"), "{message}");
        assert!(message.contains("`kerberos_test`"), "{message}");
        let map: RoleMap = toml_edit::de::from_str("postgres = \"p\"\npython = \"y\"").expect("ok");
        let keys: Vec<&str> = map.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["python", "postgres"], "table order, not name order");
    }

    #[test]
    fn every_probe_script_is_valid_sh() {
        for role in &ROLES {
            for probe in role.probes {
                if let Probe::CaTrusted { script, .. } = probe {
                    let status = std::process::Command::new("sh")
                        .args(["-n", "-c", script])
                        .status()
                        .expect("sh runs");
                    assert!(status.success(), "{}: {script}", role.name);
                }
            }
        }
    }
}
