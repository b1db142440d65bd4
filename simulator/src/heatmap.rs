//! The heatmap: the density class of each texel over UV space, with a
//! colour legend and the headline metrics, as a PNG.

use std::path::Path;
use std::sync::Once;

use plotters::backend::{BitMapBackend, RGBPixel};
use plotters::prelude::*;
use plotters::style::FontFamily;

use crate::error::{Error, Result};
use crate::metrics::{Analysis, Class};

pub(crate) const FONT: &str = "penlab-sans";
const LEGEND_W: u32 = 300;
/// Smallest map side in pixels: small grids are scaled up to stay legible.
pub(crate) const MIN_MAP_PX: u32 = 512;

/// Colour of each class (RGB).
pub fn class_colour(class: Class) -> [u8; 3] {
    match class {
        Class::Outside => [225, 225, 225],
        Class::Gap => [33, 49, 140],
        Class::Under => [116, 169, 207],
        Class::InBand => [49, 163, 84],
        Class::Over => [253, 174, 97],
        Class::Hot => [215, 25, 28],
    }
}

/// Registers the embedded legend font with plotters (once).
pub(crate) fn register_font() -> Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        // Embedded, so a headless machine needs no system fonts.
        if plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            epaint_default_fonts::HACK_REGULAR,
        )
        .is_err()
        {
            result = Err(Error::Render("embedded font rejected".into()));
        }
    });
    result
}

/// Renders the analysis as an RGB image: the map (v up) and a legend panel.
pub fn render(analysis: &Analysis) -> Result<image::RgbImage> {
    register_font()?;
    let (gw, gh) = (analysis.width, analysis.height);
    let scale = MIN_MAP_PX.div_ceil(gw.max(gh)).max(1);
    let (mw, mh) = (gw * scale, gh * scale);
    let (w, h) = (mw + LEGEND_W, mh.max(460));
    let mut img = image::RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]));
    for (i, &class) in analysis.class.iter().enumerate() {
        let (x, y) = (i as u32 % gw, i as u32 / gw);
        let colour = image::Rgb(class_colour(class));
        // Texel row 0 is v = 0: draw it at the bottom.
        let py = (gh - 1 - y) * scale;
        for dy in 0..scale {
            for dx in 0..scale {
                img.put_pixel(x * scale + dx, py + dy, colour);
            }
        }
    }
    legend(analysis, img.as_mut(), (w, h), mw)?;
    Ok(img)
}

fn legend(analysis: &Analysis, buf: &mut [u8], size: (u32, u32), x0: u32) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| Error::Render(e.to_string());
    let backend =
        BitMapBackend::<RGBPixel>::with_buffer_and_format(buf, size).map_err(|e| err(&e))?;
    let root = backend.into_drawing_area();
    let r = &analysis.report;
    let s = &r.settings;
    let font = |px: u32| TextStyle::from((FontFamily::Name(FONT), px).into_font()).color(&BLACK);
    let x = x0 as i32 + 16;
    let mut y = 14;
    let line = |text: &str, px: u32, y: &mut i32| -> Result<()> {
        root.draw(&Text::new(text.to_owned(), (x, *y), font(px)))
            .map_err(|e| err(&e))?;
        *y += px as i32 + 6;
        Ok(())
    };
    line("Punctures per cm²", 20, &mut y)?;
    line(&format!("surface {}", short(&r.surface)), 13, &mut y)?;
    line(&format!("tool {}", r.tool), 13, &mut y)?;
    line(&format!("window {} mm", s.window_mm), 13, &mut y)?;
    y += 6;
    let [lo, hi] = s.band_per_cm2;
    let entries = [
        (Class::Hot, format!("hot spot  > {}", s.hot_above_per_cm2)),
        (
            Class::Over,
            format!("over      {hi} – {}", s.hot_above_per_cm2),
        ),
        (Class::InBand, format!("in band   {lo} – {hi}")),
        (
            Class::Under,
            format!("under     {} – {lo}", s.gap_below_per_cm2),
        ),
        (Class::Gap, format!("gap       < {}", s.gap_below_per_cm2)),
        (Class::Outside, "not treatment area".to_owned()),
    ];
    for (class, label) in entries {
        let [cr, cg, cb] = class_colour(class);
        root.draw(&Rectangle::new(
            [(x, y), (x + 28, y + 20)],
            RGBColor(cr, cg, cb).filled(),
        ))
        .map_err(|e| err(&e))?;
        root.draw(&Rectangle::new(
            [(x, y), (x + 28, y + 20)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| err(&e))?;
        root.draw(&Text::new(label, (x + 38, y + 3), font(14)))
            .map_err(|e| err(&e))?;
        y += 28;
    }
    y += 10;
    line(
        &format!("coverage     {:.1} %", r.coverage * 100.0),
        15,
        &mut y,
    )?;
    line(
        &format!("mean density {:.0} /cm²", r.mean_density_per_cm2),
        15,
        &mut y,
    )?;
    line(&format!("evenness CV  {:.3}", r.evenness_cv), 15, &mut y)?;
    line(
        &format!("gaps {} ({:.2} cm²)", r.gaps.count, r.gaps.total_area_cm2),
        15,
        &mut y,
    )?;
    line(
        &format!(
            "hot spots {} ({:.2} cm²)",
            r.hot_spots.count, r.hot_spots.total_area_cm2
        ),
        15,
        &mut y,
    )?;
    line(
        &format!("depth violations {}", r.depth.violations),
        15,
        &mut y,
    )?;
    y += 6;
    line("map: u right, v up", 12, &mut y)?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

fn short(name: &str) -> &str {
    Path::new(name)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(name)
}

/// An image encoded as PNG, in memory.
pub fn png_bytes(img: &image::RgbImage) -> Result<Vec<u8>> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png)
        .map_err(|e| Error::Render(e.to_string()))?;
    Ok(bytes.into_inner())
}

/// Renders and writes the heatmap PNG.
pub fn write_png(analysis: &Analysis, path: &Path) -> Result<()> {
    let img = render(analysis)?;
    img.save_with_format(path, image::ImageFormat::Png)
        .map_err(|e| match e {
            image::ImageError::IoError(io) => Error::io(path, io),
            other => Error::Render(other.to_string()),
        })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::metrics::{MetricsConfig, analyse};
    use crate::session::{Session, StrikeSource};
    use crate::surfaces::{ZoneLimits, builtin};
    use crate::tool::ToolProfiles;

    #[test]
    fn heatmap_has_the_map_the_legend_and_encodes_as_png() {
        let pad = Arc::new(builtin("flat-pad", &ZoneLimits::shipped().unwrap(), 64).unwrap());
        let tool = Arc::new(ToolProfiles::shipped().unwrap().tool("stamp-35").unwrap());
        let session = Session::new(pad, tool, StrikeSource::Events, 4);
        let analysis = analyse(&session, &MetricsConfig::default()).unwrap();
        let img = render(&analysis).unwrap();
        // 64 texels scaled up to 512 px, plus the legend panel.
        assert_eq!(img.dimensions(), (512 + LEGEND_W, 512));
        // Untouched pad: all gap.
        assert_eq!(img.get_pixel(10, 10).0, class_colour(Class::Gap));
        // The legend drew dark text somewhere in its panel.
        let dark = (512..512 + LEGEND_W)
            .flat_map(|x| (0..40).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 80))
            .count();
        assert!(dark > 50, "legend title drawn ({dark} dark pixels)");
        let path = std::env::temp_dir().join(format!("penlab-heatmap-{}.png", std::process::id()));
        write_png(&analysis, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let _ = std::fs::remove_file(path);
        let err = write_png(&analysis, Path::new("/nonexistent-dir/x.png")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent-dir/x.png"), "{err}");
    }
}
