//! `docker-bake.hcl`: parses as HCL, and has the structure `docker buildx bake` needs: a default
//! group naming one target per image the profile builds, each with its context and tag.

use crate::helper::Test;

fn strings(expr: &hcl::Expression) -> Vec<String> {
    match expr {
        hcl::Expression::Array(items) => items
            .iter()
            .map(|item| match item {
                hcl::Expression::String(s) => s.clone(),
                other => panic!("expected a string, got {other:?}"),
            })
            .collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

#[test]
fn bake_file_names_every_built_image() {
    for profile in [
        "alpine-layered",
        "alpine-prebuilt",
        "debian-layered",
        "debian-prebuilt",
        "corporate-hardened",
    ] {
        let output = Test::new()
            .args([
                "render",
                "-p",
                profile,
                "--set",
                "platforms=[\"linux/amd64\", \"linux/arm64\"]",
                "--out",
                "out",
            ])
            .run();
        let body: hcl::Body =
            hcl::from_str(&output.read("out/docker-bake.hcl")).expect("valid HCL");
        let group = body
            .blocks()
            .find(|b| b.identifier() == "group")
            .expect("a group block");
        assert_eq!(group.labels()[0].as_str(), "default");
        let listed = strings(
            group
                .body()
                .attributes()
                .find(|a| a.key() == "targets")
                .expect("targets")
                .expr(),
        );
        let mut tags = Vec::new();
        let mut names = Vec::new();
        for target in body.blocks().filter(|b| b.identifier() == "target") {
            let name = target.labels()[0].as_str().to_string();
            let attr = |key: &str| {
                target
                    .body()
                    .attributes()
                    .find(|a| a.key() == key)
                    .map(|a| a.expr().clone())
            };
            assert_eq!(
                attr("context"),
                Some(hcl::Expression::String(name.clone())),
                "{profile}"
            );
            tags.extend(strings(&attr("tags").expect("tags")));
            assert_eq!(
                strings(&attr("platforms").expect("platforms")),
                ["linux/amd64", "linux/arm64"]
            );
            names.push(name);
        }
        assert_eq!(
            listed, names,
            "{profile}: the default group names every target"
        );
        // Exactly the images the profile names a tag for, with those tags.
        let shown = Test::new().args(["show", "-p", profile]).run().stdout;
        let resolved: toml_edit::DocumentMut = shown.parse().expect("show prints TOML");
        let mut expected_names = Vec::new();
        let mut expected_tags = Vec::new();
        // Roles with a section of their own keep their tag there; the others under `[tags]`.
        for (folder, section, key) in [
            ("python-runtime", "python", "tag"),
            ("kerberos-test", "kerberos", "tag"),
            ("postgres", "postgres", "tag"),
            ("openmetadata-server", "tags", "openmetadata_server"),
            ("opensearch", "tags", "opensearch"),
            ("alpine", "tags", "alpine"),
            ("postgres-test", "tags", "postgres_test"),
            ("sqlcmd-test", "tags", "sqlcmd_test"),
            ("pagila-test", "tags", "pagila_test"),
            ("mockserver", "tags", "mockserver"),
            ("astronomer", "tags", "astronomer"),
        ] {
            if let Some(tag) = resolved[section].get(key).and_then(|t| t.as_str()) {
                expected_names.push(folder.to_string());
                expected_tags.push(tag.to_string());
            }
        }
        assert_eq!(names, expected_names, "{profile}");
        assert_eq!(tags, expected_tags, "{profile}");
    }
}
