//! Property tests over the whole pipeline (load → resolve → render → in-memory checks).
//!
//! Valid profiles with hostile-but-legal values must render, and every output must pass the
//! in-memory checks; arbitrary `--set`s must end in `Ok` or a clean error, never a panic.

use std::sync::Arc;

use proptest::prelude::*;

use crate::pipeline::pack::Packs;
use crate::profile::{Selection, load};

fn packs() -> Arc<Packs> {
    Packs::builtin().expect("built-in packs load")
}

fn render(selection: &Selection) -> crate::error::Result<crate::output::tree::Files> {
    crate::pipeline::run::render(&packs(), &load(selection)?)
}

/// Printable text with the characters that break naive quoting, but no control characters.
fn hostile_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("'".to_string()),
            Just("\"".to_string()),
            Just("$".to_string()),
            Just("$(id)".to_string()),
            Just("`".to_string()),
            Just("\\".to_string()),
            Just(" ".to_string()),
            Just("#".to_string()),
            Just(":".to_string()),
            Just("{{".to_string()),
            Just("%}".to_string()),
            "[a-zA-Z0-9]{1,4}",
            "\\PC{1,2}",
        ],
        1..8,
    )
    .prop_map(|parts| parts.concat())
}

fn builtin() -> impl Strategy<Value = String> {
    prop::sample::select(crate::profile::source::builtin_names())
}

/// A database or role name PostgreSQL lets a profile create.
fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,20}".prop_filter("not reserved by PostgreSQL", |name| {
        !crate::pipeline::validate::reserved_role(name) && !name.starts_with("template")
    })
}

proptest! {

    #[test]
    fn valid_profiles_with_hostile_values_render_and_pass_the_checks(
        profile in builtin(),
        env_value in hostile_text(),
        label_value in hostile_text(),
        script in hostile_text(),
        db in name(),
        owner in name(),
        pip in "[a-z][a-z0-9-]{0,12}(==[0-9]\\.[0-9])?",
        system in "[a-z][a-z0-9+.-]{0,12}",
        non_root in any::<bool>(),
    ) {
        // Each value as a TOML string, so `--set` reads back exactly the hostile text.
        let quoted = |v: &str| toml_edit::Value::from(v).to_string();
        let mut sets = vec![
            format!("python.env.APP_GREETING={}", quoted(&env_value)),
            format!("labels.\"org.opencontainers.image.title\"={}", quoted(&label_value)),
            // A leading `~` is refused (Compose reads it as the home folder): start it as a path.
            // One file name (a `/` would name folders, `..` climb out: refused by rule).
            format!(
                "compose.kerberos_test_script={}",
                quoted(&format!("./t{}", script.replace('/', "-")))
            ),
            format!("python.pip_packages=[\"{pip}\"]"),
            format!("python.system_packages=[\"{system}\"]"),
            format!("postgres.databases=[{{ name = \"{db}\", owner = \"{owner}\", password_env = \"DB_PW\", extensions = [\"uuid-ossp\"] }}]"),
        ];
        if non_root {
            sets.push("mode=prebuilt".into());
            sets.push("hardening.non_root=true".into());
        }
        let selection = Selection { profiles: vec![profile], sets };
        let files = render(&selection);
        prop_assert!(files.is_ok(), "{}", files.err().map(|e| e.to_string()).unwrap_or_default());
    }

    #[test]
    fn arbitrary_sets_end_in_a_clean_result(
        profile in builtin(),
        key in prop::sample::select(vec![
            "mode", "distro", "images.python", "images.postgres", "corporate.registry",
            "corporate.pip_index_url", "python.tag", "python.env.X", "python.user.uid",
            "python.pip_packages", "postgres.auth_method", "postgres.settings.work_mem",
            "compose.network", "labels.a", "digests.python", "extends", "packs",
        ]),
        value in "\\PC{0,24}",
    ) {
        let selection = Selection { profiles: vec![profile], sets: vec![format!("{key}={value}")] };
        // Either outcome is fine; reaching here without a panic is the property.
        if let Err(error) = render(&selection) {
            prop_assert!(!error.to_string().is_empty());
        }
    }

    #[test]
    fn proxy_urls_come_back_from_the_bake_file_through_an_hcl_parser_or_are_refused(
        tail in proptest::collection::vec(
            prop::sample::select(vec![
                "&", ";", "(", ")", "!", "*", "+", ",", "=", "?", "#", "%{", "${", "~", "@",
                ":", "a", "1", "-", "_", ".", "/", "[", "]", "'", "\\", "$", "|", " ", "\"",
            ]),
            1..10,
        ),
    ) {
        let url = format!("http://proxy.example:3128/{}", tail.concat());
        let set = format!("corporate.http_proxy={}", toml_edit::Value::from(url.as_str()));
        let selection = Selection { profiles: vec!["debian-prebuilt".into()], sets: vec![set] };
        match render(&selection) {
            Err(error) => prop_assert!(
                error.to_string().starts_with("--set: `corporate.http_proxy`"),
                "refused elsewhere than at the value: {error}"
            ),
            Ok(files) => {
                let text = String::from_utf8_lossy(&files["docker-bake.hcl"].contents).into_owned();
                let body: hcl::Body = hcl::from_str(&text).expect("the bake file is HCL");
                let mut seen = 0;
                for target in body.blocks().filter(|b| b.identifier() == "target") {
                    let args = target.body().attributes().find(|a| a.key() == "args");
                    let Some(hcl::Expression::Object(args)) = args.map(|a| a.expr()) else {
                        continue;
                    };
                    for (key, value) in args {
                        if matches!(key, hcl::ObjectKey::Identifier(id) if id.as_str() == "http_proxy") {
                            prop_assert_eq!(value, &hcl::Expression::String(url.clone()));
                            seen += 1;
                        }
                    }
                }
                prop_assert!(seen > 0, "no target passes http_proxy");
            }
        }
    }
}
