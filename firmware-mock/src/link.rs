//! Seeded, reproducible faults on the byte stream between host and pen:
//! bytes dropped, flipped or duplicated (both directions), pen frames
//! delayed with jitter, and a disconnect after a number of pen frames.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::physics::Noise;

/// Link fault settings, as given to `--link-faults`
/// (`drop=0.001,flip=0.0005,dup=0,delay-ms=0,jitter-ms=0,disconnect-after=N`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkFaults {
    /// Probability that a byte is lost.
    pub drop: f64,
    /// Probability that a byte has one bit flipped.
    pub flip: f64,
    /// Probability that a byte is sent twice.
    pub dup: f64,
    /// Fixed delay of every pen frame.
    pub delay: Duration,
    /// Extra delay of each pen frame, uniform in `0 ..= jitter` (order kept).
    pub jitter: Duration,
    /// The pen drops the link after sending this many frames.
    pub disconnect_after: Option<u64>,
}

impl LinkFaults {
    /// Whether any byte-level fault is configured.
    pub fn is_clean(&self) -> bool {
        self.drop == 0.0 && self.flip == 0.0 && self.dup == 0.0
    }

    /// Applies the byte faults to `bytes` with the given random source.
    pub fn mangle(&self, bytes: &[u8], noise: &mut Noise) -> Vec<u8> {
        if self.is_clean() {
            return bytes.to_vec();
        }
        let mut out = Vec::with_capacity(bytes.len() + 4);
        for &b in bytes {
            if noise.uniform() < self.drop {
                continue;
            }
            let b = if noise.uniform() < self.flip {
                b ^ (1 << (noise.uniform() * 8.0) as u8)
            } else {
                b
            };
            out.push(b);
            if noise.uniform() < self.dup {
                out.push(b);
            }
        }
        out
    }

    /// The delay of the next pen frame.
    pub fn frame_delay(&self, noise: &mut Noise) -> Duration {
        if self.jitter.is_zero() {
            return self.delay;
        }
        self.delay + self.jitter.mul_f64(noise.uniform())
    }
}

/// A bad `--link-faults` string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "bad link fault `{item}`: {reason} (expected drop=P,flip=P,dup=P,delay-ms=N,jitter-ms=N,disconnect-after=N)"
)]
pub struct LinkFaultsError {
    /// The offending item.
    pub item: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FromStr for LinkFaults {
    type Err = LinkFaultsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut f = LinkFaults::default();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let err = |reason: &str| LinkFaultsError {
                item: item.to_owned(),
                reason: reason.to_owned(),
            };
            let (key, value) = item.split_once('=').ok_or_else(|| err("no `=`"))?;
            let prob = || -> Result<f64, LinkFaultsError> {
                let p: f64 = value.parse().map_err(|_| err("not a number"))?;
                if (0.0..=1.0).contains(&p) {
                    Ok(p)
                } else {
                    Err(err("a probability must be within 0 ..= 1"))
                }
            };
            let int = || value.parse::<u64>().map_err(|_| err("not a whole number"));
            match key.trim() {
                "drop" => f.drop = prob()?,
                "flip" => f.flip = prob()?,
                "dup" => f.dup = prob()?,
                "delay-ms" => f.delay = Duration::from_millis(int()?),
                "jitter-ms" => f.jitter = Duration::from_millis(int()?),
                "disconnect-after" => f.disconnect_after = Some(int()?),
                _ => return Err(err("unknown key")),
            }
        }
        Ok(f)
    }
}

impl fmt::Display for LinkFaults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "drop={},flip={},dup={},delay-ms={},jitter-ms={}",
            self.drop,
            self.flip,
            self.dup,
            self.delay.as_millis(),
            self.jitter.as_millis()
        )?;
        if let Some(n) = self.disconnect_after {
            write!(f, ",disconnect-after={n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let f: LinkFaults =
            "drop=0.001,flip=0.0005,dup=0,delay-ms=5,jitter-ms=2,disconnect-after=40"
                .parse()
                .unwrap();
        assert_eq!(f.drop, 0.001);
        assert_eq!(f.flip, 0.0005);
        assert_eq!(f.delay, Duration::from_millis(5));
        assert_eq!(f.jitter, Duration::from_millis(2));
        assert_eq!(f.disconnect_after, Some(40));
        assert_eq!(f.to_string().parse::<LinkFaults>().unwrap(), f);
        assert_eq!("drop=2".parse::<LinkFaults>().unwrap_err().item, "drop=2");
        assert!("speed=3".parse::<LinkFaults>().is_err());
    }

    #[test]
    fn mangling_is_seeded_and_roughly_at_rate() {
        let f = LinkFaults {
            drop: 0.1,
            flip: 0.1,
            dup: 0.1,
            ..LinkFaults::default()
        };
        let bytes = vec![0x55u8; 10_000];
        let a = f.mangle(&bytes, &mut Noise::new(3));
        let b = f.mangle(&bytes, &mut Noise::new(3));
        let c = f.mangle(&bytes, &mut Noise::new(4));
        assert_eq!(a, b);
        assert_ne!(a, c);
        // ~9 000 kept, ~900 of them duplicated.
        assert!((9_500..10_300).contains(&a.len()), "{}", a.len());
        let flipped = a.iter().filter(|&&x| x != 0x55).count();
        assert!((700..1_300).contains(&flipped), "{flipped}");
        assert_eq!(
            LinkFaults::default().mangle(&bytes, &mut Noise::new(1)),
            bytes
        );
    }
}
