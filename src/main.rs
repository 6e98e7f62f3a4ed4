/// mimalloc: `check --all` and `render --all` spend a quarter of their instructions in the
/// allocator, and mimalloc's are fewer (see docs/performance.md). Built without transparent
/// huge pages (`no_thp`): with them, `render --all` over 10,005 profiles peaked at 45 MB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(imggen::run(std::env::args_os()))
}
