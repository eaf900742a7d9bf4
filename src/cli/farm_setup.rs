//! `gallery-painter farm-setup`: make the farm's streams and buckets, as the setup role.

use std::time::{Duration, Instant};

use clap::Args;

#[derive(Args, Debug)]
pub struct FarmSetupArgs {
    /// The setup role: `--user admin` of scripts/farm-certs.sh.
    #[command(flatten)]
    pub login: super::painter::FarmLogin,
    /// Each kiosk of the farm, as in its engine.remote.kiosk (repeat; run again to add kiosks).
    #[arg(long = "kiosk", required = true)]
    pub kiosks: Vec<String>,
    /// Copies of each stream and bucket: 1 on one server, 3 on a cluster of three (one
    /// server's loss then keeps every job, painting and lease).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub replicas: u8,
}

pub fn run(args: FarmSetupArgs) -> anyhow::Result<()> {
    let connection = args.login.connection();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let client = connection.connect("setup", "setup").await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while client.connection_state() != async_nats::connection::State::Connected {
            anyhow::ensure!(
                Instant::now() < deadline,
                "cannot reach the farm's server at {}\n  fix: start it (sudo systemctl start nats-server), and check --nats, --user and --ca",
                connection.url
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let js = async_nats::jetstream::new(client.clone());
        let max_payload = crate::farm::connection::max_payload(&client);
        let replicas = args.replicas as usize;
        let report = crate::farm::setup::set_up(&js, &args.kiosks, max_payload, replicas).await.map_err(|e| {
            let e = e.to_string();
            let fix = if e.contains("\n  fix:") {
                ""
            } else {
                "\n  fix: run it as the setup role (--user admin --password-file .../passwords/admin from scripts/farm-certs.sh)"
            };
            anyhow::anyhow!("cannot set the farm up on {}: {e}{fix}", connection.url)
        })?;
        for line in report {
            println!("farm-setup: {line}");
        }
        client.flush().await?;
        Ok(())
    })
}
