//! The difference heatmap of two sessions on the same surface: B − A
//! window density per texel, red where B put more punctures, blue where A
//! did, white where they agree, grey outside the treatment area.

use plotters::backend::{BitMapBackend, RGBPixel};
use plotters::prelude::*;
use plotters::style::FontFamily;

use crate::error::{Error, Result};
use crate::heatmap::{FONT, MIN_MAP_PX, register_font};
use crate::metrics::{Analysis, Class};

const LEGEND_W: u32 = 300;

/// Colour of a density difference `d` on a scale of ±`scale` (RGB).
pub fn diff_colour(d: f64, scale: f64) -> [u8; 3] {
    let s = if scale > 0.0 {
        (d / scale).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let fade = |c: f64| (255.0 - (255.0 - c) * s.abs()).round() as u8;
    if s >= 0.0 {
        [fade(202.0), fade(0.0), fade(32.0)]
    } else {
        [fade(5.0), fade(113.0), fade(176.0)]
    }
}

/// Renders B − A (`scale` punctures/cm² is full colour) with a legend naming both.
pub fn render(a: &Analysis, b: &Analysis, scale: f64, names: [&str; 2]) -> Result<image::RgbImage> {
    if (a.width, a.height) != (b.width, b.height) {
        return Err(Error::Invalid(format!(
            "the sessions' density grids differ ({}×{} and {}×{})",
            a.width, a.height, b.width, b.height
        )));
    }
    register_font()?;
    let (gw, gh) = (a.width, a.height);
    let px = MIN_MAP_PX.div_ceil(gw.max(gh)).max(1);
    let (mw, mh) = (gw * px, gh * px);
    let (w, h) = (mw + LEGEND_W, mh.max(360));
    let mut img = image::RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]));
    for i in 0..a.density.len() {
        let (x, y) = (i as u32 % gw, i as u32 / gw);
        let outside = a.class[i] == Class::Outside && b.class[i] == Class::Outside;
        let colour = if outside {
            [225, 225, 225]
        } else {
            diff_colour(f64::from(b.density[i] - a.density[i]), scale)
        };
        // Texel row 0 is v = 0: draw it at the bottom.
        let py = (gh - 1 - y) * px;
        for dy in 0..px {
            for dx in 0..px {
                img.put_pixel(x * px + dx, py + dy, image::Rgb(colour));
            }
        }
    }
    legend(img.as_mut(), (w, h), mw, scale, names)?;
    Ok(img)
}

fn legend(buf: &mut [u8], size: (u32, u32), x0: u32, scale: f64, names: [&str; 2]) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| Error::Render(e.to_string());
    let root = BitMapBackend::<RGBPixel>::with_buffer_and_format(buf, size)
        .map_err(|e| err(&e))?
        .into_drawing_area();
    let font = |px: u32| TextStyle::from((FontFamily::Name(FONT), px).into_font()).color(&BLACK);
    let x = x0 as i32 + 16;
    let mut y = 14;
    let line = |text: &str, px: u32, y: &mut i32| -> Result<()> {
        root.draw(&Text::new(text.to_owned(), (x, *y), font(px)))
            .map_err(|e| err(&e))?;
        *y += px as i32 + 6;
        Ok(())
    };
    line("B − A, punctures per cm²", 18, &mut y)?;
    line(&format!("A {}", short(names[0])), 13, &mut y)?;
    line(&format!("B {}", short(names[1])), 13, &mut y)?;
    y += 8;
    for k in 0..=8 {
        let d = scale * (1.0 - f64::from(k) / 4.0);
        let [r, g, b] = diff_colour(d, scale);
        root.draw(&Rectangle::new(
            [(x, y), (x + 28, y + 20)],
            RGBColor(r, g, b).filled(),
        ))
        .map_err(|e| err(&e))?;
        root.draw(&Rectangle::new(
            [(x, y), (x + 28, y + 20)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| err(&e))?;
        let label = match k {
            0 => format!("{d:+.0}  B denser"),
            4 => "0  the same".to_owned(),
            8 => format!("{d:+.0}  A denser"),
            _ => format!("{d:+.0}"),
        };
        root.draw(&Text::new(label, (x + 38, y + 3), font(14)))
            .map_err(|e| err(&e))?;
        y += 26;
    }
    y += 8;
    line("grey: not treatment area", 12, &mut y)?;
    line("map: u right, v up", 12, &mut y)?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

fn short(name: &str) -> &str {
    std::path::Path::new(name)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(name)
}
