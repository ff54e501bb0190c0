//! The argon2 working memory, one block per container, reused by every hash.
//!
//! An argon2id check at OWASP's parameters needs 19 MiB. Allocated per call
//! (what the crate does by default), glibc keeps each freed block in whichever
//! arena the blocking-pool thread used, so a warm `login` grew to 107–221 MB
//! within 20 logins and stayed there. Lambda bills memory and kills a function
//! over its limit, so the container keeps one block and every check borrows it:
//! peak memory stays at one block plus the rest of the process.
//!
//! A container serves one event at a time, so the block is almost never busy.
//! When two checks do overlap (the start-up timing of the password checks and
//! the first request, or a test running many in one process), the second waits
//! for the block rather than allocating a second one: peak memory is the
//! figure Lambda enforces, and the wait is one check (~25 ms). Checks run on
//! tokio's blocking pool, so waiting never stalls the executor.

use argon2::Block;
use std::sync::{Mutex, PoisonError};

/// The blocks kept between calls, allocated on first use.
static KEPT: Mutex<Vec<Block>> = Mutex::new(Vec::new());

/// Calls `work` with `count` argon2 blocks: the container's kept ones when
/// `count` is at most `keep_at_most`, otherwise fresh ones freed after the call
/// (a stored hash with a larger memory cost than today's parameters must not
/// grow what every later call keeps).
pub fn with_blocks<T>(
    count: usize,
    keep_at_most: usize,
    work: impl FnOnce(&mut [Block]) -> T,
) -> T {
    with_blocks_from(&KEPT, count, keep_at_most, work)
}

fn with_blocks_from<T>(
    kept: &Mutex<Vec<Block>>,
    count: usize,
    keep_at_most: usize,
    work: impl FnOnce(&mut [Block]) -> T,
) -> T {
    if count > keep_at_most {
        let mut own = vec![Block::default(); count];
        return work(&mut own);
    }
    // A poisoned lock (a panic mid-hash) only held scratch memory: reuse it.
    let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
    if kept.len() < count {
        kept.resize(count, Block::default());
    }
    work(&mut kept[..count])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    fn address(blocks: &mut [Block]) -> usize {
        blocks.as_ptr() as usize
    }

    #[test]
    fn the_kept_blocks_are_reused_and_a_larger_request_gets_its_own() {
        // A store of its own: other tests hash concurrently with the global one.
        let kept = Mutex::new(Vec::new());
        let first = with_blocks_from(&kept, 4, 8, address);
        assert_eq!(with_blocks_from(&kept, 4, 8, address), first);
        assert_eq!(with_blocks_from(&kept, 2, 8, address), first);
        let larger = with_blocks_from(&kept, 16, 8, |blocks| (blocks.len(), address(blocks)));
        assert_eq!(larger.0, 16);
        assert_ne!(larger.1, first);
        assert_eq!(
            kept.lock().unwrap().len(),
            4,
            "a larger request keeps nothing"
        );
    }

    #[test]
    fn an_overlapping_call_waits_for_the_kept_blocks_instead_of_allocating() {
        let kept = Mutex::new(Vec::new());
        let (holding, held) = mpsc::channel();
        let (first, second) = std::thread::scope(|scope| {
            let kept = &kept;
            let first = scope.spawn(move || {
                with_blocks_from(kept, 4, 8, |blocks| {
                    holding.send(()).unwrap();
                    std::thread::sleep(Duration::from_millis(50));
                    address(blocks)
                })
            });
            held.recv().unwrap();
            let second = with_blocks_from(kept, 4, 8, address);
            (first.join().unwrap(), second)
        });
        assert_eq!(first, second, "the second call used the same memory");
    }
}
