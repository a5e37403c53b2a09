//! The `eddy` binary: parses the command line and hands it to `eddy_cluster::cli`.

use clap::Parser;

fn main() {
    let cli = eddy_cluster::cli::Cli::parse();
    match eddy_cluster::cli::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            eprintln!("eddy: {error:#}");
            let code = if error
                .downcast_ref::<eddy_cluster::cli::BadInput>()
                .is_some()
            {
                eddy_cluster::cli::EXIT_BAD_INPUT
            } else {
                1
            };
            std::process::exit(code);
        }
    }
}
