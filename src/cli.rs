//! The command line (clap lives here and nowhere else): parsed, then turned into plain requests.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands::{
    BuildRequest, CheckRequest, Command, DiffRequest, EditRequest, LintRequest, ListWhat,
    RenderRequest, TestRequest, VendorAction, VendorRequest,
};
use crate::engine::Kind;
use crate::init;
use crate::lint::Role;
use crate::pipeline::Target;
use crate::profile::Selection;
use crate::profile::model;

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
    #[arg(short, long, value_name = "DIR", default_value = "generated")]
    out: PathBuf,
    /// Every known profile (built-in and ./profiles/), each into DIR/<profile>/
    #[arg(long, conflicts_with_all = ["profiles", "sets"])]
    all: bool,
    /// A folder of template packs used ahead of the built-in ones (repeatable)
    #[arg(long = "pack-dir", value_name = "DIR")]
    pack_dirs: Vec<PathBuf>,
}

#[derive(Subcommand)]
enum Sub {
    /// Render every output of the selected profile into the output folder
    Render {
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
    },
    /// Check that the output folder holds exactly what the profile renders (exit 1 if not)
    Check {
        #[command(flatten)]
        select: Select,
        #[command(flatten)]
        out: Out,
        /// Output format
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Show how the render of one profile selection differs from another's (exit 1 if it does)
    Diff {
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
    },
    /// Copy built-in template packs to disk for your org to own (see --status, --update)
    Vendor {
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
    },
    /// Build the images the profile names tags for, from the rendered folder (exit 1 if one fails)
    Build {
        #[command(flatten)]
        select: Select,
        /// The rendered folder (rendered first when it does not exist)
        #[arg(short, long, value_name = "DIR", default_value = "generated")]
        out: PathBuf,
        /// Engine to build with (default: the first usable of docker, podman, buildah)
        #[arg(long, value_enum)]
        engine: Option<EngineArg>,
        /// Push each image after it builds
        #[arg(long)]
        push: bool,
        /// Only these images (python-runtime, kerberos-test, postgres), comma-separated
        #[arg(long, value_delimiter = ',', value_name = "IMAGES")]
        only: Vec<String>,
        /// A folder of template packs used ahead of the built-in ones (repeatable)
        #[arg(long = "pack-dir", value_name = "DIR")]
        pack_dirs: Vec<PathBuf>,
    },
    /// Run the platform's image tests against the built images (exit 1 if one fails)
    Test {
        #[command(flatten)]
        select: Select,
        /// Engine to run with (default: the first usable of docker, podman, buildah)
        #[arg(long, value_enum)]
        engine: Option<EngineArg>,
        /// Test this image instead of the profile's, e.g. `postgres=myorg/postgres:17` (repeatable)
        #[arg(long = "image", value_name = "ROLE=IMAGE")]
        images: Vec<String>,
        /// Only these images (python-runtime, kerberos-test, postgres), comma-separated
        #[arg(long, value_delimiter = ',', value_name = "IMAGES")]
        only: Vec<String>,
        /// A folder of template packs used ahead of the built-in ones (repeatable)
        #[arg(long = "pack-dir", value_name = "DIR")]
        pack_dirs: Vec<PathBuf>,
    },
    /// Check Dockerfiles against the platform's image requirements (exit 1 on findings)
    Lint {
        /// Dockerfiles to check; none: the selected profile's rendered Dockerfiles
        #[arg(value_name = "FILE")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        select: Select,
        /// What the image is for (default: from the file's folder name)
        #[arg(long, value_enum)]
        role: Option<LintRole>,
        /// The platform mode the image is used in (default: the profile's, or layered for files)
        #[arg(long, value_enum)]
        mode: Option<ModeArg>,
        /// Output format
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Explain a rule (`R003` or its name) and exit
        #[arg(long, value_name = "RULE")]
        explain: Option<String>,
    },
    /// The setup wizard: asks (or takes flags for) what differs from a built-in, writes a profile
    Init {
        /// The built-in profile to start from
        #[arg(long, value_name = "PROFILE")]
        from: Option<String>,
        /// Custom images: `python=IMAGE`, `kerberos_test=`, `postgres=`, `openmetadata_server=`,
        /// `opensearch=` (repeatable)
        #[arg(long = "image", value_name = "ROLE=IMAGE")]
        images: Vec<String>,
        /// Layered (installs at start) or prebuilt (everything baked in)
        #[arg(long, value_enum)]
        mode: Option<ModeArg>,
        /// Base family
        #[arg(long, value_enum)]
        distro: Option<DistroArg>,
        /// Answer "no" to custom images / the corporate network / development
        #[arg(long)]
        no_custom_images: bool,
        #[arg(long)]
        no_corporate: bool,
        #[arg(long)]
        development: bool,
        #[arg(long, conflicts_with = "development")]
        no_development: bool,
        /// Corporate CA certificate files (PEM; repeatable)
        #[arg(long = "ca-cert", value_name = "FILE")]
        ca_certs: Vec<String>,
        #[arg(long, value_name = "HOST[:PORT][/PATH]")]
        registry: Option<String>,
        #[arg(long, value_name = "URL")]
        pip_index_url: Option<String>,
        #[arg(long, value_name = "HOST")]
        pip_trusted_host: Option<String>,
        #[arg(long, value_name = "URL")]
        http_proxy: Option<String>,
        #[arg(long, value_name = "URL")]
        https_proxy: Option<String>,
        #[arg(long, value_name = "HOSTS")]
        no_proxy: Option<String>,
        /// Password-less PostgreSQL (development profiles only)
        #[arg(long)]
        trust_auth: bool,
        /// The profile file to write, or to edit in place when it exists
        #[arg(short, long = "profile", value_name = "FILE")]
        profile: Option<PathBuf>,
        /// Render into generated/ after writing (or --no-render)
        #[arg(long)]
        render: bool,
        #[arg(long, conflicts_with = "render")]
        no_render: bool,
        /// Write without asking for confirmation
        #[arg(short, long)]
        yes: bool,
    },
    /// Set values in a profile file in place, keeping its comments (checked before writing)
    Set {
        /// `dotted.key=value`, typed like `--set` (quote dotted names: `labels."a.b"=x`)
        #[arg(value_name = "KEY=VALUE", required = true)]
        values: Vec<String>,
        /// The profile file to edit (created when missing)
        #[arg(short, long = "profile", value_name = "FILE")]
        profile: PathBuf,
    },
    /// Remove values from a profile file in place, keeping its comments
    Unset {
        #[arg(value_name = "KEY", required = true)]
        keys: Vec<String>,
        /// The profile file to edit
        #[arg(short, long = "profile", value_name = "FILE")]
        profile: PathBuf,
    },
    /// Print the resolved profile, each value annotated with where it was set
    Show {
        #[command(flatten)]
        select: Select,
    },
    /// Print a JSON Schema of the profile format, for editors (Taplo, Even Better TOML)
    Schema,
    /// List the built-in and local profiles, or the template packs
    List {
        #[arg(value_enum)]
        what: List,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum EngineArg {
    Docker,
    Podman,
    Buildah,
}

#[derive(Clone, Copy, ValueEnum)]
enum DistroArg {
    Alpine,
    Debian,
}

#[derive(Clone, Copy, ValueEnum)]
enum LintRole {
    PythonRuntime,
    Postgres,
    KerberosTest,
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

fn engine_kind(engine: EngineArg) -> Kind {
    match engine {
        EngineArg::Docker => Kind::Docker,
        EngineArg::Podman => Kind::Podman,
        EngineArg::Buildah => Kind::Buildah,
    }
}

/// Parses `args`; `Err` carries clap's own message (help and version included).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, clap::Error> {
    let cli = Cli::try_parse_from(args)?;
    Ok(match cli.command {
        Sub::Render {
            select,
            out,
            force,
            dry_run,
        } => Command::Render(RenderRequest {
            target: target(select, out),
            force,
            dry_run,
        }),
        Sub::Check {
            select,
            out,
            format,
        } => Command::Check(CheckRequest {
            target: target(select, out),
            json: matches!(format, Format::Json),
        }),
        Sub::Diff {
            select,
            against,
            against_sets,
            pack_dirs,
        } => Command::Diff(DiffRequest {
            left: select.into_selection(),
            right: Selection {
                profiles: against,
                sets: against_sets,
            },
            pack_dirs,
        }),
        Sub::Vendor {
            packs,
            into,
            status,
            update,
        } => Command::Vendor(VendorRequest {
            packs,
            into,
            action: if status {
                VendorAction::Status
            } else if update {
                VendorAction::Update
            } else {
                VendorAction::Copy
            },
        }),
        Sub::Lint {
            files,
            select,
            role,
            mode,
            format,
            explain,
        } => Command::Lint(LintRequest {
            files,
            selection: select.into_selection(),
            role: role.map(|r| match r {
                LintRole::PythonRuntime => Role::PythonRuntime,
                LintRole::Postgres => Role::Postgres,
                LintRole::KerberosTest => Role::KerberosTest,
            }),
            mode: mode.map(mode_of),
            json: matches!(format, Format::Json),
            explain,
        }),
        Sub::Build {
            select,
            out,
            engine,
            push,
            only,
            pack_dirs,
        } => Command::Build(BuildRequest {
            selection: select.into_selection(),
            out,
            engine: engine.map(engine_kind),
            push,
            only,
            pack_dirs,
        }),
        Sub::Test {
            select,
            engine,
            images,
            only,
            pack_dirs,
        } => Command::Test(TestRequest {
            selection: select.into_selection(),
            engine: engine.map(engine_kind),
            images,
            only,
            pack_dirs,
        }),
        Sub::Set { values, profile } => Command::Edit(EditRequest {
            profile,
            set: values,
            unset: vec![],
        }),
        Sub::Unset { keys, profile } => Command::Edit(EditRequest {
            profile,
            set: vec![],
            unset: keys,
        }),
        Sub::Schema => Command::Schema,
        Sub::Init {
            from,
            images,
            mode,
            distro,
            no_custom_images,
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
            profile,
            render,
            no_render,
            yes,
        } => Command::Init(init::Answers {
            from,
            custom_images: no_custom_images.then_some(false),
            images: images
                .iter()
                .map(|pair| {
                    let (role, image) = pair.split_once('=').unwrap_or((pair, ""));
                    (role.to_string(), image.to_string())
                })
                .collect(),
            mode: mode.map(mode_of),
            distro: distro.map(|d| match d {
                DistroArg::Alpine => model::Distro::Alpine,
                DistroArg::Debian => model::Distro::Debian,
            }),
            corporate: no_corporate.then_some(false),
            ca_certs: (!ca_certs.is_empty()).then_some(ca_certs),
            registry,
            pip_index_url,
            pip_trusted_host,
            http_proxy,
            https_proxy,
            no_proxy,
            development: if development {
                Some(true)
            } else {
                no_development.then_some(false)
            },
            trust_auth: trust_auth.then_some(true),
            profile,
            render: if render {
                Some(true)
            } else {
                no_render.then_some(false)
            },
            yes,
        }),
        Sub::Show { select } => Command::Show(select.into_selection()),
        Sub::List {
            what: List::Profiles,
        } => Command::List(ListWhat::Profiles),
        Sub::List { what: List::Packs } => Command::List(ListWhat::Packs),
    })
}
