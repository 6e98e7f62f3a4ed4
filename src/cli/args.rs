//! The command line (clap lives here and nowhere else): parsed, then turned into plain requests.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::cli::commands::{
    BuildRequest, CheckRequest, Command, DiffRequest, EditRequest, LintRequest, ListWhat,
    LockRequest, MirrorRequest, RenderRequest, ShowRequest, TestRequest, VendorAction,
    VendorRequest,
};
use crate::cli::init;
use crate::images::engine::{ENGINES, Kind};
use crate::pipeline::run::Target;
use crate::profile::model;
use crate::profile::{Selection, source};
use crate::registry::upstream::LockMode;
use crate::role::{ROLES, Role};

#[derive(Parser)]
#[command(
    name = "imggen",
    version,
    about = "Render the Dockerfiles, compose override and .env \
    for the data platform's custom images from small profile files"
)]
struct Cli {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Args)]
struct Select {
    /// Profile to render: a built-in name, a name in ./profiles/, or a path. Repeat to stack
    /// profiles (later ones win). Default: alpine-layered
    #[arg(short, long = "profile", value_name = "PROFILE")]
    profiles: Vec<String>,
    /// Override one value, e.g. `--set python.tag=myorg/python:3.11`. Repeatable; wins over
    /// every profile
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
}

#[derive(Args)]
struct Out {
    /// Output folder
    #[arg(short, long, value_name = "DIR", default_value = crate::pipeline::run::DEFAULT_OUT)]
    out: PathBuf,
    /// Every known profile (built-in and ./profiles/), each into `DIR/<profile>/`
    #[arg(long, conflicts_with_all = ["profiles", "sets"])]
    all: bool,
    /// A folder of template packs used ahead of the built-in ones (repeatable)
    #[arg(long = "pack-dir", value_name = "DIR")]
    pack_dirs: Vec<PathBuf>,
}

#[derive(Subcommand)]
enum Sub {
    /// Render every output of the selected profile into the output folder
    #[command(
        after_help = "Examples:\n  imggen render                                   # the default profile, or what generated/ records\n  imggen render -p corporate-hardened --out generated\n  imggen render -p debian-prebuilt -p profiles/org.toml --set python.tag=myorg/python:3.11\n  imggen render --all --out rendered              # every known profile, one folder each\n  imggen render -p org --dry-run                  # what would be written, removed or refused\n\nWhat a render leaves is remembered in imggen's cache (see `imggen check --help`): a later\nrender or check of the same inputs into a folder still holding it hashes the files instead of\nrendering. A dry run remembers nothing."
    )]
    Render(RenderArgs),
    /// Check that the output folder holds exactly what the profile renders (exit 1 if not)
    #[command(
        after_help = "Examples:\n  imggen check --out generated                    # against what the folder was rendered from\n  imggen check -p corporate-hardened --out generated --format json\n\nA folder found current (or just rendered) is remembered in imggen's cache ($IMGGEN_CACHE_DIR, else\n$XDG_CACHE_HOME/imggen or ~/.cache/imggen; set IMGGEN_CACHE_DIR empty for none), never in the\nproject: while nothing its render reads changes, the next check hashes its files against the\nmanifest that render leaves instead of rendering (JSON: \"fresh\": true)."
    )]
    Check(CheckArgs),
    /// Show how the render of one profile selection differs from another's (exit 1 if it does)
    #[command(
        after_help = "Examples:\n  imggen diff -p debian-layered --against debian-prebuilt\n  imggen diff -p org --against org --against-set mode=layered --format json"
    )]
    Diff(DiffArgs),
    /// Copy built-in template packs to disk for your org to own (see --status, --update)
    #[command(
        after_help = "Examples:\n  imggen vendor python-runtime common             # copy, and record template-packs in imggen.toml\n  imggen vendor --status                          # upstream changes since (exit 1 if any)\n  imggen vendor --update                          # take them; merge into files you edited"
    )]
    Vendor(VendorArgs),
    /// Build the images the profile names tags for, from the rendered folder (exit 1 if one fails)
    #[command(
        after_help = "Examples:\n  imggen build -p corporate-hardened --out generated\n  imggen build --engine buildah --only postgres --push\n  imggen build --push --pin   # .env names the pushed images by digest\n  imggen build -p corporate-hardened --jobs 1   # one image at a time, the engine's own output"
    )]
    Build(BuildArgs),
    /// Pin each base image's tag to the digest its registry serves now, in imggen.lock; render
    /// then writes `FROM name:tag@sha256:...` without asking the network
    #[command(
        after_help = "Examples:\n  imggen lock -p corporate-hardened\n  imggen lock --check        # exit 1 when a tag moved (scheduled CI)\n  imggen lock --update python\n\nLogins come from the files `docker login` and `podman login` write, credential helpers\nincluded; a registry signed by a corporate CA is trusted through the profile's `corporate.ca_certificates`."
    )]
    Lock(LockArgs),
    /// Copy every upstream image the profile needs (bases and the platform's service images)
    /// into a private registry by digest, under the names its registry layout gives them
    #[command(
        after_help = "Examples:\n  imggen mirror -p corporate-hardened --dry-run\n  imggen mirror -p corporate-hardened --to registry.corp.example/mirror\n  imggen mirror --from mirror.example:5000 --to 127.0.0.1:5000 --platform linux/amd64\n\nCopies with skopeo; images already there by digest are skipped."
    )]
    Mirror(MirrorArgs),
    /// Run the platform's image tests against the built images (exit 1 if one fails)
    #[command(
        after_help = "Examples:\n  imggen test -p debian-prebuilt --engine buildah\n  imggen test --only python --image python=myorg/python:3.11-custom"
    )]
    Test(TestArgs),
    /// Check Dockerfiles against the platform's image requirements (exit 1 on findings)
    #[command(
        after_help = "Examples:\n  imggen lint -p corporate-hardened               # the profile's rendered Dockerfiles\n  imggen lint path/to/Dockerfile --role postgres --mode prebuilt\n  imggen lint --explain R003"
    )]
    Lint(LintArgs),
    /// The setup wizard: asks (or takes flags for) what differs from a built-in, writes a profile
    #[command(
        after_help = "Examples:\n  imggen init                                     # asks, in a terminal\n  imggen init --from debian-prebuilt --image python=myorg/python:3.11-custom --yes\n  imggen init --from corporate-hardened --ca-cert certs/corp.crt --registry reg.corp/hub \\\n    --no-development -p org --yes --no-render"
    )]
    Init(InitArgs),
    /// Set values in a profile file in place, keeping its comments (checked before writing)
    #[command(
        after_help = "Examples:\n  imggen set -p org mode=prebuilt python.tag=myorg/python:3.11\n  imggen set -p profiles/org.toml 'labels.\"org.opencontainers.image.vendor\"=Example Corp'"
    )]
    Set {
        /// `dotted.key=value`, typed like `--set` (quote dotted names: `labels."a.b"=x`)
        #[arg(value_name = "KEY=VALUE", required = true)]
        values: Vec<String>,
        /// The profile to edit (created when missing): a name is `profiles/NAME.toml`, a path
        /// is that file
        #[arg(short, long = "profile", value_name = "PROFILE")]
        profile: PathBuf,
    },
    /// Remove values from a profile file in place, keeping its comments
    #[command(after_help = "Examples:\n  imggen unset -p org python.tag corporate.registry")]
    Unset {
        #[arg(value_name = "KEY", required = true)]
        keys: Vec<String>,
        /// The profile to edit: a name is `profiles/NAME.toml`, a path is that file
        #[arg(short, long = "profile", value_name = "PROFILE")]
        profile: PathBuf,
    },
    /// Make a platform checkout use the profile's images: each project's .env key by key, an
    /// override per compose project, build contexts under --out (exit 1 with --check on drift)
    #[command(
        after_help = "Examples:\n  imggen apply --platform ../platform -p corporate-hardened --dry-run\n  \
        imggen apply --platform ../platform -p corporate-hardened\n  \
        imggen apply --platform ../platform -p corporate-hardened --check   # on a machine: exit 1 on drift\n  \
        imggen apply --platform . -p ./imggen-profile.toml --check --committed   # in the platform's CI"
    )]
    Apply(ApplyArgs),
    /// Print the resolved profile, each value annotated with where it was set
    #[command(
        after_help = "Examples:\n  imggen show -p corporate-hardened\n  imggen show -p org --set mode=layered --format json"
    )]
    Show {
        #[command(flatten)]
        select: Select,
        /// Output format: annotated TOML, or JSON with each value's origin
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  imggen completions bash > ~/.local/share/bash-completion/completions/imggen\n  imggen completions zsh > ~/.zfunc/_imggen\n  imggen completions fish > ~/.config/fish/completions/imggen.fish"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a man page (roff): imggen's own or a subcommand's; or write them all to a folder
    #[command(
        after_help = "Examples:\n  imggen man > imggen.1 && man ./imggen.1\n  imggen man render | man -l -\n  imggen man --out ~/.local/share/man/man1     # imggen.1 and a page per subcommand"
    )]
    Man {
        /// The subcommand whose page to print (`render`, `apply`, …; default: imggen's own)
        #[arg(value_name = "SUBCOMMAND", conflicts_with = "out")]
        page: Option<String>,
        /// Write every page (imggen.1, imggen-render.1, …) into DIR instead
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// With --out: overwrite files in DIR that are not imggen's man pages
        #[arg(long, requires = "out")]
        force: bool,
    },
    /// Print a JSON Schema of the profile format, for editors (Taplo, Even Better TOML)
    #[command(
        after_help = "Examples:\n  imggen schema > imggen.schema.json              # then point your editor's TOML schema at it"
    )]
    Schema,
    /// List the built-in and local profiles, or the template packs
    #[command(
        after_help = "Examples:\n  imggen list profiles\n  imggen list packs --pack-dir template-packs"
    )]
    List {
        #[arg(value_enum)]
        what: List,
        /// A folder of template packs used ahead of the built-in ones (repeatable)
        #[arg(long = "pack-dir", value_name = "DIR")]
        pack_dirs: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum DistroArg {
    Alpine,
    Debian,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Layered,
    Prebuilt,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum List {
    Profiles,
    Packs,
}

impl Select {
    fn into_selection(self) -> Selection {
        Selection {
            profiles: self.profiles,
            sets: self.sets,
        }
    }
}

fn target(select: Select, out: Out) -> Target {
    Target {
        selection: (!out.all).then(|| select.into_selection()),
        out: out.out,
        pack_dirs: out.pack_dirs,
    }
}

fn mode_of(mode: ModeArg) -> model::Mode {
    match mode {
        ModeArg::Layered => model::Mode::Layered,
        ModeArg::Prebuilt => model::Mode::Prebuilt,
    }
}

/// A `--x`/`--no-x` pair: the answer given, if any.
fn yes_no(yes: bool, no: bool) -> Option<bool> {
    if yes { Some(true) } else { no.then_some(false) }
}

/// A role imggen builds, on the command line (`--only`): the accepted values (and `--help`'s
/// list) come from the table.
fn role_arg() -> impl TypedValueParser<Value = &'static Role> {
    let values = crate::role::built().map(|r| {
        PossibleValue::new(r.name)
            .aliases(r.aliases.iter().copied())
            .help(r.title)
    });
    PossibleValuesParser::new(values)
        .map(|name| crate::role::find(&name).expect("clap accepts only the table's names"))
}

/// An engine on the command line, from the engine table.
fn engine_arg() -> impl TypedValueParser<Value = &'static Kind> {
    PossibleValuesParser::new(ENGINES.iter().map(|k| k.program)).map(|name| {
        ENGINES
            .iter()
            .find(|k| k.program == name)
            .expect("clap accepts only the table's names")
    })
}

/// `ROLE=IMAGE`, with a role from the table.
/// `--platform`: `os/arch` or `os/arch/variant`.
fn platform_arg(arg: &str) -> Result<String, String> {
    match crate::pipeline::validate::Rule::Platform.check(arg) {
        None => Ok(arg.to_string()),
        Some(reason) => Err(reason.to_string()),
    }
}

fn role_image(arg: &str) -> Result<(&'static Role, String), String> {
    role_image_of(arg, ROLES.iter())
}

/// `ROLE=IMAGE` for an image imggen builds (what `test` runs).
fn built_role_image(arg: &str) -> Result<(&'static Role, String), String> {
    role_image_of(arg, crate::role::built())
}

/// `ROLE=IMAGE`, with a role of `roles`.
fn role_image_of(
    arg: &str,
    roles: impl Iterator<Item = &'static Role>,
) -> Result<(&'static Role, String), String> {
    let roles: Vec<&'static Role> = roles.collect();
    let bad = |role: Option<&str>| {
        crate::error::Error::BadImageArg {
            role: role.map(String::from),
            roles: roles.iter().map(|r| r.name.to_string()).collect(),
        }
        .to_string()
    };
    let (name, image) = arg.split_once('=').ok_or_else(|| bad(None))?;
    let role = crate::role::find(name)
        .filter(|found| roles.iter().any(|r| std::ptr::eq(*r, *found)))
        .ok_or_else(|| bad(Some(name)))?;
    Ok((role, image.to_string()))
}

/// Every man page, as (file name, roff): imggen's own (whose SUBCOMMANDS section names the
/// others) and one per subcommand (`imggen-render.1`), nested ones included.
fn man_pages() -> Vec<(String, Vec<u8>)> {
    fn add(cmd: clap::Command, pages: &mut Vec<(String, Vec<u8>)>) {
        let man = clap_mangen::Man::new(cmd.clone())
            .source(concat!("imggen ", env!("CARGO_PKG_VERSION")));
        let mut roff = Vec::new();
        man.render(&mut roff)
            .expect("rendering into memory cannot fail");
        pages.push((man.get_filename(), roff));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            add(sub.clone(), pages);
        }
    }
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = Vec::new();
    add(cmd, &mut pages);
    pages
}

// `imggen render`'s flags.
#[derive(Args)]
struct RenderArgs {
    #[command(flatten)]
    select: Select,
    #[command(flatten)]
    out: Out,
    /// Overwrite or remove files in the output folder that imggen did not generate
    #[arg(long)]
    force: bool,
    /// Print what would be written, changed and removed; write nothing
    #[arg(long)]
    dry_run: bool,
}

impl RenderArgs {
    fn command(self) -> Command {
        let RenderArgs {
            select,
            out,
            force,
            dry_run,
        } = self;
        Command::Render(RenderRequest {
            target: target(select, out),
            force,
            dry_run,
        })
    }
}

// `imggen check`'s flags.
#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    select: Select,
    #[command(flatten)]
    out: Out,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Also report what the build contexts hold that the profile does not render (files,
    /// folders, links committed beside the generated ones): the engine is sent all of it
    #[arg(long)]
    untracked: bool,
}

impl CheckArgs {
    fn command(self) -> Command {
        let CheckArgs {
            select,
            out,
            format,
            untracked,
        } = self;
        Command::Check(CheckRequest {
            target: target(select, out),
            json: matches!(format, Format::Json),
            untracked,
        })
    }
}

// `imggen diff`'s flags.
#[derive(Args)]
struct DiffArgs {
    #[command(flatten)]
    select: Select,
    /// The profile(s) to compare against (repeatable, stacked like --profile)
    #[arg(long, value_name = "PROFILE", required = true)]
    against: Vec<String>,
    /// `--set` for the `--against` side
    #[arg(long = "against-set", value_name = "KEY=VALUE")]
    against_sets: Vec<String>,
    /// A folder of template packs used ahead of the built-in ones (repeatable)
    #[arg(long = "pack-dir", value_name = "DIR")]
    pack_dirs: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

impl DiffArgs {
    fn command(self) -> Command {
        let DiffArgs {
            select,
            against,
            against_sets,
            pack_dirs,
            format,
        } = self;
        Command::Diff(DiffRequest {
            json: matches!(format, Format::Json),
            left: select.into_selection(),
            right: Selection {
                profiles: against,
                sets: against_sets,
            },
            pack_dirs,
        })
    }
}

// `imggen vendor`'s flags.
#[derive(Args)]
struct VendorArgs {
    /// Packs to vendor (or to update with --update)
    #[arg(value_name = "PACK")]
    packs: Vec<String>,
    /// Folder the packs go into
    #[arg(long, value_name = "DIR", default_value = "template-packs")]
    into: PathBuf,
    /// Show, for each vendored pack, what the built-in pack changed since (exit 1 if any)
    #[arg(long, conflicts_with = "update")]
    status: bool,
    /// Take upstream changes into the files you never edited; list the others with a diff
    #[arg(long)]
    update: bool,
}

impl VendorArgs {
    fn command(self) -> Command {
        let VendorArgs {
            packs,
            into,
            status,
            update,
        } = self;
        Command::Vendor(VendorRequest {
            packs,
            into,
            action: if status {
                VendorAction::Status
            } else if update {
                VendorAction::Update
            } else {
                VendorAction::Copy
            },
        })
    }
}

// `imggen lint`'s flags.
#[derive(Args)]
struct LintArgs {
    /// Dockerfiles to check; none: the selected profile's rendered Dockerfiles
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    select: Select,
    /// What the image is for (default: from the file's folder name)
    #[arg(long, value_parser = role_arg())]
    role: Option<&'static Role>,
    /// The platform mode the image is used in (default: the profile's, or layered for files)
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Explain a rule (`R003` or its name) and exit
    #[arg(long, value_name = "RULE")]
    explain: Option<String>,
    /// A folder of template packs used ahead of the built-in ones (repeatable)
    #[arg(long = "pack-dir", value_name = "DIR")]
    pack_dirs: Vec<PathBuf>,
}

impl LintArgs {
    fn command(self) -> Command {
        let LintArgs {
            files,
            select,
            role,
            mode,
            format,
            explain,
            pack_dirs,
        } = self;
        Command::Lint(LintRequest {
            pack_dirs,
            files,
            selection: select.into_selection(),
            role,
            mode: mode.map(mode_of),
            json: matches!(format, Format::Json),
            explain,
        })
    }
}

// `imggen build`'s flags.
#[derive(Args)]
struct BuildArgs {
    #[command(flatten)]
    select: Select,
    /// The rendered folder (rendered first when it does not exist)
    #[arg(short, long, value_name = "DIR", default_value = crate::pipeline::run::DEFAULT_OUT)]
    out: PathBuf,
    /// Engine to build with (default: the first usable of docker, podman, buildah, nerdctl)
    #[arg(long, value_parser = engine_arg())]
    engine: Option<&'static Kind>,
    /// Push each image after it builds, and print the digest the registry stored
    #[arg(long)]
    push: bool,
    /// With --push: record the pushed digests in imggen.lock and render again, so `.env`
    /// points at each image as `name:tag@digest`
    #[arg(long, requires = "push")]
    pin: bool,
    /// Build every step again, reusing no cached layer (each engine keeps the last build's
    /// layers otherwise; buildah with --layers)
    #[arg(long)]
    no_cache: bool,
    /// Build up to N images at once, each line of their output after the image's folder
    /// (default: the number of cores; 1 leaves the terminal to the engine)
    #[arg(short, long, value_name = "N")]
    jobs: Option<std::num::NonZeroUsize>,
    /// Only these images, comma-separated
    #[arg(long, value_delimiter = ',', value_name = "ROLES", value_parser = role_arg())]
    only: Vec<&'static Role>,
    /// A folder of template packs used ahead of the built-in ones (repeatable)
    #[arg(long = "pack-dir", value_name = "DIR")]
    pack_dirs: Vec<PathBuf>,
}

impl BuildArgs {
    fn command(self) -> Command {
        let BuildArgs {
            select,
            out,
            engine,
            push,
            pin,
            no_cache,
            jobs,
            only,
            pack_dirs,
        } = self;
        Command::Build(BuildRequest {
            selection: select.into_selection(),
            out,
            engine,
            push,
            no_cache,
            jobs: jobs.map_or_else(
                || std::thread::available_parallelism().map_or(1, usize::from),
                usize::from,
            ),
            pin,
            only,
            pack_dirs,
        })
    }
}

// `imggen lock`'s flags.
#[derive(Args)]
struct LockArgs {
    #[command(flatten)]
    select: Select,
    /// Ask again and exit 1 when a tag points elsewhere than its pin; write nothing
    #[arg(long, conflicts_with = "update")]
    check: bool,
    /// Ask again and move the pins: of these images (references or roles), or of all
    #[arg(long, num_args = 0.., value_name = "IMAGE")]
    update: Option<Vec<String>>,
}

impl LockArgs {
    fn command(self) -> Command {
        let LockArgs {
            select,
            check,
            update,
        } = self;
        Command::Lock(LockRequest {
            selection: select.into_selection(),
            mode: match (check, update) {
                (true, _) => LockMode::Check,
                (false, Some(names)) => LockMode::Update(names),
                (false, None) => LockMode::Add,
            },
        })
    }
}

// `imggen mirror`'s flags.
#[derive(Args)]
struct MirrorArgs {
    #[command(flatten)]
    select: Select,
    /// The registry to fill (default: the profile's `corporate.registry`)
    #[arg(long, value_name = "REGISTRY")]
    to: Option<String>,
    /// Read the upstream images from this registry instead of their own
    #[arg(long, value_name = "REGISTRY")]
    from: Option<String>,
    /// Copy only this platform of multi-platform images, e.g. `linux/amd64` (default: all)
    #[arg(long = "platform", value_name = "OS/ARCH", value_parser = platform_arg)]
    platforms: Vec<String>,
    /// Ask the registries and print the plan; copy nothing
    #[arg(long)]
    dry_run: bool,
}

impl MirrorArgs {
    fn command(self) -> Command {
        let MirrorArgs {
            select,
            to,
            from,
            platforms,
            dry_run,
        } = self;
        Command::Mirror(MirrorRequest {
            selection: select.into_selection(),
            mirror: crate::registry::mirror::Request {
                to,
                from,
                platforms,
                dry_run,
            },
        })
    }
}

// `imggen test`'s flags.
#[derive(Args)]
struct TestArgs {
    #[command(flatten)]
    select: Select,
    /// Engine to run with (default: the first usable of docker, podman, buildah, nerdctl)
    #[arg(long, value_parser = engine_arg())]
    engine: Option<&'static Kind>,
    /// Test this image instead of the profile's, e.g. `postgres=myorg/postgres:17` (repeatable)
    #[arg(long = "image", value_name = "ROLE=IMAGE", value_parser = built_role_image)]
    images: Vec<(&'static Role, String)>,
    /// Only these images, comma-separated
    #[arg(long, value_delimiter = ',', value_name = "ROLES", value_parser = role_arg())]
    only: Vec<&'static Role>,
    /// A folder of template packs used ahead of the built-in ones (repeatable)
    #[arg(long = "pack-dir", value_name = "DIR")]
    pack_dirs: Vec<PathBuf>,
}

impl TestArgs {
    fn command(self) -> Command {
        let TestArgs {
            select,
            engine,
            images,
            only,
            pack_dirs,
        } = self;
        Command::Test(TestRequest {
            selection: select.into_selection(),
            engine,
            images,
            only,
            pack_dirs,
        })
    }
}

// `imggen apply`'s flags.
#[derive(Args)]
struct ApplyArgs {
    #[command(flatten)]
    select: Select,
    /// The platform checkout (the folder holding platform-infrastructure/, openmetadata/, ...)
    #[arg(long, value_name = "DIR")]
    platform: PathBuf,
    /// Where the build contexts go (default: DIR/imggen inside the checkout)
    #[arg(short, long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// A folder of template packs used ahead of the built-in ones (repeatable)
    #[arg(long = "pack-dir", value_name = "DIR")]
    pack_dirs: Vec<PathBuf>,
    /// Print what would change, file by file, as a diff; write nothing
    #[arg(long, conflicts_with = "check")]
    dry_run: bool,
    /// Exit 1 when the checkout differs from what apply would write; write nothing
    #[arg(long)]
    check: bool,
    /// With --check: only what a clone of the platform's repository holds (the build
    /// contexts), not the files its .gitignore keeps out (.env, overrides, the wizard's
    /// platform-config.yaml), which apply makes on each machine
    #[arg(long, requires = "check")]
    committed: bool,
    /// Overwrite values and files changed by hand since the last apply
    #[arg(long)]
    force: bool,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

impl ApplyArgs {
    fn command(self) -> Command {
        let ApplyArgs {
            select,
            platform,
            out,
            pack_dirs,
            dry_run,
            check,
            committed,
            force,
            format,
        } = self;
        Command::Apply(crate::platform::apply::ApplyRequest {
            selection: select.into_selection(),
            platform,
            out,
            pack_dirs,
            dry_run,
            check,
            committed,
            force,
            json: matches!(format, Format::Json),
        })
    }
}

/// `imggen init`'s flags: the answers a run takes without asking.
#[derive(Args)]
struct InitArgs {
    /// The built-in profile to start from; its mode and distro are the defaults
    #[arg(long, value_name = "PROFILE")]
    from: Option<String>,
    /// The image the platform runs for a role: what `.env` points at. For a role the profile
    /// can build (it renders its Dockerfile), this is the name to build it as, and it is
    /// built; for another, the image is used as is. E.g. `--image
    /// python=myorg/python:3.11-custom` or `--image mockserver=mirror/mockserver:5` (repeatable)
    #[arg(long = "image", value_name = "ROLE=IMAGE", value_parser = role_image)]
    images: Vec<(&'static Role, String)>,
    /// The base image a built role starts `FROM`, e.g. `--base python=python:3.12-slim`;
    /// for a role that is not built, the image the platform runs as is (repeatable)
    #[arg(long = "base", value_name = "ROLE=IMAGE", value_parser = built_role_image)]
    bases: Vec<(&'static Role, String)>,
    /// Layered (installs at start) or prebuilt (everything baked in)
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,
    /// Base family
    #[arg(long, value_enum)]
    distro: Option<DistroArg>,
    /// No custom images: keep the base profile's
    #[arg(long)]
    no_custom_images: bool,
    /// Behind a corporate network: ask for (or take the flags of) CA, registry, index, proxy
    #[arg(long)]
    corporate: bool,
    /// Not behind a corporate network
    #[arg(long, conflicts_with = "corporate")]
    no_corporate: bool,
    /// A development-only profile (allows password-less PostgreSQL)
    #[arg(long)]
    development: bool,
    /// Not a development profile
    #[arg(long, conflicts_with = "development")]
    no_development: bool,
    /// Corporate CA certificate files (PEM; repeatable)
    #[arg(long = "ca-cert", value_name = "FILE")]
    ca_certs: Vec<String>,
    /// Registry prefix put in front of every upstream image
    #[arg(long, value_name = "HOST[:PORT][/PATH]")]
    registry: Option<String>,
    /// Private Python package index (PIP_INDEX_URL)
    #[arg(long, value_name = "URL")]
    pip_index_url: Option<String>,
    /// Host pip trusts without TLS verification (PIP_TRUSTED_HOST)
    #[arg(long, value_name = "HOST")]
    pip_trusted_host: Option<String>,
    /// Build-time HTTP proxy (a build argument, never stored in images)
    #[arg(long, value_name = "URL")]
    http_proxy: Option<String>,
    /// Build-time HTTPS proxy (a build argument, never stored in images)
    #[arg(long, value_name = "URL")]
    https_proxy: Option<String>,
    /// Hosts reached without the proxy, comma-separated
    #[arg(long, value_name = "HOSTS")]
    no_proxy: Option<String>,
    /// Password-less PostgreSQL (development profiles only)
    #[arg(long)]
    trust_auth: bool,
    /// Keep password authentication in a development profile
    #[arg(long, conflicts_with = "trust_auth")]
    no_trust_auth: bool,
    /// The profile to write, or to edit in place when it exists: a name is
    /// `profiles/NAME.toml` (as `render -p NAME` finds it), a path is that file
    #[arg(short, long = "profile", value_name = "PROFILE")]
    profile: Option<PathBuf>,
    /// Render into generated/ after writing
    #[arg(long)]
    render: bool,
    /// Do not render after writing
    #[arg(long, conflicts_with = "render")]
    no_render: bool,
    /// Take the default of every question no flag answers, and write without asking
    #[arg(short, long, visible_alias = "defaults")]
    yes: bool,
}

/// What `init` is told by its flags, in the wizard's terms.
fn init_answers(args: InitArgs) -> init::Answers {
    let InitArgs {
        from,
        images,
        bases,
        mode,
        distro,
        no_custom_images,
        corporate,
        no_corporate,
        development,
        no_development,
        ca_certs,
        registry,
        pip_index_url,
        pip_trusted_host,
        http_proxy,
        https_proxy,
        no_proxy,
        trust_auth,
        no_trust_auth,
        profile,
        render,
        no_render,
        yes,
    } = args;
    init::Answers {
        from,
        custom_images: no_custom_images.then_some(false),
        images: images
            .into_iter()
            .map(|(role, image)| (role.key.to_string(), image))
            .collect(),
        bases: bases
            .into_iter()
            .map(|(role, image)| (role.key.to_string(), image))
            .collect(),
        mode: mode.map(mode_of),
        distro: distro.map(|d| match d {
            DistroArg::Alpine => model::Distro::Alpine,
            DistroArg::Debian => model::Distro::Debian,
        }),
        corporate: yes_no(corporate, no_corporate),
        ca_certs: (!ca_certs.is_empty()).then_some(ca_certs),
        registry,
        pip_index_url,
        pip_trusted_host,
        http_proxy,
        https_proxy,
        no_proxy,
        development: yes_no(development, no_development),
        trust_auth: yes_no(trust_auth, no_trust_auth),
        profile: profile.as_deref().map(source::file_for),
        render: yes_no(render, no_render),
        yes,
    }
}

/// `imggen man`: one page printed, or every page written into a folder.
fn man(page: Option<String>, out: Option<PathBuf>, force: bool) -> Result<Command, clap::Error> {
    let pages = man_pages();
    if let Some(out) = out {
        return Ok(Command::ManPages { out, pages, force });
    }
    let file = format!(
        "imggen{}.1",
        page.as_ref().map_or(String::new(), |p| format!("-{p}"))
    );
    match pages.into_iter().find(|(name, _)| *name == file) {
        Some((_, roff)) => Ok(Command::Print(roff)),
        None => {
            let names: Vec<String> = man_pages()
                .iter()
                .filter_map(|(name, _)| {
                    name.strip_prefix("imggen-")?
                        .strip_suffix(".1")
                        .map(str::to_string)
                })
                .collect();
            Err(Cli::command().error(
                clap::error::ErrorKind::InvalidValue,
                format!(
                    "no man page for `{}`; the pages are imggen's own and: {}",
                    page.unwrap_or_default(),
                    names.join(", ")
                ),
            ))
        }
    }
}

/// Parses `args`; `Err` carries clap's own message (help and version included).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, clap::Error> {
    let cli = Cli::try_parse_from(args)?;
    Ok(match cli.command {
        Sub::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "imggen", &mut out);
            Command::Print(out)
        }
        Sub::Man { page, out, force } => man(page, out, force)?,
        Sub::Render(args) => args.command(),
        Sub::Check(args) => args.command(),
        Sub::Diff(args) => args.command(),
        Sub::Vendor(args) => args.command(),
        Sub::Lint(args) => args.command(),
        Sub::Build(args) => args.command(),
        Sub::Lock(args) => args.command(),
        Sub::Mirror(args) => args.command(),
        Sub::Test(args) => args.command(),
        Sub::Set { values, profile } => Command::Edit(EditRequest {
            profile: source::file_for(&profile),
            set: values,
            unset: vec![],
        }),
        Sub::Unset { keys, profile } => Command::Edit(EditRequest {
            profile: source::file_for(&profile),
            set: vec![],
            unset: keys,
        }),
        Sub::Schema => Command::Schema,
        Sub::Init(args) => Command::Init(init_answers(args)),
        Sub::Show { select, format } => Command::Show(ShowRequest {
            selection: select.into_selection(),
            json: matches!(format, Format::Json),
        }),
        Sub::Apply(args) => args.command(),
        Sub::List {
            what: List::Profiles,
            ..
        } => Command::List(ListWhat::Profiles),
        Sub::List {
            what: List::Packs,
            pack_dirs,
        } => Command::List(ListWhat::Packs { pack_dirs }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Answers every question (yes to every confirm, so every follow-up is asked too) and
    /// records the flag each question names.
    struct Recorder(Vec<String>);

    impl init::Prompter for Recorder {
        fn select(
            &mut self,
            flag: &str,
            _: &str,
            _: &[(String, String)],
            default: usize,
        ) -> crate::error::Result<usize> {
            self.0.push(flag.into());
            Ok(default)
        }
        fn input(
            &mut self,
            flag: &str,
            _: &str,
            default: &str,
            _: &dyn Fn(&str) -> Option<crate::error::Reason>,
        ) -> crate::error::Result<String> {
            self.0.push(flag.into());
            Ok(default.into())
        }
        fn confirm(&mut self, flag: &str, _: &str, _: bool) -> crate::error::Result<bool> {
            self.0.push(flag.into());
            Ok(true)
        }
    }

    #[test]
    fn every_flag_a_wizard_question_names_exists_and_parses() {
        let mut recorder = Recorder(Vec::new());
        let answers = init::Answers {
            profile: Some("target/never-written.toml".into()),
            ..init::Answers::default()
        };
        init::plan(&answers, &mut recorder).expect("every question answered");
        let flags = recorder.0;
        for expected in [
            "--no-custom-images",
            "--mode",
            "--corporate|--no-corporate",
            "--ca-cert",
            "--trust-auth|--no-trust-auth",
        ] {
            assert!(
                flags.iter().any(|f| f == expected),
                "{expected} asked: {flags:?}"
            );
        }
        let command = Cli::command();
        let init = command.find_subcommand("init").expect("init exists");
        // `--corporate|--no-corporate`: either answers the question.
        for flag in flags.iter().flat_map(|f| f.split('|')) {
            // `--image python-runtime=IMAGE`: the flag, then an example value.
            let mut words = flag.split_whitespace();
            let name = words.next().expect("a flag").trim_start_matches("--");
            let arg = init
                .get_arguments()
                .find(|a| a.get_long() == Some(name))
                .unwrap_or_else(|| panic!("`{flag}` is not a flag of `imggen init`"));
            let mut argv = vec!["imggen".to_string(), "init".into(), format!("--{name}")];
            if arg.get_action().takes_values() {
                let possible = arg.get_possible_values();
                let value = match (words.next(), possible.first()) {
                    (Some(example), _) => example.replace("IMAGE", "x:1"),
                    (None, Some(first)) => first.get_name().to_string(),
                    (None, None) => "x".to_string(),
                };
                argv.push(value);
            }
            Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        }
    }

    #[test]
    fn every_flag_an_error_message_names_exists() {
        // Every `` `--flag` `` in error.rs's wording (not its comments) is a flag of some command.
        let command = Cli::command();
        let longs: Vec<String> = command
            .get_subcommands()
            .flat_map(|sub| sub.get_arguments())
            .filter_map(|arg| arg.get_long().map(|l| format!("--{l}")))
            .collect();
        let wording = include_str!("../error.rs")
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut named = 0;
        for piece in wording.split("`--").skip(1) {
            let flag: String = piece
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                .collect();
            if !flag.starts_with(|c: char| c.is_ascii_lowercase()) {
                continue; // `-----BEGIN CERTIFICATE-----`, not a flag
            }
            let flag = format!("--{flag}");
            assert!(
                longs.contains(&flag),
                "error.rs names `{flag}`, which no command has"
            );
            named += 1;
        }
        assert!(named >= 2, "the scan found the flags error.rs names");
    }

    #[test]
    fn every_example_in_the_help_parses() {
        let command = Cli::command();
        let mut checked = 0;
        for sub in command.get_subcommands() {
            let Some(help) = sub.get_after_help().map(|h| h.to_string()) else {
                continue;
            };
            // Lines of one example end in `\` when they go on.
            let joined = help.replace("\\\n", " ");
            for line in joined
                .lines()
                .filter(|l| l.trim_start().starts_with("imggen "))
            {
                let command_line = line.split(" # ").next().unwrap_or(line);
                let command_line = command_line.split(" > ").next().unwrap_or(command_line);
                let command_line = command_line.split(" && ").next().unwrap_or(command_line);
                let command_line = command_line.split(" | ").next().unwrap_or(command_line);
                let words = shell_words(command_line.trim());
                Cli::try_parse_from(&words)
                    .unwrap_or_else(|e| panic!("`{}` example `{line}`: {e}", sub.get_name()));
                checked += 1;
            }
        }
        assert!(checked >= 30, "found the examples ({checked})");
    }

    /// Splits an example like a shell would, for the quoting the examples use ('…').
    fn shell_words(line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word = String::new();
        let mut quoted = false;
        let mut started = false;
        for c in line.chars() {
            match c {
                '\'' => {
                    quoted = !quoted;
                    started = true;
                }
                ' ' if !quoted => {
                    if started {
                        words.push(std::mem::take(&mut word));
                        started = false;
                    }
                }
                c => {
                    word.push(c);
                    started = true;
                }
            }
        }
        if started {
            words.push(word);
        }
        words
    }
}
