//! Password hashing cost per call: what login pays for argon2id (and for the
//! bcrypt hashes left by the Python service). Run with `cargo bench -p shared`;
//! compare profiles with e.g. `CARGO_PROFILE_RELEASE_OPT_LEVEL=s cargo bench -p shared`.

use shared::auth::password::{self, HashScheme};
use std::time::{Duration, Instant};

const PYTHON_BCRYPT: &str = "$2b$12$SAi73xqOTSlUoqw.a7K50eZv/27qMjEL9PCd4Rl.Ej4Q0fdtB76Aa";

fn measure(name: &str, rounds: usize, mut work: impl FnMut()) {
    work(); // warm-up
    let mut samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .collect();
    samples.sort();
    let median = samples[samples.len() / 2];
    let worst = samples[samples.len() - 1];
    println!("{name:<32} median {median:>10.2?}  max {worst:>10.2?}  ({rounds} rounds)");
}

fn main() {
    let hash = password::hash("correct horse battery").expect("hash");
    measure("argon2id hash", 20, || {
        password::hash("correct horse battery").expect("hash");
    });
    measure("argon2id verify", 20, || {
        password::verify("correct horse battery", &hash);
    });
    measure("dummy verify (unknown user)", 20, || {
        password::verify_dummy(HashScheme::Argon2id, "correct horse battery");
    });
    measure("bcrypt-12 verify (legacy)", 5, || {
        password::verify("python-pass", PYTHON_BCRYPT);
    });
    // PASSWORD_HASH=bcrypt: what new passwords and unknown users cost there.
    measure("bcrypt-12 hash (PASSWORD_HASH=bcrypt)", 5, || {
        password::hash_with(HashScheme::Bcrypt, "correct horse battery").expect("hash");
    });
    measure("bcrypt dummy verify (unknown user)", 5, || {
        password::verify_dummy(HashScheme::Bcrypt, "correct horse battery");
    });
}
