//! `penlab ports`: the serial ports of this machine, with what USB says of
//! each, and the `usb:` address that finds a pen again after it resets.

use std::process::ExitCode;

use clap::Args;
use penlab_host::ports::{self, PortCandidate};

/// Arguments of `penlab ports`.
#[derive(Debug, Args)]
pub struct PortsArgs {
    /// A JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

/// Lists the ports; exit code 0, also when there are none.
pub fn run(args: PortsArgs) -> anyhow::Result<ExitCode> {
    let ports = ports::enumerate().map_err(|e| anyhow::anyhow!("listing the serial ports: {e}"))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json(&ports))?);
    } else if ports.is_empty() {
        println!("no serial ports found");
    } else {
        print!("{}", table(&ports));
    }
    Ok(ExitCode::SUCCESS)
}

fn json(ports: &[PortCandidate]) -> serde_json::Value {
    ports
        .iter()
        .map(|port| {
            let mut value = serde_json::to_value(port).unwrap_or_default();
            value["address"] = port
                .usb_address()
                .map_or(serde_json::Value::Null, Into::into);
            value
        })
        .collect()
}

fn table(ports: &[PortCandidate]) -> String {
    let rows: Vec<[String; 6]> = ports
        .iter()
        .map(|p| match &p.usb {
            Some(usb) => [
                p.path.clone(),
                p.usb_address().unwrap_or_default(),
                format!("{:04x}", usb.vid),
                format!("{:04x}", usb.pid),
                usb.serial.clone().unwrap_or_else(|| "-".into()),
                [&usb.manufacturer, &usb.product]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" "),
            ],
            None => [
                p.path.clone(),
                format!(
                    "({})",
                    serde_json::to_value(p.kind)
                        .unwrap_or_default()
                        .as_str()
                        .unwrap_or("?")
                ),
                "-".into(),
                "-".into(),
                "-".into(),
                String::new(),
            ],
        })
        .collect();
    let head = ["PATH", "ADDRESS", "VID", "PID", "SERIAL", "PRODUCT"].map(String::from);
    let mut widths = [0; 6];
    for row in std::iter::once(&head).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&head).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use penlab_host::ports::{PortKind, UsbInfo};

    fn ports() -> Vec<PortCandidate> {
        vec![
            PortCandidate {
                path: "/dev/ttyACM0".into(),
                kind: PortKind::Usb,
                usb: Some(UsbInfo {
                    vid: 0x1209,
                    pid: 0x0001,
                    serial: Some("PL14-000123".into()),
                    manufacturer: Some("Penlab".into()),
                    product: Some("Pen 14".into()),
                }),
            },
            PortCandidate {
                path: "/dev/ttyS0".into(),
                kind: PortKind::Pci,
                usb: None,
            },
        ]
    }

    #[test]
    fn the_table_shows_ids_serial_product_and_the_address_to_use() {
        let text = table(&ports());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "PATH          ADDRESS                    VID   PID   SERIAL       PRODUCT",
                "/dev/ttyACM0  usb:1209:0001:PL14-000123  1209  0001  PL14-000123  Penlab Pen 14",
                "/dev/ttyS0    (pci)                      -     -     -",
            ]
        );
    }

    #[test]
    fn json_has_every_field_and_the_address() {
        let value = json(&ports());
        assert_eq!(value[0]["path"], "/dev/ttyACM0");
        assert_eq!(value[0]["usb"]["vid"], "1209");
        assert_eq!(value[0]["usb"]["serial"], "PL14-000123");
        assert_eq!(value[0]["usb"]["product"], "Pen 14");
        assert_eq!(value[0]["address"], "usb:1209:0001:PL14-000123");
        assert_eq!(value[1]["kind"], "pci");
        assert!(value[1]["address"].is_null());
    }
}
