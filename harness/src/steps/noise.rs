//! `line_noise`: bytes on the line that make no sound frame, sent as they
//! are, for the receiver rules of §2.3: an over-long run without a
//! delimiter (R-FRAME-6), a frame whose CRC fails, bytes that are not COBS.
//! Nothing is answered; the steps after show the pen is back in step.
//!
//! ```toml
//! { line_noise = "oversize" }
//! ```

use penlab_diagnostics::SourceError;
use penlab_protocol::MAX_ENCODED_FRAME;
use serde::Deserialize;

use super::{ParseCtx, Step, StepError, StepFuture, StepKind, TestCtx};

/// Which noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    /// More bytes than the longest encoded frame, then a delimiter.
    Oversize,
    /// A `StatusRequest` frame with one CRC byte changed.
    CrcError,
    /// Bytes that are not valid COBS (a code byte pointing past the end).
    Garbage,
}

/// Sends line noise.
#[derive(Debug)]
pub struct LineNoise(Kind);

impl StepKind for LineNoise {
    const KEY: &'static str = "line_noise";

    fn parse(table: &toml::Table, cx: &ParseCtx<'_>) -> Result<Self, SourceError> {
        table[Self::KEY]
            .clone()
            .try_into()
            .map(LineNoise)
            .map_err(|e: toml::de::Error| {
                cx.error(format!(
                    "`line_noise` is \"oversize\", \"crc_error\" or \"garbage\": {}",
                    e.message().trim()
                ))
            })
    }
}

impl LineNoise {
    fn bytes(&self) -> Vec<u8> {
        match self.0 {
            Kind::Oversize => {
                let mut b = vec![0x5a; MAX_ENCODED_FRAME + 42];
                b.push(0);
                b
            }
            Kind::CrcError => {
                // StatusRequest, seq 0x7777, its CRC's last byte changed.
                let mut raw = vec![0x07, 0x77, 0x77, 0, 0, 0, 0];
                let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI).checksum(&raw[..3]) ^ 1;
                raw[3..].copy_from_slice(&crc.to_le_bytes());
                let mut wire = vec![0u8; raw.len() + 2];
                let n = penlab_protocol::codec::encode_frame(&raw, &mut wire).unwrap_or(0);
                wire.truncate(n);
                wire
            }
            Kind::Garbage => vec![0x09, 0x01, 0x02, 0x00],
        }
    }
}

impl Step for LineNoise {
    fn run<'a>(&'a self, cx: &'a mut TestCtx) -> StepFuture<'a> {
        Box::pin(async move {
            let bytes = self.bytes();
            cx.session
                .send_bytes("line noise", &bytes)
                .await
                .map_err(StepError::session)?;
            cx.log
                .push(format!("line noise: {:?}, {} bytes", self.0, bytes.len()));
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use penlab_protocol::codec::{DecodeError, Decoder};

    #[test]
    fn each_noise_fails_the_check_it_is_for() {
        let decode = |kind| {
            let bytes = LineNoise(kind).bytes();
            let mut d = Decoder::new();
            let mut out = Vec::new();
            d.feed(&bytes, |r| out.push(r));
            out
        };
        assert!(matches!(
            decode(Kind::Oversize)[..],
            [Err(DecodeError::Oversize { .. })]
        ));
        assert!(matches!(
            decode(Kind::CrcError)[..],
            [Err(DecodeError::Frame(_))]
        ));
        assert!(matches!(
            decode(Kind::Garbage)[..],
            [Err(DecodeError::Cobs { .. })]
        ));
    }
}
