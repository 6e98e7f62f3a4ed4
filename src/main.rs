fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(imggen::run(std::env::args_os()))
}
