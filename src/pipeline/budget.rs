//! What one template of a pack on disk may cost to render: time, memory, and the size of the
//! file it produces.
//!
//! Packs on disk arrive in pull requests, like profiles, and CI renders them. Tera caps one
//! `range` at 100,000 numbers, but two nested loops run for hours, and a `set_global` that
//! doubles a string fills the machine's memory in seconds. So a render that uses a pack on disk
//! is watched: a thread started with the first such render checks every few milliseconds how
//! long the oldest running template has taken and how much memory the process holds, and past a
//! bound it reports the template and ends the process with status 2. Templates are rendered
//! before anything is written (`render --all` renders every profile once before its first
//! write), so nothing has been written when it fires. The built-in packs are part of imggen and
//! are not watched, which keeps a render with them free of the thread.
//!
//! Every template's output, built-in or not, is capped at [`MAX_OUTPUT`] as it is produced.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::error::{Bound, Error, Result};

/// The largest file a template may produce: the most imggen reads back of any file.
pub const MAX_OUTPUT: u64 = crate::output::confine::MAX_FILE;

/// The environment variables that raise or lower the bounds of [`Limits`], for a slow machine
/// or a test. They are read from the environment, never from the project: a pull request that
/// could raise its own bounds would not be bounded.
pub const SECONDS_VAR: &str = crate::names::RENDER_SECONDS_VAR;
pub const MEGABYTES_VAR: &str = crate::names::RENDER_MEGABYTES_VAR;

/// How often the watchdog looks.
const TICK: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest one template may take to render.
    pub seconds: u64,
    /// Most memory the whole process may hold (resident) while a watched template renders.
    pub megabytes: u64,
}

impl Limits {
    /// Ten seconds for one template (a built-in one takes well under a millisecond) and 1 GiB
    /// for the process (`render --all` over 10,005 profiles peaks at 24 MB).
    pub const DEFAULT: Limits = Limits {
        seconds: 10,
        megabytes: 1024,
    };

    /// The defaults, with what the environment sets through [`SECONDS_VAR`] and
    /// [`MEGABYTES_VAR`] (whole numbers from 1).
    pub fn from_env(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Result<Limits> {
        let read = |name: &'static str, default: u64| -> Result<u64> {
            let Some(value) = var(name) else {
                return Ok(default);
            };
            let text = value.to_string_lossy();
            match text.trim().parse::<u64>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(Error::BadBoundVar {
                    var: name,
                    value: text.into_owned(),
                }),
            }
        };
        Ok(Limits {
            seconds: read(SECONDS_VAR, Self::DEFAULT.seconds)?,
            megabytes: read(MEGABYTES_VAR, Self::DEFAULT.megabytes)?,
        })
    }
}

/// Renders one template into memory: its output capped at [`MAX_OUTPUT`], and, when `watched`,
/// under the watchdog's bounds. `template` is the name Tera knows it by (its file, as shown),
/// `profile` the profile it renders for.
pub fn render(
    tera: &tera::Tera,
    template: &str,
    context: &tera::Context,
    profile: &str,
    watched: bool,
) -> Result<String> {
    let _watch = if watched {
        Some(Watch::start(template, profile)?)
    } else {
        None
    };
    // Most generated files are under 4 KiB: one allocation, not one per doubling.
    let mut out = Capped {
        bytes: Vec::with_capacity(4096),
        over: false,
    };
    if let Err(error) = tera.render_to(template, context, &mut out) {
        return Err(if out.over {
            Error::RenderBound {
                template: template.to_string(),
                profile: profile.to_string(),
                bound: Bound::Output(MAX_OUTPUT),
            }
        } else {
            Error::Template(error)
        });
    }
    // Tera writes text only, so the bytes are UTF-8; a failure here would be Tera's bug, and
    // is reported as a template error rather than a panic.
    String::from_utf8(out.bytes).map_err(|e| Error::Template(e.into()))
}

/// A buffer that refuses to grow past [`MAX_OUTPUT`], remembering that it did.
struct Capped {
    bytes: Vec<u8>,
    over: bool,
}

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf).map(|()| buf.len())
    }

    /// Tera writes with `write_all`: taken whole or refused, without the default's loop.
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if (self.bytes.len() + buf.len()) as u64 > MAX_OUTPUT {
            self.over = true;
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "rendered file too large",
            ));
        }
        self.bytes.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One watched render in progress.
struct Running {
    started: Instant,
    template: String,
    profile: String,
}

struct Watchdog {
    limits: Limits,
    running: Mutex<Vec<(u64, Running)>>,
    /// Why its thread could not start: then no watched render may run.
    failed: Option<std::io::ErrorKind>,
}

/// The watchdog and its renders in progress; `None` until the first watched render starts it.
static WATCHDOG: OnceLock<Watchdog> = OnceLock::new();
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A watched render, from its start until it is dropped.
struct Watch {
    id: u64,
    dog: &'static Watchdog,
}

impl Watch {
    fn start(template: &str, profile: &str) -> Result<Watch> {
        let dog = match WATCHDOG.get() {
            Some(dog) => dog,
            None => {
                let limits = Limits::from_env(|name| std::env::var_os(name))?;
                // The thread is started inside the initialisation, so every render sees
                // whether it runs: none may go unwatched because another's start failed.
                WATCHDOG.get_or_init(|| {
                    let thread = std::thread::Builder::new()
                        .name("imggen-watchdog".into())
                        .spawn(|| WATCHDOG.wait().watch());
                    Watchdog {
                        limits,
                        running: Mutex::new(Vec::new()),
                        failed: thread.err().map(|e| e.kind()),
                    }
                })
            }
        };
        if let Some(kind) = dog.failed {
            return Err(Error::Watchdog(kind.into()));
        }
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        dog.lock().push((
            id,
            Running {
                started: Instant::now(),
                template: template.to_string(),
                profile: profile.to_string(),
            },
        ));
        Ok(Watch { id, dog })
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.dog.lock().retain(|(id, _)| *id != self.id);
    }
}

impl Watchdog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, Running)>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs for the rest of the process: past a bound, reports and exits with status 2.
    fn watch(&self) {
        let time = Duration::from_secs(self.limits.seconds);
        let memory = self.limits.megabytes.saturating_mul(1024 * 1024);
        loop {
            std::thread::sleep(TICK);
            let running = self.lock();
            let Some((_, oldest)) = running.iter().min_by_key(|(_, r)| r.started) else {
                continue;
            };
            let bound = if oldest.started.elapsed() > time {
                Bound::Seconds(self.limits.seconds)
            } else if resident_bytes().is_some_and(|held| held > memory) {
                Bound::Megabytes(self.limits.megabytes)
            } else {
                continue;
            };
            let error = Error::RenderBound {
                template: oldest.template.clone(),
                profile: oldest.profile.clone(),
                bound,
            };
            error.print();
            std::process::exit(error.exit_status().into());
        }
    }
}

/// The process's resident memory in bytes (`VmRSS` of `/proc/self/status`), if the kernel says.
fn resident_bytes() -> Option<u64> {
    let kilobytes: u64 = crate::output::files::proc_status("VmRSS")?
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kilobytes * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An environment holding `name` = `value` only.
    fn one(name: &'static str, value: &'static str) -> impl Fn(&str) -> Option<std::ffi::OsString> {
        move |asked| (asked == name).then(|| value.into())
    }

    #[test]
    fn limits_come_from_the_environment_or_the_defaults() {
        assert_eq!(
            Limits::from_env(|_| None).expect("defaults"),
            Limits::DEFAULT
        );
        let seconds = Limits::from_env(one(SECONDS_VAR, "2")).expect("set");
        assert_eq!(seconds.seconds, 2);
        assert_eq!(seconds.megabytes, Limits::DEFAULT.megabytes);
        let megabytes = Limits::from_env(one(MEGABYTES_VAR, " 64 ")).expect("set");
        assert_eq!(megabytes.megabytes, 64);
        for bad in ["0", "-1", "1.5", "ten", ""] {
            let error = Limits::from_env(one(MEGABYTES_VAR, bad)).expect_err(bad);
            assert!(
                error.to_string().starts_with(MEGABYTES_VAR),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn output_past_the_cap_is_refused_and_output_at_the_cap_is_kept() {
        let cap = usize::try_from(MAX_OUTPUT).expect("fits");
        let mut tera = tera::Tera::new();
        tera.add_raw_templates([
            ("thrice", "{% for i in range(end=3) %}{{ big }}{% endfor %}"),
            ("once", "{{ big }}"),
        ])
        .expect("parses");
        let mut context = tera::Context::new();
        context.insert("big", &"y".repeat(cap / 2));
        let error = render(&tera, "thrice", &context, "p", false).expect_err("over the cap");
        assert!(
            matches!(
                &error,
                Error::RenderBound {
                    bound: Bound::Output(MAX_OUTPUT),
                    ..
                }
            ),
            "{error}"
        );
        context.insert("big", &"z".repeat(cap));
        let text = render(&tera, "once", &context, "p", false).expect("at the cap");
        assert_eq!(text.len(), cap);
    }

    #[test]
    fn a_template_error_stays_a_template_error() {
        let mut tera = tera::Tera::new();
        tera.add_raw_template("t", "{{ nope }}").expect("parses");
        let error = render(&tera, "t", &tera::Context::new(), "p", false).expect_err("undefined");
        assert!(matches!(error, Error::Template(_)), "{error}");
    }

    #[test]
    fn resident_memory_is_read() {
        assert!(resident_bytes().expect("Linux reports it") > 0);
    }
}
