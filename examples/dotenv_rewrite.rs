//! `dotenv_rewrite ENV-FILE KEY VALUE OUT-FILE KEPT-FILE`: what imggen reads for KEY in ENV-FILE
//! (printed as a JSON string, or `null`), and the file with KEY set to VALUE as `imggen apply`
//! writes it: into OUT-FILE dropping the values it replaces, into KEPT-FILE keeping them as
//! comments. Exit 3, printing the line, when a quote in the file never closes. Used by
//! `scripts/validate/dotenv_differential.py`, which compares all three with the real Compose v2.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [env, key, value, out, kept] = args.as_slice() else {
        eprintln!("usage: dotenv_rewrite ENV-FILE KEY VALUE OUT-FILE KEPT-FILE");
        return ExitCode::from(2);
    };
    let text = std::fs::read(env).expect("read the .env file");
    match imggen::harness::dotenv_read_and_set(&text, key, value) {
        Ok(rewrite) => {
            std::fs::write(out, rewrite.dropped).expect("write the rewritten file");
            std::fs::write(kept, rewrite.commented).expect("write the rewritten file");
            let read = rewrite
                .read
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
            println!("{}", serde_json::to_string(&read).expect("JSON"));
            ExitCode::SUCCESS
        }
        Err(line) => {
            println!("unclosed {line}");
            ExitCode::from(3)
        }
    }
}
