//! `gallery-painter console set-password`: the staff password of the curator console.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct ConsoleArgs {
    #[command(subcommand)]
    pub action: ConsoleAction,
}

#[derive(Subcommand, Debug)]
pub enum ConsoleAction {
    /// Set the staff password (asked twice; stored as an argon2id hash, mode 0600, in the
    /// console's state directory). Signed-in browsers stay signed in until they sign out.
    SetPassword {
        /// Installation config (RON): where the state directory is.
        #[arg(long, default_value = "config/installation.ron")]
        config: PathBuf,
        /// Read the password from the first line of standard input (for scripts), without asking.
        #[arg(long)]
        password_stdin: bool,
    },
}

pub fn run(args: ConsoleArgs) -> anyhow::Result<()> {
    match args.action {
        ConsoleAction::SetPassword { config, password_stdin } => {
            let (cfg, root) = super::run::load_config(&config)?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            } else {
                let first = rpassword::prompt_password("New staff password: ")?;
                let again = rpassword::prompt_password("The same again: ")?;
                if first != again {
                    anyhow::bail!("the two passwords differ; nothing was changed\n  fix: run the command again");
                }
                first
            };
            let state_dir = cfg.console.state_dir(&root);
            let path = crate::console::auth::set_password(&state_dir, &password)
                .map_err(|e| anyhow::anyhow!("{e}\n  fix: choose another password and run the command again"))?;
            tracing::info!(target: "audit", "staff password set ({}) by {} on this machine", path.display(), whoami());
            println!("the staff password is set ({}); sign in at http://{}/login", path.display(), cfg.console.listen);
            if !cfg.console.enabled {
                println!(
                    "note: the console is off in the config; turn it on with console: (enabled: true, ...) or run --console ADDR"
                );
            }
            Ok(())
        }
    }
}

/// The login name running the command, for the audit line.
fn whoami() -> String {
    std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "an unknown user".into())
}
