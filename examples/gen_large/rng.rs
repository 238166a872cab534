//! A tiny deterministic PRNG and hash. Every record is a pure function of (seed, slot index),
//! so each export can be rendered in its own pass, in any order, and still describe the same
//! events: that is what makes the overlaps between files real (same ids) without holding state.

/// splitmix64 finaliser: a good 64-bit mixer, used both as hash and as PRNG step.
#[inline]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hash of a few words (order matters).
#[inline]
pub fn h(a: u64, b: u64, c: u64) -> u64 {
    mix(mix(mix(a ^ 0x9e37_79b9_7f4a_7c15).wrapping_add(b)).wrapping_add(c))
}

/// splitmix64 generator.
#[derive(Clone, Copy, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(mix(seed ^ 0x5851_f42d_4c95_7f2d))
    }

    #[inline]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `0..n` (n > 0); multiply-shift, no modulo bias worth caring about here.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next() >> 32) * n) >> 32
    }

    /// Uniform in `lo..=hi`.
    #[inline]
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `per10k / 10_000`.
    #[inline]
    pub fn chance(&mut self, per10k: u64) -> bool {
        self.below(10_000) < per10k
    }

    /// Uniform f64 in [0, 1).
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn u128(&mut self) -> u128 {
        ((self.next() as u128) << 64) | self.next() as u128
    }

    /// Picks from a slice.
    #[inline]
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}
