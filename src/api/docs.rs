//! `GET /openapi.json` (the OpenAPI 3.1 document) and `GET /docs`, a self-contained page that renders it.
//!
//! The page loads nothing from elsewhere (no CDN, no build-time download): one inline style and one inline script
//! that fetches `/openapi.json`. Its Content-Security-Policy allows exactly those two by their SHA-256 hashes and
//! `connect-src 'self'`; every other answer keeps the strict `default-src 'none'` set in `startup`.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::AppState;

const STYLE: &str = r#"
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem 2rem;color:#222}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;margin-top:2rem}
details{border:1px solid #e3e3e3;border-radius:4px;margin:.4rem 0;padding:.3rem .6rem}
summary{cursor:pointer;font-family:ui-monospace,monospace}
.m{display:inline-block;min-width:4.5rem;font-weight:bold}
.get{color:#0a7}.post{color:#06c}.put{color:#b70}.delete{color:#c22}
pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:13px}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
"#;

const SCRIPT: &str = r#"
const el = (tag, attrs, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const kid of kids) e.append(kid);
  return e;
};
fetch('/openapi.json').then(r => r.json()).then(doc => {
  const main = document.getElementById('main');
  main.textContent = '';
  main.append(el('h1', {}, doc.info.title + ' ' + doc.info.version));
  main.append(el('p', {}, doc.info.description || ''));
  main.append(el('p', {}, el('a', {href: '/openapi.json'}, 'openapi.json')));
  const tags = (doc.tags || []).map(t => t.name);
  const byTag = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch']) {
      const op = item[method];
      if (!op) continue;
      const tag = (op.tags || ['other'])[0];
      if (!tags.includes(tag)) tags.push(tag);
      (byTag[tag] = byTag[tag] || []).push([method, path, op]);
    }
  }
  for (const tag of tags) {
    if (!byTag[tag]) continue;
    const desc = (doc.tags || []).find(t => t.name === tag);
    main.append(el('h2', {}, tag), el('p', {}, desc && desc.description || ''));
    for (const [method, path, op] of byTag[tag]) {
      const d = el('details', {}, el('summary', {}, el('span', {class: 'm ' + method}, method.toUpperCase()), path + '  ', op.summary || ''));
      if (op.description) d.append(el('p', {}, op.description));
      if (op.parameters && op.parameters.length) {
        const t = el('table', {}, el('tr', {}, el('th', {}, 'parameter'), el('th', {}, 'in'), el('th', {}, 'description')));
        for (const p of op.parameters) t.append(el('tr', {}, el('td', {}, p.name + (p.required ? '' : '?')), el('td', {}, p.in), el('td', {}, p.description || '')));
        d.append(t);
      }
      if (op.requestBody) d.append(el('p', {}, 'body:'), el('pre', {}, JSON.stringify(op.requestBody.content, null, 1)));
      for (const [status, r] of Object.entries(op.responses || {})) d.append(el('p', {}, el('b', {}, status + ' '), r.description || ''));
      main.append(d);
    }
  }
  main.append(el('h2', {}, 'schemas'), el('pre', {}, JSON.stringify((doc.components || {}).schemas || {}, null, 1)));
}).catch(e => { document.getElementById('main').textContent = 'could not load /openapi.json: ' + e; });
"#;

fn sha256_source(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// `/openapi.json` and `/docs`, both built once from `document`.
pub fn router(document: &utoipa::openapi::OpenApi) -> Router<AppState> {
    // The document is plain data built by utoipa's derives; serialising it cannot fail.
    let json = bytes::Bytes::from(
        document
            .to_pretty_json()
            .expect("the OpenAPI document serialises"),
    );
    let page = bytes::Bytes::from(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Warden API</title>\
         <style>{STYLE}</style></head><body><main id=\"main\">loading /openapi.json …</main>\
         <script>{SCRIPT}</script></body></html>"
    ));
    let policy = format!(
        "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'",
        sha256_source(SCRIPT),
        sha256_source(STYLE)
    );
    // Built from a base64 alphabet and fixed ASCII: always a valid header value.
    let policy = HeaderValue::from_str(&policy).expect("an ASCII policy");
    Router::new()
        .route(
            "/openapi.json",
            get(move || async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )],
                    json,
                )
                    .into_response()
            }),
        )
        .route(
            "/docs",
            get(move || async move {
                let mut response: Response = (
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    )],
                    page,
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(header::CONTENT_SECURITY_POLICY, policy);
                response
            }),
        )
}
