//! Streams for the decode benchmark: the same realistic pen telemetry in the
//! penlab protocol and in postcard over COBS, and a MAVLink v2 stream of
//! messages of similar sizes and mix.

use mavlink::dialects::common::{
    ATTITUDE_DATA, COMMAND_ACK_DATA, HIGHRES_IMU_DATA, MavMessage, SYS_STATUS_DATA,
};
use mavlink::{MavHeader, write_v2_msg};
use penlab_protocol::MAX_WIRE_FRAME;
use penlab_protocol::codec::encode_packet;
use penlab_protocol::message::Packet;
use penlab_protocol::samples;

/// A byte stream and the number of frames in it.
pub struct Stream {
    /// Bytes as they would arrive on the line.
    pub bytes: Vec<u8>,
    /// Frames in `bytes`.
    pub frames: u64,
}

/// `seconds` of full telemetry from a pen at 150 Hz, as packets.
pub fn telemetry_packets(seconds: u32) -> Vec<Packet> {
    (0..seconds)
        .flat_map(|s| samples::telemetry_second(15_000, (s * 94) as u16, s * 150))
        .collect()
}

/// The packets in the penlab protocol.
pub fn penlab_stream(packets: &[Packet]) -> Stream {
    let mut bytes = Vec::new();
    let mut frame = [0u8; MAX_WIRE_FRAME];
    for p in packets {
        let n = encode_packet(p, &mut frame).expect("fits");
        bytes.extend_from_slice(&frame[..n]);
    }
    Stream {
        bytes,
        frames: packets.len() as u64,
    }
}

/// The same packets in postcard over COBS (no CRC: postcard has none).
pub fn postcard_stream(packets: &[Packet]) -> Stream {
    let mut bytes = Vec::new();
    let mut frame = [0u8; 512];
    for p in packets {
        let used = postcard::to_slice_cobs(p, &mut frame).expect("fits");
        bytes.extend_from_slice(used);
    }
    Stream {
        bytes,
        frames: packets.len() as u64,
    }
}

/// MAVLink v2 frames in the same mix and of similar sizes: per second ten
/// HIGHRES_IMU (for strike batches), twenty SYS_STATUS (telemetry), sixty
/// ATTITUDE (pose) and four COMMAND_ACK.
pub fn mavlink_stream(seconds: u32) -> Stream {
    let mut bytes = Vec::new();
    let mut frames = 0;
    let mut seq = 0u8;
    let mut put = |msg: &MavMessage| {
        let header = MavHeader {
            system_id: 1,
            component_id: 1,
            sequence: seq,
        };
        seq = seq.wrapping_add(1);
        write_v2_msg(&mut bytes, header, msg).expect("in memory");
        frames += 1;
    };
    for s in 0..seconds {
        for i in 0..10u32 {
            put(&MavMessage::HIGHRES_IMU(HIGHRES_IMU_DATA {
                time_usec: u64::from(s * 1_000_000 + i * 100_000),
                xacc: 1.25,
                yacc: -0.5,
                zacc: 9.81,
                xgyro: 0.01,
                ygyro: 0.02,
                zgyro: 0.03,
                xmag: 0.2,
                ymag: 0.3,
                zmag: 0.4,
                abs_pressure: 1013.0,
                diff_pressure: 0.5,
                pressure_alt: 120.0,
                temperature: 31.5,
                fields_updated: Default::default(),
            }));
        }
        for _ in 0..20 {
            let status = SYS_STATUS_DATA {
                voltage_battery: 3_905,
                current_battery: 420,
                battery_remaining: 86,
                load: 512,
                drop_rate_comm: 1,
                errors_comm: 2,
                ..Default::default()
            };
            put(&MavMessage::SYS_STATUS(status));
        }
        for i in 0..60u32 {
            put(&MavMessage::ATTITUDE(ATTITUDE_DATA {
                time_boot_ms: s * 1_000 + i * 16,
                roll: 0.01,
                pitch: -0.02,
                yaw: 1.5,
                rollspeed: 0.001,
                pitchspeed: 0.002,
                yawspeed: 0.003,
            }));
        }
        for _ in 0..4 {
            put(&MavMessage::COMMAND_ACK(COMMAND_ACK_DATA::default()));
        }
    }
    Stream { bytes, frames }
}
