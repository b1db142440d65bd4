//! One sample of every message, every field set to a distinct value, for
//! test vectors, documentation and benchmarks.

use heapless::{String, Vec};

use crate::message::*;

fn text(s: &str) -> String<MAX_TEXT> {
    let mut out = String::new();
    for c in s.chars() {
        if out.push(c).is_err() {
            break;
        }
    }
    out
}

/// A strike batch of `count` strikes (at most [`MAX_STRIKES`]) at
/// `rate_chz`, starting at strike number `first_strike`.
pub fn strike_batch(
    first_strike: u32,
    time_us: u32,
    count: usize,
    rate_chz: u16,
    depth_um: u16,
) -> StrikeBatch {
    let mut strikes = Vec::new();
    let period_10us = (10_000_000 / u32::from(rate_chz.max(1))).min(u32::from(u16::MAX)) as u16;
    for i in 0..count.min(MAX_STRIKES) {
        let offset_10us = period_10us.saturating_mul(i as u16);
        // Depth wobbles by a few micrometres as a real drive does.
        let wobble = [0u16, 3, 1, 4, 1, 5, 9, 2, 6][i % 9];
        let _ = strikes.push(Strike {
            offset_10us,
            depth_um: depth_um.saturating_add(wobble),
        });
    }
    StrikeBatch {
        first_strike,
        time_us,
        strikes,
    }
}

/// Every message type once, in type-code order.
pub fn every_message() -> [Message; 18] {
    [
        Message::Hello(Hello { major: 1, minor: 0 }),
        Message::SetDepth(SetDepth { depth_um: 1_500 }),
        Message::SetRate(SetRate { rate_chz: 11_700 }),
        Message::Start,
        Message::Stop,
        Message::EmergencyStop,
        Message::StatusRequest,
        Message::Heartbeat,
        Message::Ack(Ack {
            ack_seq: 0x1234,
            command: 0x02,
        }),
        Message::Nack(Nack {
            ack_seq: 0x0102,
            command: 0x02,
            reason: NackReason::OutOfRange,
        }),
        Message::Identity(Identity {
            protocol_major: 1,
            protocol_minor: 0,
            model: text("penlab-mock-14"),
            firmware: text("1.4.2+g3f9c2"),
            serial: text("PL14-000123"),
        }),
        Message::Capabilities(Capabilities {
            depth_min_um: 0,
            depth_max_um: 2_500,
            depth_step_um: 250,
            labelled_max_depth_um: 1_500,
            rate_min_chz: 11_700,
            rate_max_chz: 11_700,
            rate_step_chz: 0,
            needle_count: 14,
            max_current_ma: 850,
            watchdog_timeout_ms: 1_000,
            telemetry_period_ms: 50,
            features: FEATURE_FORCE | FEATURE_LOCKOUT,
        }),
        Message::Status(Status {
            state: DeviceState::Running,
            depth_set_um: 1_250,
            rate_set_chz: 11_700,
            cartridge: CartridgeState::Ready,
            active_faults: 0x0020,
        }),
        Message::Telemetry(Telemetry {
            time_us: 12_345_678,
            depth_um: 1_247,
            rate_chz: 11_689,
            current_ma: 412,
            force_mn: 1_850,
            battery_pct: 87,
            battery_mv: 3_912,
            temperature_dc: 318,
        }),
        Message::StrikeBatch(strike_batch(1_000, 12_300_000, 4, 11_700, 1_250)),
        Message::Pose(Pose {
            time_us: 12_345_999,
            position_um: [12_500, -3_250, 40_000],
            orientation_q15: [32_767, 0, -1_200, 300],
        }),
        Message::Fault(Fault {
            code: FaultCode::OverCurrent,
            active: true,
            detail: 912,
        }),
        Message::Cartridge(CartridgeEvent {
            event: CartridgeEventKind::ReuseLockout,
            cartridge_id: 0xC0FF_EE01,
            needle_count: 14,
        }),
    ]
}

/// One second of full telemetry from a pen running at `rate_chz` with pose
/// tracking: strike batches every 100 ms, telemetry every 50 ms, pose at
/// 60 Hz, and acknowledgements of the host's heartbeats (4 Hz).
pub fn telemetry_second(
    rate_chz: u16,
    start_seq: u16,
    start_strike: u32,
) -> impl Iterator<Item = Packet> {
    let strikes_per_batch = (usize::from(rate_chz) / 1_000).max(1); // per 100 ms
    let batches = (0..10u32).map(move |i| {
        Message::StrikeBatch(strike_batch(
            start_strike + i * strikes_per_batch as u32,
            i * 100_000,
            strikes_per_batch,
            rate_chz,
            1_250,
        ))
    });
    let telemetry = (0..20u32).map(|i| {
        Message::Telemetry(Telemetry {
            time_us: i * 50_000,
            depth_um: 1_248,
            rate_chz: 11_690,
            current_ma: 420,
            force_mn: 1_900,
            battery_pct: 86,
            battery_mv: 3_905,
            temperature_dc: 321,
        })
    });
    let poses = (0..60i32).map(|i| {
        Message::Pose(Pose {
            time_us: i as u32 * 16_667,
            position_um: [10_000 + i * 250, -2_000 + i * 40, 35_000],
            orientation_q15: [32_700, 1_200, -900, 250],
        })
    });
    let acks = (0..4u16).map(|i| {
        Message::Ack(Ack {
            ack_seq: 100 + i,
            command: 0x08,
        })
    });
    batches
        .chain(telemetry)
        .chain(poses)
        .chain(acks)
        .enumerate()
        .map(move |(i, message)| Packet {
            seq: start_seq.wrapping_add(i as u16),
            message,
        })
}
