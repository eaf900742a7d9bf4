//! The take-home page a visitor's phone opens: the painting, the artwork's label, a download
//! button and when the picture will be deleted. One small HTML page, no script, no external
//! resources, in the language the kiosk spoke when the painting was made.

use std::time::SystemTime;

use super::{Entry, ShareLabel};
use crate::i18n::{Arg, Catalog};

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
:root{color-scheme:dark}\
body{margin:0;background:#14110d;color:#fff5e0;font:17px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\
main{max-width:34rem;margin:0 auto;padding:1.25rem}\
h1{font-size:1.35rem;font-weight:600;margin:.25rem 0 1rem}\
img{display:block;width:100%;height:auto;border-radius:.4rem;box-shadow:0 .3rem 1.2rem #000a}\
.label{margin:.9rem 0;padding:.6rem .8rem;border-left:3px solid #f9d159;background:#ffffff0d}\
.label b{display:block;font-weight:600}.label small{display:block;opacity:.8}\
a.download{display:block;margin:1.2rem 0;padding:.95rem;text-align:center;border-radius:2rem;\
background:#f9d159;color:#14110d;font-weight:600;text-decoration:none;font-size:1.1rem}\
h2{font-size:1.1rem;font-weight:600;margin:1.6rem 0 .7rem}\
a.download.second{background:none;color:#f9d159;border:2px solid #f9d159}\
p.note{opacity:.85;font-size:.95rem}";

fn document(lang: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{}</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>",
        escape(lang),
        escape(title)
    )
}

fn label_html(label: &ShareLabel) -> String {
    let mut details = String::new();
    match (label.artist.is_empty(), label.year.is_empty()) {
        (true, _) => {}
        (false, true) => details.push_str(&escape(&label.artist)),
        (false, false) => details.push_str(&format!("{}, {}", escape(&label.artist), escape(&label.year))),
    }
    let credit =
        if label.credit.is_empty() { String::new() } else { format!("<small>{}</small>", escape(&label.credit)) };
    format!("<div class=\"label\"><b>{}</b>{details}{credit}</div>", escape(&label.title))
}

/// The page for a painting on offer; `token` makes the painting's address.
pub(crate) fn painting(texts: &Catalog, token: &str, entry: &Entry, now: SystemTime) -> String {
    let lang = entry.lang.as_str();
    let left_min = entry.expires.duration_since(now).map(|d| d.as_secs_f64() / 60.0).unwrap_or(0.0).ceil();
    let at = chrono::DateTime::<chrono::Local>::from(entry.expires).format("%H:%M").to_string();
    let image = format!("/p/{token}/painting.png");
    // The animation plays by itself (an APNG in an <img>: no script); long-pressed, it saves.
    let making_of = if entry.making_of_frames > 0 {
        let heading = escape(&texts.text(lang, "share-page-making-of"));
        format!(
            "<h2>{heading}</h2><img class=\"making-of\" src=\"/p/{token}/making-of.png\" alt=\"{heading}\">\
             <a class=\"download second\" href=\"/p/{token}/making-of.png?download=1\" download>{}</a>",
            escape(&texts.text(lang, "share-page-download-making-of"))
        )
    } else {
        String::new()
    };
    let body = format!(
        "<h1>{}</h1><img src=\"{image}\" alt=\"{}\">{}\
         <a class=\"download\" href=\"{image}?download=1\" download>{}</a>{making_of}\
         <p class=\"note\">{}</p><p class=\"note\">{}</p>",
        escape(&texts.text_with(lang, "share-page-heading", &[("artwork", Arg::Text(entry.label.title.clone()))])),
        escape(&texts.text(lang, "share-page-title")),
        label_html(&entry.label),
        escape(&texts.text(lang, "share-page-download")),
        escape(&texts.text_with(
            lang,
            "share-page-deleted-at",
            &[("time", Arg::Text(at)), ("minutes", Arg::Number(left_min.max(1.0)))]
        )),
        escape(&texts.text(lang, "share-page-nothing-else")),
    );
    document(lang, &texts.text(lang, "share-page-title"), &body)
}

/// The page of an expired link, a wrong one, or too many wrong ones (no painting, no token).
pub fn message(texts: &Catalog, lang: &str, title_key: &str, key: &str) -> String {
    let body = format!("<h1>{}</h1><p>{}</p>", escape(&texts.text(lang, title_key)), escape(&texts.text(lang, key)));
    document(lang, &texts.text(lang, title_key), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_title_is_shown_as_text() {
        let label =
            ShareLabel { title: "<script>alert(1)</script>".into(), artist: "A & B".into(), ..Default::default() };
        let html = label_html(&label);
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && html.contains("A &amp; B"), "{html}");
        assert!(!html.contains("<script>"));
    }
}
