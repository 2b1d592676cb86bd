//! The CPU time of one session permission check at the largest size `MAX_CHECK_PAIRS` allows, for the worst
//! pattern shapes we know, next to the quadratic backtracking matcher Warden used before (on the 240 × 240
//! case only: at the bound it would take far longer).
//!
//! `cargo bench --bench session_wildcards` prints one `WILDCARDS …` line per shape: the time of one whole check
//! (every requested permission against every stored pattern, none granted, so nothing stops early), the best of
//! five runs on one thread.

use std::hint::black_box;
use std::time::{Duration, Instant};

use warden_core::rules::wildcard::{grants, MAX_CHECK_PAIRS};

/// A pair-by-pair matcher.
type Matcher = fn(&str, &str) -> bool;

/// The matcher before the fix: greedy two pointers, backtracking to the last star (O(n·m) per pair).
fn backtracking(pattern: &str, permission: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), permission.chars().collect());
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// One whole check, as `SessionsService::check` does it (`grants`), or pair by pair with `matcher`; the best of
/// five runs.
fn time_check(matcher: Option<Matcher>, patterns: &[String], requested: &[String]) -> Duration {
    (0..5)
        .map(|_| {
            let start = Instant::now();
            let granted = match matcher {
                None => grants(patterns, requested.to_vec())
                    .values()
                    .filter(|&&g| g)
                    .count(),
                Some(matcher) => requested
                    .iter()
                    .filter(|wanted| patterns.iter().any(|p| matcher(black_box(p), wanted)))
                    .count(),
            };
            black_box(granted);
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// `count` distinct strings of at most 255 characters: `body` (cut to fit) followed by a 3-digit number.
fn distinct(body: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| format!("{}{:03}", &body[..body.len().min(252)], i % 1000))
        .collect()
}

fn main() {
    let shapes: [(&str, String, String); 4] = [
        (
            "stars-then-missing-suffix",
            format!("{}*b", "*a".repeat(124)),
            "a".repeat(252),
        ),
        (
            "long-periodic-middle-piece",
            format!("*{}b*", "a".repeat(200)),
            "a".repeat(252),
        ),
        (
            "prefix-and-suffix-nearly-match",
            format!("{}*{}", "a".repeat(125), "a".repeat(124)),
            "a".repeat(252),
        ),
        (
            "many-short-pieces-late-miss",
            format!("{}*z", "*ab".repeat(83)),
            "ab".repeat(126),
        ),
    ];
    // The bound's largest checks: 1000 stored × 100 asked, and square-ish.
    let sizes = [(1000, MAX_CHECK_PAIRS / 1000), (316, MAX_CHECK_PAIRS / 316)];
    for (name, pattern, permission) in &shapes {
        for (stored, asked) in sizes {
            // Patterns end in a number the permissions never have, so each pair is tried in full.
            let patterns = distinct(pattern, stored)
                .into_iter()
                .map(|p| format!("{p}x"))
                .filter(|p| p.chars().count() <= 255)
                .collect::<Vec<_>>();
            let requested = distinct(permission, asked);
            let elapsed = time_check(None, &patterns, &requested);
            println!(
                "WILDCARDS linear {name} {} patterns x {} permissions = {} pairs: {:.1} ms",
                patterns.len(),
                requested.len(),
                patterns.len() * requested.len(),
                elapsed.as_secs_f64() * 1000.0
            );
        }
    }
    // The case, both matchers: 240 × 240.
    let patterns: Vec<String> = (0..240)
        .map(|i| format!("{}*b{i:03}", "*a".repeat(120)))
        .collect();
    let requested: Vec<String> = (0..240)
        .map(|i| format!("{}{i:03}", "a".repeat(250)))
        .collect();
    let matchers: [(&str, Option<Matcher>); 2] =
        [("linear", None), ("backtracking", Some(backtracking))];
    for (label, matcher) in matchers {
        let elapsed = time_check(matcher, &patterns, &requested);
        println!(
            "WILDCARDS {label} issue-240x240: {:.1} ms",
            elapsed.as_secs_f64() * 1000.0
        );
    }
}
