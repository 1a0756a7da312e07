//! The two synchronisation primitives of the step loop: a spinning barrier (a step lasts a
//! few microseconds, far less than it takes to park and wake a thread) and a cell whose
//! access is governed by the phases between barriers.
//!
//! Phase protocol of one step (see `mod.rs`): in the *update* phase every worker writes only
//! the partitions it owns and their spike lists; in the *delivery* phase every worker reads
//! every spike list and writes only its own partitions; in the optional *sampling* phase
//! only worker 0 reads everything. A barrier separates consecutive phases.

use std::cell::UnsafeCell;
use std::hint::spin_loop;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A reusable barrier for a fixed number of threads that spins, then yields.
pub struct SpinBarrier {
    threads: usize,
    arrived: AtomicUsize,
    generation: AtomicUsize,
}

impl SpinBarrier {
    pub fn new(threads: usize) -> SpinBarrier {
        SpinBarrier {
            threads,
            arrived: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
        }
    }

    /// Returns once all `threads` threads have called `wait` for this generation. Every
    /// write made before `wait` is visible to every thread after it (acquire/release).
    pub fn wait(&self) {
        if self.threads <= 1 {
            return;
        }
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.threads {
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::AcqRel);
            return;
        }
        let mut spins = 0u32;
        while self.generation.load(Ordering::Acquire) == generation {
            if spins < 2_000 {
                spin_loop();
                spins += 1;
            } else {
                // More threads than free cores: let the others run.
                std::thread::yield_now();
            }
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
                        barrier.wait();
                        assert_eq!(counter.load(Ordering::Relaxed), 3 * (round + 1));
                        barrier.wait();
                    }
                });
            }
        });
    }
}
