//! Prints the worked exchange used in PROTOCOL.md, one frame a line, as
//! `hex  # packet-json`: `cargo run -p penlab-protocol --example worked`.
use penlab_protocol::codec::encode_packet;
use penlab_protocol::message::*;
use penlab_protocol::{MAX_WIRE_FRAME, samples};

fn main() {
    let every = samples::every_message();
    let (identity, capabilities) = (every[10].clone(), every[11].clone());
    let status = |state, depth_set_um| {
        Message::Status(Status {
            state,
            depth_set_um,
            rate_set_chz: 11_700,
            cartridge: CartridgeState::Ready,
            active_faults: 0,
        })
    };
    let exchange = [
        ("host", 0, Message::Hello(Hello { major: 1, minor: 0 })),
        (
            "pen",
            0,
            Message::Ack(Ack {
                ack_seq: 0,
                command: MessageType::Hello.code(),
            }),
        ),
        ("pen", 1, identity),
        ("pen", 2, capabilities),
        ("pen", 3, status(DeviceState::Idle, 0)),
        ("host", 1, Message::SetDepth(SetDepth { depth_um: 1_250 })),
        (
            "pen",
            4,
            Message::Ack(Ack {
                ack_seq: 1,
                command: MessageType::SetDepth.code(),
            }),
        ),
        ("host", 2, Message::SetDepth(SetDepth { depth_um: 3_000 })),
        (
            "pen",
            5,
            Message::Nack(Nack {
                ack_seq: 2,
                command: MessageType::SetDepth.code(),
                reason: NackReason::OutOfRange,
            }),
        ),
        ("host", 3, Message::Start),
        (
            "pen",
            6,
            Message::Ack(Ack {
                ack_seq: 3,
                command: MessageType::Start.code(),
            }),
        ),
        ("pen", 7, status(DeviceState::Running, 1_250)),
        (
            "pen",
            8,
            Message::StrikeBatch(samples::strike_batch(0, 1_000_000, 3, 11_700, 1_250)),
        ),
        ("host", 4, Message::EmergencyStop),
        (
            "pen",
            9,
            Message::Ack(Ack {
                ack_seq: 4,
                command: MessageType::EmergencyStop.code(),
            }),
        ),
        ("pen", 10, status(DeviceState::EmergencyStopped, 1_250)),
    ];
    for (from, seq, message) in exchange {
        let packet = Packet { seq, message };
        let mut out = [0u8; MAX_WIRE_FRAME];
        let n = encode_packet(&packet, &mut out).expect("fits");
        let hex: Vec<String> = out[..n].iter().map(|b| format!("{b:02x}")).collect();
        println!(
            "{from:>4}: {}  # {}",
            hex.join(" "),
            serde_json::to_string(&packet).unwrap()
        );
    }
}
