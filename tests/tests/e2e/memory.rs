//! Memory of a warm container: Lambda bills it and kills a function over its
//! limit. Read from the running binary's peak resident set (`VmHWM`).

use e2e::app::ANY_ROLE;
use e2e::TestApp;
use std::time::Instant;

/// Lockout off (the refusals must not lock the users out), and both seeded
/// users (admin and support) allowed in.
const SETTINGS: &[(&str, &str)] = &[
    ("LOGIN_MAX_FAILURES", "0"),
    ("LOGIN_MAX_FAILURES_PER_IP", "0"),
    ANY_ROLE,
];

const LOGINS: usize = 1_000;
/// One in this many logins is refused, alternately for a wrong password and
/// for an unknown user (checked against the dummy hash). Every refusal is
/// padded to the slowest password check, bcrypt's (0.2–1 s here), so refusals
/// set the test's duration.
const REFUSED_EVERY: usize = 50;
const PEAK_LIMIT_KIB: u64 = 40 * 1024;

/// Each argon2id check needs 19 MiB. The container keeps one block for all of
/// them; before, the allocator kept one per arena and peak memory reached
/// 107–221 MB within 20 logins.
///
/// The limit is Lambda's view, the peak resident set (`VmHWM`). `scripts/test`
/// runs this test on the x86_64 release package, unpacked (`LAMBDA_DIR`, see
/// [`e2e::function::binary_path`]), and there all of `VmHWM` counts. The debug
/// binaries a plain `cargo test` runs are 60+ MB of unoptimised code: with the
/// shared libraries ~25 MB of them resident (`RssFile`), against ~10 MB for the
/// release package; so without `LAMBDA_DIR` those pages are left out. Under a
/// `LAMBDA_RUNNER` (qemu-user) the process is the emulator too, whose memory is
/// not the function's: the test refuses to run there.
#[tokio::test]
async fn a_thousand_logins_stay_under_40_mb_of_peak_memory() {
    assert!(
        e2e::function::runner().is_empty(),
        "the memory test measures the binary itself: run it without LAMBDA_RUNNER"
    );
    let mut app = TestApp::with_env(SETTINGS).await;
    let started = Instant::now();
    let accounts = [
        (app.admin.username, app.admin.password),
        (app.support.username, app.support.password),
    ];
    let mut refused = 0;
    for n in 0..LOGINS {
        let (username, password) = accounts[n % 2];
        let (username, password, expected) = match (n % REFUSED_EVERY, n / REFUSED_EVERY % 2) {
            (0, 0) => (username, "wrong-password", 400),
            (0, _) => ("nobody", password, 400),
            _ => (username, password, 200),
        };
        let response = app
            .login_fn
            .invoke(e2e::app::login_event(username, password))
            .await;
        assert_eq!(response.status, expected, "login {n} as {username}");
        refused += usize::from(expected == 400);
    }
    let peak = app
        .login_fn
        .peak_rss_kib()
        .expect("VmHWM of the login process");
    let file = app
        .login_fn
        .file_rss_kib()
        .expect("RssFile of the login process");
    let packaged = std::env::var_os("LAMBDA_DIR").is_some();
    let counted = if packaged { peak } else { peak - file };
    println!(
        "{LOGINS} logins ({refused} refused) in {:.1?} by {}: VmHWM {peak} KiB, \
         RssFile {file} KiB; {counted} KiB counted ({}) of {PEAK_LIMIT_KIB} KiB",
        started.elapsed(),
        e2e::function::binary_path("login").display(),
        if packaged {
            "all of VmHWM"
        } else {
            "VmHWM less RssFile"
        }
    );
    assert!(
        counted <= PEAK_LIMIT_KIB,
        "peak RSS {peak} KiB ({file} KiB of it from files) after {LOGINS} logins: \
         {counted} KiB counted, over {PEAK_LIMIT_KIB} KiB"
    );
}
