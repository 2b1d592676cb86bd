//! Load generator of the open-mode flood benchmark (run by `bench/flood.sh`, which documents it).
//!
//! 1. Measures a real tenant's `has_permission` throughput for `--seconds`.
//! 2. Sends `--keys` requests, each with a new random (version-4) client key, at full speed with `--concurrency`
//!    connections, and reports the throughput of every block of `--block` keys (the first and the last block
//!    are the ones the issue compares) and the server's resident memory after each block.
//! 3. Measures the real tenant's throughput again.
//!
//! It only talks to 127.0.0.1 and stops by itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    base: String,
    real_key: String,
    keys: u64,
    block: u64,
    concurrency: usize,
    seconds: u64,
    pid: Option<u32>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        base: "http://127.0.0.1:18100".into(),
        real_key: String::new(),
        keys: 1_000_000,
        block: 100_000,
        concurrency: 64,
        seconds: 10,
        pid: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = || value.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--base" => args.base = value.clone(),
            "--real-key" => args.real_key = value.clone(),
            "--keys" => args.keys = number()?,
            "--block" => args.block = number()?,
            "--concurrency" => args.concurrency = number()? as usize,
            "--seconds" => args.seconds = number()?,
            "--pid" => args.pid = Some(number()? as u32),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    let host = args
        .base
        .strip_prefix("http://")
        .and_then(|rest| rest.split(':').next());
    if host != Some("127.0.0.1") {
        return Err("--base must be http://127.0.0.1:<port>".into());
    }
    if args.real_key.is_empty() || args.block == 0 || args.keys < args.block {
        return Err("--real-key is required and --keys must be at least one --block".into());
    }
    Ok(args)
}

fn rss_mib(pid: Option<u32>) -> String {
    let Some(pid) = pid else {
        return "-".into();
    };
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or_else(|| "-".into(), |kb| format!("{:.1}", kb / 1024.0))
}

/// Requests per second of `concurrency` workers hammering one tenant's check for `seconds`.
async fn real_tenant_throughput(client: &reqwest::Client, args: &Args) -> f64 {
    let url = format!("{}/api/has_permission/bob/edit", args.base);
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (client, url, key, done) = (
                client.clone(),
                url.clone(),
                args.real_key.clone(),
                done.clone(),
            );
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let response = client.get(&url).bearer_auth(&key).send().await;
                    let response = match response {
                        Ok(r) if r.status() == 200 => r,
                        Ok(r) => panic!("real tenant answered {}", r.status()),
                        Err(err) => panic!("real tenant request failed: {err}"),
                    };
                    if response.bytes().await.is_ok() {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(err) => {
            eprintln!("flood: {err}");
            std::process::exit(2);
        }
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .expect("HTTP client");

    let before = real_tenant_throughput(&client, &args).await;
    println!(
        "real tenant before: {before:.0} req/s  (rss {} MiB)",
        rss_mib(args.pid)
    );

    let url = format!("{}/api/has_permission/bob/edit", args.base);
    let issued = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (client, url, issued, finished, failures, keys) = (
                client.clone(),
                url.clone(),
                issued.clone(),
                finished.clone(),
                failures.clone(),
                args.keys,
            );
            tokio::spawn(async move {
                while issued.fetch_add(1, Ordering::Relaxed) < keys {
                    let key = uuid::Uuid::new_v4().to_string();
                    let ok = match client.get(&url).bearer_auth(&key).send().await {
                        Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    if !ok {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    finished.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    // Report each block as it completes.
    let started = Instant::now();
    let mut block_start = started;
    let mut next = args.block;
    let mut rates = Vec::new();
    while next <= args.keys {
        if finished.load(Ordering::Relaxed) >= next {
            let now = Instant::now();
            let rate = args.block as f64 / (now - block_start).as_secs_f64();
            println!(
                "keys {:>9}..{:>9}: {rate:>8.0} req/s  (rss {} MiB)",
                next - args.block,
                next,
                rss_mib(args.pid)
            );
            rates.push(rate);
            block_start = now;
            next += args.block;
        } else {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    for worker in workers {
        let _ = worker.await;
    }
    let total = started.elapsed().as_secs_f64();
    println!(
        "flood: {} keys in {total:.1} s ({:.0} req/s), {} failed",
        args.keys,
        args.keys as f64 / total,
        failures.load(Ordering::Relaxed)
    );

    let after = real_tenant_throughput(&client, &args).await;
    println!(
        "real tenant after:  {after:.0} req/s  (rss {} MiB)",
        rss_mib(args.pid)
    );
    if let (Some(first), Some(last)) = (rates.first(), rates.last()) {
        println!(
            "last block / first block: {:.0} %   real tenant after / before: {:.0} %",
            100.0 * last / first,
            100.0 * after / before
        );
    }
}
