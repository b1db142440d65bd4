//! The hot path: a fixed-size density grid in UV space.
//!
//! Memory is fixed by the grid size (12 bytes per texel plus one bit for
//! the dirty set), whatever the session length; adding a puncture is O(1)
//! and allocates nothing.

use serde::{Deserialize, Serialize};

/// What one texel has received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[repr(C)]
pub struct TexelAcc {
    /// Punctures.
    pub count: u32,
    /// Sum of penetration depths, mm.
    pub depth_sum: f32,
    /// Deepest penetration, mm.
    pub depth_max: f32,
}

/// Puncture counts and depths per texel, plus the set of texels changed
/// since the last [`DensityGrid::drain_dirty`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DensityGrid {
    width: u32,
    height: u32,
    texels: Vec<TexelAcc>,
    dirty: Vec<u64>,
    total: u64,
}

impl DensityGrid {
    /// An empty `width` × `height` grid.
    pub fn new(width: u32, height: u32) -> Self {
        let n = width as usize * height as usize;
        Self {
            width,
            height,
            texels: vec![TexelAcc::default(); n],
            dirty: vec![0; n.div_ceil(64)],
            total: 0,
        }
    }

    /// Texels across.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Texels down.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Records one puncture in `texel` (an index below `width × height`;
    /// others are ignored).
    #[inline]
    pub fn add_puncture(&mut self, texel: u32, depth_mm: f32) {
        let i = texel as usize;
        if let Some(acc) = self.texels.get_mut(i) {
            acc.count += 1;
            acc.depth_sum += depth_mm;
            acc.depth_max = acc.depth_max.max(depth_mm);
            self.dirty[i >> 6] |= 1 << (i & 63);
            self.total += 1;
        }
    }

    /// All texels, row-major (`y * width + x`).
    pub fn texels(&self) -> &[TexelAcc] {
        &self.texels
    }

    /// Punctures recorded in total.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Bytes held by the grid (fixed for a given size).
    pub fn memory_bytes(&self) -> usize {
        self.texels.len() * std::mem::size_of::<TexelAcc>() + self.dirty.len() * 8
    }

    /// Appends the texels changed since the last call to `out`, ascending,
    /// and clears the dirty set: a view uploads only what changed.
    pub fn drain_dirty(&mut self, out: &mut Vec<u32>) {
        for (w, word) in self.dirty.iter_mut().enumerate() {
            let mut bits = std::mem::take(word);
            while bits != 0 {
                let b = bits.trailing_zeros();
                out.push((w as u32) * 64 + b);
                bits &= bits - 1;
            }
        }
    }

    /// Clears everything.
    pub fn clear(&mut self) {
        self.texels.fill(TexelAcc::default());
        self.dirty.fill(0);
        self.total = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctures_add_up_and_dirty_texels_drain_once() {
        let mut grid = DensityGrid::new(100, 100);
        let before = grid.memory_bytes();
        for k in 0..10_000u32 {
            grid.add_puncture(k % 7 + 70, 0.25 + (k % 3) as f32 * 0.25);
        }
        grid.add_puncture(10_000, 1.0); // off the grid: ignored
        assert_eq!(
            grid.memory_bytes(),
            before,
            "memory does not grow with punctures"
        );
        assert_eq!(grid.total(), 10_000);
        let t = grid.texels()[70];
        assert_eq!(t.count, 1429);
        assert!((t.depth_max - 0.75).abs() < 1e-6);
        let mut dirty = Vec::new();
        grid.drain_dirty(&mut dirty);
        assert_eq!(dirty, (70..77).collect::<Vec<_>>());
        dirty.clear();
        grid.drain_dirty(&mut dirty);
        assert!(dirty.is_empty());
        grid.clear();
        assert_eq!(grid.total(), 0);
    }
}
