//! Real browsers for the tests: Debian's chromium driven through chromedriver (WebDriver on
//! loopback), and the helpers to stop what a test started.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Killer(pub Vec<Child>);
impl Drop for Killer {
    fn drop(&mut self) {
        for c in self.0.iter_mut().rev() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn need(tool: &str) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(ok, "{tool} is missing: run scripts/setup.sh (it installs the window test tools)");
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// chromedriver on a free loopback port, stopped on drop.
pub fn chromedriver() -> (Killer, String) {
    for tool in ["chromium", "chromedriver"] {
        need(tool);
    }
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let end = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < end, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (Killer(vec![child]), url)
}

/// A headless Chromium session with these options (`goog:chromeOptions`) added.
pub async fn chromium(driver: &str, args: &[&str], extra: serde_json::Value) -> fantoccini::Client {
    let mut options = serde_json::json!({
        "binary": "/usr/bin/chromium",
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    for a in args {
        options["args"].as_array_mut().unwrap().push(serde_json::json!(a));
    }
    if let serde_json::Value::Object(extra) = extra {
        for (k, v) in extra {
            options[k] = v;
        }
    }
    let caps = serde_json::json!({ "goog:chromeOptions": options });
    let serde_json::Value::Object(caps) = caps else { unreachable!() };
    fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(driver)
        .await
        .expect("a Chromium session through chromedriver")
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Clicks what `css` finds (answering "OK" to the question it asks when `confirm`) and waits
/// until the click has replaced the page. A form's answer or a link's page must not be
/// looked for on the old page: a `.done` left there by the last action would be found at once,
/// and the old page's elements go stale under the next click.
pub async fn click_through(client: &fantoccini::Client, css: &str, confirm: bool) {
    use fantoccini::Locator::Css;
    let old_page = client.find(Css("html")).await.unwrap();
    let target = client.find(Css(css)).await.unwrap_or_else(|e| panic!("nothing on the page matches {css}: {e}"));
    target.click().await.unwrap();
    if confirm {
        client.accept_alert().await.unwrap();
    }
    let end = Instant::now() + Duration::from_secs(60);
    while old_page.tag_name().await.is_ok() {
        assert!(Instant::now() < end, "clicking {css} did not lead to a new page: {:?}", client.current_url().await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client.wait().for_element(Css("body")).await.unwrap();
}
