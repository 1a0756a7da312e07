//! The two synchronisation primitives of the step loop: a spinning barrier (a step lasts a
//! few microseconds, far less than it takes to park and wake a thread) and a cell whose
//! access is governed by the phases between barriers.
//!
//! Phase protocol of one step (see `mod.rs`): in the *update* phase every worker writes only
//! the partitions it owns and their spike lists; in the *delivery* phase every worker reads
//! every spike list and writes only its own partitions; in the optional *sampling* phase
//! only worker 0 reads everything. A barrier separates consecutive phases.
//!
//! A worker that panics poisons the barrier on its way out ([`PoisonOnPanic`]), so the
//! others leave their wait instead of spinning forever for a participant that is gone.

use std::cell::UnsafeCell;
use std::hint::spin_loop;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A reusable barrier for a fixed number of threads that spins, then yields.
pub struct SpinBarrier {
    threads: usize,
    arrived: AtomicUsize,
    generation: AtomicUsize,
    poisoned: AtomicBool,
}

/// A participant of the barrier panicked: the phases cannot go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Poisoned;

impl SpinBarrier {
    pub fn new(threads: usize) -> SpinBarrier {
        SpinBarrier {
            threads,
            arrived: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
            poisoned: AtomicBool::new(false),
        }
    }

    /// Marks the barrier as broken: every present and future `wait` returns `Err`.
    pub fn poison(&self) {
        self.poisoned.store(true, Ordering::Release);
    }

    /// Returns once all `threads` threads have called `wait` for this generation. Every
    /// write made before `wait` is visible to every thread after it (acquire/release).
    /// Returns `Err` instead when the barrier is (or becomes, while waiting) poisoned.
    pub fn wait(&self) -> Result<(), Poisoned> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(Poisoned);
        }
        if self.threads <= 1 {
            return Ok(());
        }
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.threads {
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::AcqRel);
            return Ok(());
        }
        let mut spins = 0u32;
        while self.generation.load(Ordering::Acquire) == generation {
            if self.poisoned.load(Ordering::Acquire) {
                return Err(Poisoned);
            }
            if spins < 2_000 {
                spin_loop();
                spins += 1;
            } else {
                // More threads than free cores: let the others run.
                std::thread::yield_now();
            }
        }
        Ok(())
    }
}

/// Poisons its barrier when dropped during a panic: each worker holds one for its loop.
pub struct PoisonOnPanic<'a>(pub &'a SpinBarrier);

impl Drop for PoisonOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.poison();
        }
    }
}

/// A value shared between the workers whose access follows the phase protocol above.
pub struct PhaseCell<T>(UnsafeCell<T>);

// SAFETY: the phase protocol guarantees that while one thread holds a `&mut T` obtained
// through `get_mut`, no other thread holds any reference to the same value; `T: Send`
// because the value is effectively handed from thread to thread at barriers.
unsafe impl<T: Send> Sync for PhaseCell<T> {}

impl<T> PhaseCell<T> {
    pub fn new(value: T) -> PhaseCell<T> {
        PhaseCell(UnsafeCell::new(value))
    }

    /// # Safety
    /// No other reference to the value may exist while the returned one lives: only the
    /// value's owner calls this, in a phase where nobody else reads it.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn get_mut(&self) -> &mut T {
        // SAFETY: exclusivity is the caller's obligation (see above).
        unsafe { &mut *self.0.get() }
    }

    /// # Safety
    /// Nobody may write the value while the returned reference lives.
    pub unsafe fn get(&self) -> &T {
        // SAFETY: absence of writers is the caller's obligation (see above).
        unsafe { &*self.0.get() }
    }

    pub fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn barrier_separates_phases() {
        let barrier = SpinBarrier::new(3);
        let counter = AtomicU64::new(0);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    for round in 0..200u64 {
                        counter.fetch_add(1, Ordering::Relaxed);
                        barrier.wait().unwrap();
                        assert_eq!(counter.load(Ordering::Relaxed), 3 * (round + 1));
                        barrier.wait().unwrap();
                    }
                });
            }
        });
    }

    #[test]
    fn a_panicking_participant_releases_the_others() {
        let barrier = SpinBarrier::new(3);
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let left = std::thread::scope(|s| {
                let waiters: Vec<_> = (0..2)
                    .map(|_| s.spawn(|| (barrier.wait(), barrier.wait())))
                    .collect();
                let panicked = s
                    .spawn(|| {
                        let _guard = PoisonOnPanic(&barrier);
                        barrier.wait().unwrap();
                        panic!("a worker fails between two barriers");
                    })
                    .join()
                    .is_err();
                assert!(panicked);
                waiters
                    .into_iter()
                    .map(|w| w.join().unwrap())
                    .collect::<Vec<_>>()
            });
            let _ = done.send(left);
        });
        let left = finished
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the waiting threads leave the barrier");
        assert_eq!(left, vec![(Ok(()), Err(Poisoned)); 2]);
        assert_eq!(SpinBarrier::new(1).wait(), Ok(()));
    }
}
